"""明湾市 (Mingwan, demo city): a fictional island-and-mainland city made from a seed.

A fresh machine has no map data and no internet, yet `make demo` must show a living city, so
the city is generated. It sits in open sea at 119.6 E, 24.9 N so nobody mistakes it for a real
place, and it is built to exercise what matters in dispatch: the 明江 river and the 明湾水道
strait cut the city into three pieces joined by a few bridges and one undersea tunnel, so the
straight-line nearest ambulance is often not the fastest (like Haikou's Haidian island).

Everything here is pure: the same seed gives the same arrays and names, and nothing touches the
database (the make_demo_city command saves what `generate` returns). Coordinates are metres
east and north of the centre until the very end, when they become longitude and latitude.

How the streets are made: each of the three land pieces gets its own gently warped and rotated
street lattice (110 m between lines). A quadtree on the lattice decides which lines exist: dense
districts keep every line or every second, the countryside only every sixteenth, so blocks range
from 110 m lanes in the old town to 1.8 km rural squares, and a thinner line always ends on a
thicker one (T-junctions, not ragged ends). A few edges are removed (dead ends, merged blocks),
some lanes are one-way, and service spurs lead into residential compounds. Arterials, a ring
road, diagonals, waterfront roads, bridges and the expressway are drawn over it and noded where
they cross; the expressway and tunnel are grade-separated and joined by ramps.
"""

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import shapely
from pypinyin import lazy_pinyin
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from dispatch.models import PlaceKind
from fleet.models import RoadClass, UnitKind
from fleet.roads.data import RoadData
from hospitals.models import Capability

CITY_NAME = "明湾市"
CITY_NAME_EN = "Mingwan (demo city)"
DEFAULT_SEED = 120

LON0, LAT0 = 119.6, 24.9
EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG_LAT = EARTH_RADIUS_M * math.pi / 180
M_PER_DEG_LON = M_PER_DEG_LAT * math.cos(math.radians(LAT0))
HALF_EXTENT_M = 15_000.0
LATTICE_M = 110.0
MAX_ARC_M = 140.0  # arcs are at most this long (planar metres; the sphere adds < 0.1%)

WATER, NORTH, WEST, ISLAND = 0, 1, 2, 3  # land pieces: water splits them

# Free-flow speed per road class (km/h): what a car does outside the rush hour.
SPEED_KMH = {
    RoadClass.MOTORWAY: 90,
    RoadClass.TRUNK: 70,
    RoadClass.PRIMARY: 50,
    RoadClass.SECONDARY: 40,
    RoadClass.TERTIARY: 35,
    RoadClass.LINK: 40,
    RoadClass.UNCLASSIFIED: 35,
    RoadClass.RESIDENTIAL: 25,
    RoadClass.SERVICE: 15,
    RoadClass.LIVING_STREET: 15,
}


# ---------------------------------------------------------------------------------------------
# Geography


def coast_y(x: np.ndarray) -> np.ndarray:
    """Northern shore of the strait (the mainland's south coast)."""
    return -3600 + 600 * np.sin(x / 3100 + 1.0) + 250 * np.sin(x / 1300 + 0.3)


def island_top_y(x: np.ndarray) -> np.ndarray:
    """Northern shore of 明珠岛: the strait is 600 to 1,100 m wide, too wide to skip."""
    return coast_y(x) - (850 + 250 * np.sin(x / 2300 + 2.0))


def island_depth(x: np.ndarray) -> np.ndarray:
    """North-south depth of the island, tapering to its east and west points."""
    u = (np.asarray(x, dtype=float) - 500) / 9000
    return 8000 * np.clip(1 - u * u, 0, None) ** 0.35


def river_y(x: np.ndarray) -> np.ndarray:
    """Centre line of 明江, from the west edge south-east into the strait near x = -2 km."""
    return -3400 - 0.72 * (x + 2200) + 450 * np.sin(x / 1900 + 0.7)


def river_half_width(x: np.ndarray) -> np.ndarray:
    """Vertical half-width of the river band (it widens downstream, 280 to 420 m across)."""
    return (140 + 70 * np.clip((x + 15000) / 13000, 0, 1)) * 1.23


def region_of(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Which land piece each point is on (WATER, NORTH, WEST or ISLAND)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    inside = (np.abs(x) <= HALF_EXTENT_M) & (np.abs(y) <= HALF_EXTENT_M)
    land = y >= coast_y(x)
    river = np.abs(y - river_y(x)) < river_half_width(x)
    region = np.where(land & ~river, np.where(y > river_y(x), NORTH, WEST), WATER)
    top, depth = island_top_y(x), island_depth(x)
    region = np.where((y < top) & (y > top - depth) & (depth > 400), ISLAND, region)
    return np.where(inside, region, WATER).astype(np.int8)


@dataclass(frozen=True)
class District:
    name: str
    name_en: str
    region: int
    centre: tuple[float, float]
    reach: float  # relative size when splitting a land piece between districts


DISTRICTS = (
    District("明湾区", "Mingwan District", NORTH, (2600, 300), 1.3),
    District("北岭区", "Beiling District", NORTH, (1200, 8800), 1.0),
    District("东港区", "Donggang District", NORTH, (11000, 1500), 1.0),
    District("高新区", "Hi-tech Zone", NORTH, (-7500, 9800), 1.0),
    District("西江区", "Xijiang District", WEST, (-8500, -1000), 1.0),
    District("明珠区", "Mingzhu District", ISLAND, (1500, -8500), 1.0),
)

# Where people live: (x, y, sigma, peak). The old town sits on the coast east of the river mouth.
POPULATION = (
    (2300, -1500, 2300, 1.0),
    (4800, 1500, 2600, 0.75),
    (1200, 7000, 2300, 0.6),
    (10000, -500, 2200, 0.55),
    (-7000, 9300, 2300, 0.55),
    (-8000, -1200, 2400, 0.65),
    (2000, -6300, 2300, 0.7),
    (-1000, -10500, 1800, 0.3),
)


def density(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Relative population density: 0.03 in the countryside, 1 in the old town (water not excluded)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    rho = np.full(x.shape, 0.03)
    for cx, cy, sigma, peak in POPULATION:
        rho = np.maximum(rho, peak * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma**2)))
    return rho


def district_index(x: np.ndarray, y: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Index into DISTRICTS: the nearest district centre on the same land piece."""
    x, y, region = np.asarray(x, dtype=float), np.asarray(y, dtype=float), np.asarray(region)
    best = np.full(x.shape, np.inf)
    index = np.zeros(x.shape, dtype=np.int64)
    for k, d in enumerate(DISTRICTS):
        score = np.hypot(x - d.centre[0], y - d.centre[1]) / d.reach
        score = np.where((region == d.region) | (region == WATER), score, np.inf)
        better = score < best
        best, index = np.where(better, score, best), np.where(better, k, index)
    return index


def to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Metres east/north of the centre to WGS-84 (local equirectangular: < 0.1% off at 15 km)."""
    return LON0 + np.asarray(x) / M_PER_DEG_LON, LAT0 + np.asarray(y) / M_PER_DEG_LAT


def from_lonlat(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 to metres east/north of the centre (inverse of to_lonlat)."""
    return (np.asarray(lon) - LON0) * M_PER_DEG_LON, (np.asarray(lat) - LAT0) * M_PER_DEG_LAT


def haversine_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Great-circle metres, the way PostGIS and the router measure."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


# ---------------------------------------------------------------------------------------------
# Names


def pinyin_word(text: str) -> str:
    """Capitalised pinyin of a Chinese word, as on bilingual street signs: 明湾 -> Mingwan."""
    return "".join(lazy_pinyin(text)).capitalize()


def words(text: str) -> tuple[str, ...]:
    """A word list written as one space-separated string, the way such lists read best."""
    return tuple(text.split())


CN_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1..999 in Chinese numerals, as in numbered roads (科技十二路, 一百零五巷)."""
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    if hundreds == 0:
        head = "" if tens == 0 else ("十" if tens == 1 else CN_DIGITS[tens] + "十")
        return head + (CN_DIGITS[ones] if ones else "")
    if rest == 0:
        return CN_DIGITS[hundreds] + "百"
    middle = "零" if tens == 0 else CN_DIGITS[tens] + "十"
    return CN_DIGITS[hundreds] + "百" + middle + (CN_DIGITS[ones] if ones else "")


def ordinal(n: int) -> str:
    """English ordinal, as on numbered road signs (Keji 12th Road)."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# Two-character road-name stems, chosen to have one unambiguous pinyin reading.
ROAD_STEMS = words(
    "福民 兴业 文昌 新华 建设 和平 光明 胜利 友谊 团结 振兴 永安 安平 东升 瑞祥 育才 龙泉 凤凰 桂花 "
    "榕树 椰林 金盘 银湖 锦绣 丰泽 海秀 滨湖 青年 红旗 向阳 春晖 碧海 蓝天 白鹭 金鹿 祥和 康宁 裕华 "
    "富民 荣华 海光 云龙 盘龙 飞鹏 鹏程 腾飞 仁和 德胜 崇文 尚德 明德 惠民 利民 泰安 万福 百花 桃源 "
    "梅林 竹林 松涛 杏林 荔枝 芒果 椰风 海榆 学府 书院 工业 商业 城西 城东 城北 江滨 港湾 渔港 盐场 "
    "灯塔 航运 船坞 邮电 电力 交通 石桥 沙坝 金山 银河 宝华 嘉禾 新民 安康 民生 东风 前进 曙光 "
    "长安 南华 北辰 天宁 凤翔 龙腾 丹桂 紫荆 木棉 三角梅 玉兰 秀英 金牛 万寿 太平 新城 海滨 金湾 "
    "光华 华侨 兴华 华安 定海 湾头 金鸡 玉泉 清泉 甘泉 双桥 三元 四方 五福 六合 七星 八一 九龙 万安 "
    "千禧 正义 民主 文明 健康 新港 新桥 新塘 新安 兴隆 昌盛 丰收 华丰 景山 福寿 寿山 山海 天香 香樟 "
    "樟林 林海 海鸥 翠峰 望海 观海 听涛 涌泉 龙华 龙门 凤岗 凤鸣 鹤鸣 白云 青云 祥云 彩虹 红星 红光 "
    "星火 火炬 东海 南海 北海 金桥 银杏 宝岛 珊瑚 珍珠 贝壳 海燕 渔光 潮音 帆影"
)
# Stems for residential compound names (小区), and the endings of such names.
COMPOUND_STEMS = words(
    "碧水 金色 阳光 翠湖 海景 锦绣 幸福 春华 玉兰 紫荆 丽景 富康 安居 和谐 绿洲 天骄 星河 龙湾 凤凰 "
    "银滩 江畔 海韵 椰林 书香 嘉和 御景 东方 盛世 金域 蓝湾 君悦 华府 润园 翠竹 枫林 桃李 香榭 明珠 "
    "滨江 海悦 祥瑞 万景 怡景 雅典 新世纪 康乐 百合 金桂 紫薇 芙蓉 碧云 金海 天润 泰和 清雅 博雅 "
    "时代 未来 星光 月湖 日升 海天 江南 水岸 半岛 港湾 鹭岛 椰岛 白沙 金沙 银沙 红树林"
)
COMPOUND_ENDINGS = words(
    "苑 花园 家园 小区 新村 华庭 名苑 雅居 嘉园 公寓 山庄 名都 府 湾 里 城 佳苑 豪庭 花城 雅苑"
)


class NameBook:
    """Hands out unique Chinese names with their English, so no two roads share a name."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.names: list[tuple[str, str]] = [("", "")]  # index 0: unnamed
        self.index: dict[str, int] = {"": 0}
        self.stems = [str(stem) for stem in rng.permutation(ROAD_STEMS)]
        self.series: dict[str, int] = {}

    def add(self, zh: str, en: str) -> int:
        """Register a name (fixed arterial names); returns its index."""
        if zh not in self.index:
            self.index[zh] = len(self.names)
            self.names.append((zh, en))
        return self.index[zh]

    def street(self, ending: str, ending_en: str, fallback: str) -> int:
        """A new stem-based street name (福民路, Fumin Road), unique in the city.

        When the stems run out, the street joins the numbered series of `fallback` (明珠八路).
        """
        for _ in range(len(self.stems)):
            stem = self.stems.pop(0)
            self.stems.append(stem)
            if stem + ending not in self.index:
                return self.add(stem + ending, f"{pinyin_word(stem)} {ending_en}")
        return self.numbered(fallback, ending, ending_en)

    def numbered(self, stem: str, ending: str, ending_en: str) -> int:
        """The next road of a numbered series (科技三路, Keji 3rd Road), as new districts name them."""
        key = stem + ending
        self.series[key] = n = self.series.get(key, 0) + 1
        return self.add(f"{stem}{chinese_number(n)}{ending}", f"{pinyin_word(stem)} {ordinal(n)} {ending_en}")


# ---------------------------------------------------------------------------------------------
# Road soup: segments before noding


@dataclass
class Segments:
    """Straight road pieces with their attributes; `lattice` pieces never cross each other."""

    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    name: np.ndarray  # int32 index into NameBook.names
    road_class: np.ndarray  # int8
    oneway: np.ndarray  # bool, open only from (x0, y0) to (x1, y1)
    layer: np.ndarray  # int8: 0 at grade, 1 the grade-separated expressway and tunnel
    lattice: np.ndarray  # bool
    keep: np.ndarray  # bool: a deliberate dead end, not to be trimmed

    def __len__(self) -> int:
        return len(self.x0)

    def take(self, mask: np.ndarray) -> "Segments":
        return Segments(*(getattr(self, f)[mask] for f in SEGMENT_FIELDS))


SEGMENT_FIELDS = ("x0", "y0", "x1", "y1", "name", "road_class", "oneway", "layer", "lattice", "keep")


def concat_segments(parts: list[Segments]) -> Segments:
    return Segments(*(np.concatenate([getattr(p, f) for p in parts]) for f in SEGMENT_FIELDS))


def make_segments(
    xy0: np.ndarray,
    xy1: np.ndarray,
    name: np.ndarray | int,
    road_class: np.ndarray | int,
    *,
    oneway: np.ndarray | bool = False,
    layer: int = 0,
    lattice: bool = False,
    keep: np.ndarray | bool = False,
) -> Segments:
    n = len(xy0)
    return Segments(
        xy0[:, 0].astype(float),
        xy0[:, 1].astype(float),
        xy1[:, 0].astype(float),
        xy1[:, 1].astype(float),
        np.broadcast_to(name, n).astype(np.int32),
        np.broadcast_to(road_class, n).astype(np.int8),
        np.broadcast_to(oneway, n).astype(bool),
        np.full(n, layer, np.int8),
        np.full(n, lattice),
        np.broadcast_to(keep, n).astype(bool),
    )


# ---------------------------------------------------------------------------------------------
# The street lattice of one land piece


@dataclass(frozen=True)
class Lattice:
    """A rotated, warped grid of candidate streets covering the whole map; one per land piece."""

    region: int
    angle: float  # radians
    origin: tuple[float, float]
    offset: tuple[int, int]  # shifts the quadtree, so each seed puts the big streets elsewhere
    warp: tuple[float, ...]  # phases of the gentle warp
    size: int  # lines in each direction


def make_lattice(region: int, angle_deg: float, rng: np.random.Generator) -> Lattice:
    """The lattice of one land piece, turned by `angle_deg`; the seed picks its offset and warp."""
    size = int(2 * HALF_EXTENT_M * 1.45 / LATTICE_M) + 2
    half = size * LATTICE_M / 2
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    return Lattice(
        region=region,
        angle=math.radians(angle_deg),
        origin=(-(c - s) * half, -(s + c) * half),  # centres the rotated square on 0, 0
        offset=(int(rng.integers(16)), int(rng.integers(16))),
        warp=tuple(float(p) for p in rng.uniform(0, 2 * math.pi, 4)),
        size=size,
    )


def lattice_xy(lat: Lattice, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map (fractional) lattice indices to metres: rotate, then bend the lines a little.

    The warp's slope stays under about 0.35, so lines curve but never cross and blocks keep
    roughly their size, while streets in one district are not parallel to another's.
    """
    u, v = np.asarray(i, dtype=float) * LATTICE_M, np.asarray(j, dtype=float) * LATTICE_M
    c, s = math.cos(lat.angle), math.sin(lat.angle)
    qx, qy = lat.origin[0] + c * u - s * v, lat.origin[1] + s * u + c * v
    p = lat.warp
    x = qx + 220 * np.sin(qy / 1200 + p[0]) + 160 * np.sin((qx + qy) / 1500 + p[1])
    y = qy + 220 * np.sin(qx / 1300 + p[2]) + 160 * np.sin((qx - qy) / 1600 + p[3])
    return x, y


def line_level(index: np.ndarray) -> np.ndarray:
    """How important a lattice line is: 4 for every 16th line down to 0 for odd lines."""
    index = np.asarray(index)
    level = np.zeros(index.shape, dtype=np.int64)
    for k in (1, 2, 3, 4):
        level += index % (1 << k) == 0
    return level


def needed_step(rho: np.ndarray) -> np.ndarray:
    """Lattice lines from one street to the next that a density calls for: 1 (110 m) to 16 (1.8 km)."""
    return np.select([rho > 0.82, rho > 0.45, rho > 0.2, rho > 0.08], [1, 2, 4, 8], 16)


@dataclass
class Blocks:
    """The quadtree of one lattice, for block sizes 2, 4, 8 and 16 lines (32: the root level)."""

    cut: dict[int, np.ndarray]  # whether each block is cut in four by streets
    rho: dict[int, np.ndarray]  # density at each block's centre, 0 off this land piece
    centre: dict[int, tuple[np.ndarray, np.ndarray]]  # block centres in metres


def lattice_blocks(lat: Lattice) -> Blocks:
    """Which blocks are cut: a block is cut when its density wants a finer step and its parent is.

    A line is kept inside a block only when that block is cut, so every kept line ends on a
    coarser one: T-junctions where the density changes, never ragged ends.
    """
    blocks = Blocks({32: np.ones(((lat.size + 16) // 32 + 2,) * 2, dtype=bool)}, {}, {})
    for size in (16, 8, 4, 2):
        n = (lat.size + 16) // size + 2  # the offset shifts indices by up to 15
        bi, bj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        x, y = lattice_xy(lat, bi * size + size / 2 - lat.offset[0], bj * size + size / 2 - lat.offset[1])
        rho = np.where(region_of(x, y) == lat.region, density(x, y), 0.0)
        blocks.cut[size] = (needed_step(rho) <= size // 2) & blocks.cut[size * 2][bi // 2, bj // 2]
        blocks.rho[size], blocks.centre[size] = rho, (x, y)
    return blocks


@dataclass
class LatticeStreets:
    segments: Segments
    compound_sites: np.ndarray  # (n, 2) metres: inner ends of driveways into compounds
    village_sites: np.ndarray  # (n, 2) metres: ends of country lanes to villages


@dataclass
class EdgeSet:
    """Lattice edges of one direction: edge k runs from node `along` to `along + 1` on `line`."""

    along: np.ndarray  # shifted index along the line
    line: np.ndarray  # shifted line index
    level: np.ndarray
    xy0: np.ndarray
    xy1: np.ndarray
    rho: np.ndarray  # density at the middle
    axis: int  # 0: lines of constant j; 1: lines of constant i

    def block(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Index (i, j) of the block of `size` lines holding each edge."""
        a, b = self.along // size, self.line // size
        return (a, b) if self.axis == 0 else (b, a)


@cache
def piece_bounds(region: int) -> tuple[float, float, float, float]:
    """Bounding box (x0, x1, y0, y1) of a land piece, with a margin, from a 100 m survey."""
    ticks = np.arange(-HALF_EXTENT_M, HALF_EXTENT_M + 1, 100.0)
    gx, gy = np.meshgrid(ticks, ticks)
    mine = region_of(gx, gy) == region
    margin = 200.0
    return (
        float(gx[mine].min()) - margin,
        float(gx[mine].max()) + margin,
        float(gy[mine].min()) - margin,
        float(gy[mine].max()) + margin,
    )


def lattice_edges(lat: Lattice, rng: np.random.Generator) -> list[EdgeSet]:
    """The lattice edges on this land piece (both ends and the middle), nodes jittered a few metres."""
    n = lat.size
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    x, y = lattice_xy(lat, ii, jj)
    x, y = x + rng.uniform(-4, 4, x.shape), y + rng.uniform(-4, 4, y.shape)
    x0, x1, y0, y1 = piece_bounds(lat.region)
    near = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)  # most of the lattice is elsewhere
    on_land = np.zeros(x.shape, dtype=bool)
    on_land[near] = region_of(x[near], y[near]) == lat.region
    sets = []
    for axis in (0, 1):
        a = (slice(0, n - 1), slice(None)) if axis == 0 else (slice(None), slice(0, n - 1))
        b = (slice(1, n), slice(None)) if axis == 0 else (slice(None), slice(1, n))
        ei, ej = ii[a].ravel() + lat.offset[0], jj[a].ravel() + lat.offset[1]
        xy0 = np.column_stack([x[a].ravel(), y[a].ravel()])
        xy1 = np.column_stack([x[b].ravel(), y[b].ravel()])
        ends = np.flatnonzero(on_land[a].ravel() & on_land[b].ravel())
        mid = (xy0[ends] + xy1[ends]) / 2
        land = ends[region_of(mid[:, 0], mid[:, 1]) == lat.region]
        along, line = (ei, ej) if axis == 0 else (ej, ei)
        along, line, xy0, xy1 = along[land], line[land], xy0[land], xy1[land]
        mid = (xy0 + xy1) / 2
        sets.append(EdgeSet(along, line, line_level(line), xy0, xy1, density(mid[:, 0], mid[:, 1]), axis))
    return sets


def lattice_streets(lat: Lattice, book: NameBook, rng: np.random.Generator) -> LatticeStreets:
    """The streets of one land piece: kept lattice edges with class, names, one-way lanes, spurs."""
    blocks = lattice_blocks(lat)
    cut = blocks.cut
    spur_dice = {size: rng.random(cut[size].shape) for size in (2, 4, 8, 16)}
    parts, compounds, villages = [], [], []
    for edges in lattice_edges(lat, rng):
        kept = edges.level >= 4
        for level in range(4):
            kept |= (edges.level == level) & cut[2 ** (level + 1)][edges.block(2 ** (level + 1))]
        # Irregularity: a few missing links make dead ends and merged blocks. Rural links are
        # 16 edges long, so their per-edge odds are low (1.5% per edge is a fifth of the links).
        chance = np.where(edges.level >= 4, np.where(edges.rho < 0.1, 0.015, 0.005), 0.04)
        kept &= rng.random(len(kept)) >= chance
        oneway = one_way_lanes(edges, rng)
        start = np.where(oneway[:, 1:2], edges.xy1, edges.xy0)  # column 1: runs against the lattice
        end = np.where(oneway[:, 1:2], edges.xy0, edges.xy1)
        name = name_lattice_lines(edges, kept, lat, book)
        cls = lattice_class(edges.level, edges.rho)
        parts.append(
            make_segments(start[kept], end[kept], name[kept], cls[kept], oneway=oneway[kept, 0], lattice=True)
        )
        spur, site, village = spurs(edges, blocks, spur_dice)
        spur &= ~kept
        cls = np.where(village, RoadClass.UNCLASSIFIED, RoadClass.SERVICE)
        parts.append(make_segments(edges.xy0[spur], edges.xy1[spur], 0, cls[spur], lattice=True, keep=True))
        has_site = spur & ~np.isnan(site[:, 0])
        compounds.append(site[has_site & ~village])
        villages.append(site[has_site & village])
    return LatticeStreets(concat_segments(parts), np.concatenate(compounds), np.concatenate(villages))


def lattice_class(level: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Road class from a lattice line's importance and the density around it."""
    conditions = [
        (level >= 4) & (rho > 0.15),
        level >= 4,
        level == 3,
        (level == 2) & (rho > 0.45),
        level >= 1,
    ]
    classes = [
        RoadClass.SECONDARY,
        RoadClass.UNCLASSIFIED,
        RoadClass.TERTIARY,
        RoadClass.TERTIARY,
        RoadClass.RESIDENTIAL,
    ]
    return np.select(conditions, classes, RoadClass.LIVING_STREET).astype(np.int8)


def one_way_lanes(edges: EdgeSet, rng: np.random.Generator) -> np.ndarray:
    """(one-way, against the lattice) per edge: 40% of the minor lines in the dense core.

    Only lines of level 0 and 1 are one-way, and they always run between two-way streets, so
    the network stays strongly connected.
    """
    lines = int(edges.line.max()) + 1
    one_way_line, reverse_line = rng.random(lines) < 0.4, rng.random(lines) < 0.5
    oneway = one_way_line[edges.line] & (edges.level <= 1) & (edges.rho > 0.55)
    return np.column_stack([oneway, oneway & reverse_line[edges.line]])


def spurs(
    edges: EdgeSet, blocks: Blocks, dice: dict[int, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dead ends from a block's side to its centre: compound driveways and village lanes.

    An uncut block whose parent is cut is a real block ringed by streets; some get one spur
    along their middle line from the lower side (half the block's dice picks lines of constant
    j, the other half lines of constant i, so a block never gets two). Residential blocks of 220
    to 440 m get a compound, rural blocks of 0.9 to 1.8 km a village. Returns the spur edges,
    the site at the centre (on the spur's last edge only, else NaN) and whether it is a village.
    """
    pick = np.zeros(len(edges.along), dtype=bool)
    village = np.zeros(len(edges.along), dtype=bool)
    site = np.full((len(edges.along), 2), np.nan)
    for size in (2, 4, 8, 16):
        half = size // 2
        bi, bj = edges.block(size)
        leaf = ~blocks.cut[size][bi, bj] & blocks.cut[size * 2][bi // 2, bj // 2]
        rho = blocks.rho[size][bi, bj]
        wanted = (rho > 0.15) & (rho < 0.85) if size <= 4 else (rho > 0) & (rho < 0.12)
        odds = 0.22 if size <= 4 else 0.3
        roll = dice[size][bi, bj]
        this_axis = (roll < odds / 2) if edges.axis == 0 else (roll >= odds / 2) & (roll < odds)
        on_middle = (edges.line % size == half) & (edges.along % size < half)
        chosen = on_middle & leaf & wanted & this_axis
        pick |= chosen
        village |= chosen & (size >= 8)
        last = chosen & (edges.along % size == half - 1)
        cx, cy = blocks.centre[size]
        site[last] = np.column_stack([cx[bi[last], bj[last]], cy[bi[last], bj[last]]])
    return pick, site, village


# Numbered road series of the new districts (科技一路, 科技二路...): stems per lattice direction.
NUMBERED_SERIES = {"高新区": ("科技", "创新"), "东港区": ("港城", "临港")}
# Stems of the numbered lanes (巷) of each district.
LANE_STEMS = {
    "明湾区": "湾中",
    "北岭区": "北岭",
    "东港区": "东港",
    "高新区": "科创",
    "西江区": "西江",
    "明珠区": "明珠",
}


def name_lattice_lines(edges: EdgeSet, kept: np.ndarray, lat: Lattice, book: NameBook) -> np.ndarray:
    """A name per edge: one per lattice line and district (names change at district borders).

    Lines of level 2 and up are 路 or 街 (numbered in the new districts), level 1 numbered
    lanes (巷), level 0 (old-town alleys) stay unnamed, like many alleys on real maps.
    """
    mid = (edges.xy0 + edges.xy1) / 2
    district = district_index(mid[:, 0], mid[:, 1], np.full(len(mid), lat.region))
    named = kept & (edges.level >= 1)
    keys, inverse = np.unique(edges.line[named] * len(DISTRICTS) + district[named], return_inverse=True)
    levels = np.zeros(len(keys), dtype=np.int64)
    np.maximum.at(levels, inverse, edges.level[named])
    ids = [
        line_name(book, DISTRICTS[k % len(DISTRICTS)], edges.axis, lv)
        for k, lv in zip(keys.tolist(), levels.tolist(), strict=True)
    ]
    name = np.zeros(len(kept), dtype=np.int32)
    name[named] = np.asarray(ids, dtype=np.int32)[inverse]
    return name


def line_name(book: NameBook, district: District, axis: int, level: int) -> int:
    """The name of one lattice line in one district, by its importance and direction."""
    if level <= 1:
        return book.numbered(LANE_STEMS[district.name], "巷", "Lane")
    if district.name in NUMBERED_SERIES:
        return book.numbered(NUMBERED_SERIES[district.name][axis], "路", "Road")
    if level >= 3 or axis == 0:
        return book.street("路", "Road", LANE_STEMS[district.name])
    return book.street("街", "Street", LANE_STEMS[district.name])


# ---------------------------------------------------------------------------------------------
# Arterials, waterfronts, bridges and the expressway, drawn over the lattice


@dataclass(frozen=True)
class RoadSpec:
    name: str
    name_en: str
    road_class: int
    points: np.ndarray  # (n, 2) metres
    layer: int = 0  # 1: grade-separated, meets other roads only through ramps
    over_water: bool = False  # a bridge or tunnel: not cut at the shore
    water_name: tuple[str, str] | None = None  # name of the part over water, when it differs


def wobble(
    points: tuple[tuple[float, float], ...], rng: np.random.Generator, metres: float = 60
) -> np.ndarray:
    """Design points moved a little per seed (ends too), so each seed's roads differ."""
    return np.asarray(points, dtype=float) + rng.normal(0, metres, (len(points), 2))


def along(
    curve: Callable[[np.ndarray], np.ndarray], x_from: float, x_to: float, offset: float, step: float = 250
) -> np.ndarray:
    """Points every `step` metres of x on a curve y = curve(x) + offset (a waterfront road)."""
    x = np.linspace(x_from, x_to, int(abs(x_to - x_from) / step) + 1)
    return np.column_stack([x, curve(x) + offset])


def river_bank(x: np.ndarray, side: int, setback: float) -> np.ndarray:
    """y of a road `setback` metres from the river's edge, on the north (+1) or south (-1) bank."""
    return river_y(x) + side * (river_half_width(x) + setback)


def island_shore(x: np.ndarray, inset: float, north: bool) -> np.ndarray:
    """y of a road `inset` metres inland from the island's north or south shore."""
    top = island_top_y(x)
    return top - inset if north else top - island_depth(x) + inset


def ellipse(cx: float, cy: float, rx: float, ry: float, rng: np.random.Generator) -> np.ndarray:
    """A closed ring road, its radius varying a little so it is no perfect ellipse."""
    t = np.linspace(0, 2 * math.pi, 97)
    r = 1 + 0.03 * np.sin(3 * t + rng.uniform(0, 6.3)) + 0.02 * np.sin(5 * t + rng.uniform(0, 6.3))
    points = np.column_stack([cx + rx * r * np.cos(t), cy + ry * r * np.sin(t)])
    points[-1] = points[0]
    return points


def river_bridge(x: float, name: str, name_en: str, rng: np.random.Generator) -> RoadSpec:
    """A bridge across 明江, square to the current, reaching 650 m into each bank."""
    x += rng.normal(0, 80)
    slope = float((river_y(np.array(x + 1.0)) - river_y(np.array(x - 1.0))) / 2)
    normal = np.array([-slope, 1.0]) / math.hypot(slope, 1.0)
    centre = np.array([x, float(river_y(np.array(x)))])
    reach = float(river_half_width(np.array(x))) / math.hypot(slope, 1.0) + 650
    return RoadSpec(
        name,
        name_en,
        RoadClass.PRIMARY,
        np.array([centre - reach * normal, centre + reach * normal]),
        over_water=True,
    )


def strait_bridge(x: float, name: str, name_en: str, rng: np.random.Generator) -> RoadSpec:
    """A bridge over 明湾水道 from the mainland to the island, 500 m into each shore."""
    x += rng.normal(0, 80)
    north = float(coast_y(np.array(x))) + 500
    south = float(island_top_y(np.array(x))) - 500
    return RoadSpec(name, name_en, RoadClass.TRUNK, np.array([[x, north], [x + 150, south]]), over_water=True)


# Hand-drawn main roads: (name, English, class, design points in metres); each seed wobbles them.
DRAWN_ROADS = (
    (
        "明湾路",
        "Mingwan Road",
        RoadClass.PRIMARY,
        ((-6500, -700), (-2000, -900), (2500, -1300), (7000, -800), (11000, -1300), (15000, -1000)),
    ),
    ("人民路", "Renmin Road", RoadClass.PRIMARY, ((1000, -3000), (800, 3000), (1300, 9000), (900, 15000))),
    (
        "解放路",
        "Jiefang Road",
        RoadClass.PRIMARY,
        ((5600, -3200), (5900, 4000), (5300, 10000), (5600, 15000)),
    ),
    (
        "东港大道",
        "Donggang Avenue",
        RoadClass.PRIMARY,
        ((9800, -3800), (10200, 3000), (9500, 9000), (10500, 15000)),
    ),
    ("建设大道", "Jianshe Avenue", RoadClass.PRIMARY, ((2500, -1300), (8000, 5000), (14500, 12500))),
    ("新华路", "Xinhua Road", RoadClass.PRIMARY, ((-300, -1800), (-5000, 6000), (-10500, 15000))),
    (
        "北岭大道",
        "Beiling Avenue",
        RoadClass.PRIMARY,
        ((-9000, 6200), (-2000, 6600), (5000, 6000), (15000, 6800)),
    ),
    ("高新大道", "Gaoxin Avenue", RoadClass.PRIMARY, ((-15000, 9200), (-8000, 9000), (-1500, 9600))),
    (
        "西江大道",
        "Xijiang Avenue",
        RoadClass.PRIMARY,
        ((-15000, 600), (-10000, -700), (-6000, -2000), (-3300, -3300)),
    ),
    ("西江中路", "Xijiang Middle Road", RoadClass.SECONDARY, ((-9000, -3600), (-9300, 1500))),
)
RIVER_BRIDGES = (
    (-12500, "西江大桥", "Xijiang Bridge"),
    (-8800, "明江大桥", "Mingjiang Bridge"),
    (-5300, "江湾大桥", "Jiangwan Bridge"),
    (-3200, "江口大桥", "Jiangkou Bridge"),
)
STRAIT_BRIDGES = ((-5200, "明湾大桥", "Mingwan Bridge"), (8300, "明珠大桥", "Mingzhu Bridge"))
TUNNEL = ("明湾海底隧道", "Mingwan Undersea Tunnel")
EXPRESSWAY_JUNCTION = (7000.0, 10600.0)
EXPRESSWAY = (
    (-15000, 10800),
    (-8000, 11900),
    (0, 11600),
    EXPRESSWAY_JUNCTION,
    (11500, 7600),
    (12900, 2000),
    (12300, -2300),
)
# An urban expressway from the ring expressway south, under the strait, onto the island.
ISLAND_EXPRESSWAY = (
    EXPRESSWAY_JUNCTION,
    (6700, 6000),
    (5000, 1800),
    (4100, -1800),
    (3600, -6500),
    (3200, -9500),
)


def arterial_roads(rng: np.random.Generator) -> list[RoadSpec]:
    """The named main roads of the city, in metres; water later cuts those not over it."""
    drawn = [RoadSpec(name, en, cls, wobble(points, rng)) for name, en, cls, points in DRAWN_ROADS]
    return (
        drawn
        + [RoadSpec("明湾环路", "Mingwan Ring Road", RoadClass.TRUNK, ellipse(2800, 2200, 5000, 4200, rng))]
        + waterfront_roads(rng)
        + island_roads(rng)
        + [river_bridge(x, name, en, rng) for x, name, en in RIVER_BRIDGES]
        + [strait_bridge(x, name, en, rng) for x, name, en in STRAIT_BRIDGES]
        + [
            RoadSpec(
                "明湾高速", "Mingwan Expressway", RoadClass.MOTORWAY, np.array(EXPRESSWAY, float), layer=1
            ),
            RoadSpec(
                "明珠快速路",
                "Mingzhu Expressway",
                RoadClass.TRUNK,
                np.array(ISLAND_EXPRESSWAY, float),
                layer=1,
                over_water=True,
                water_name=TUNNEL,
            ),
        ]
    )


def waterfront_roads(rng: np.random.Generator) -> list[RoadSpec]:
    """Roads along the sea front and both river banks: the ones a waterside city is built on."""
    setback = 230 + rng.normal(0, 20)
    return [
        RoadSpec("滨海大道", "Binhai Avenue", RoadClass.PRIMARY, along(coast_y, -2400, 15000, setback)),
        RoadSpec("西湾路", "Xiwan Road", RoadClass.SECONDARY, along(coast_y, -15000, -2400, 220)),
        RoadSpec(
            "滨江大道",
            "Binjiang Avenue",
            RoadClass.PRIMARY,
            along(lambda x: river_bank(x, 1, 190), -15000, -1800, 0),
        ),
        RoadSpec(
            "江南路",
            "Jiangnan Road",
            RoadClass.PRIMARY,
            along(lambda x: river_bank(x, -1, 190), -15000, -2400, 0),
        ),
    ]


def island_roads(rng: np.random.Generator) -> list[RoadSpec]:
    """明珠岛: an avenue along its length, a ring road round the shore and three cross roads."""
    north = along(lambda x: island_shore(x, 200, True), -8200, 9300, 0)
    south = along(lambda x: island_shore(x, 200, False), 9300, -8200, 0)
    roads = [
        RoadSpec(
            "明珠大道",
            "Mingzhu Avenue",
            RoadClass.PRIMARY,
            along(lambda x: island_top_y(x) - 0.45 * island_depth(x), -7600, 9000, 0),
        ),
        RoadSpec("环岛路", "Island Ring Road", RoadClass.SECONDARY, np.vstack([north, south, north[:1]])),
    ]
    for x, name, en in (
        (-3500, "白沙路", "Baisha Road"),
        (1500, "明珠路", "Mingzhu Road"),
        (6000, "海景路", "Haijing Road"),
    ):
        at = np.array(x + rng.normal(0, 100))
        ends = [
            [float(at), float(island_shore(at, 150, True))],
            [float(at), float(island_shore(at, 150, False))],
        ]
        roads.append(RoadSpec(name, en, RoadClass.SECONDARY, np.array(ends)))
    return roads


def densify_polyline(points: np.ndarray, step: float) -> np.ndarray:
    """Insert points so no piece is longer than `step`, keeping the given points."""
    lengths = np.hypot(*np.diff(points, axis=0).T)
    pieces = np.maximum(1, np.ceil(lengths / step)).astype(int)
    out = [points[:1]]
    for k, n in enumerate(pieces):
        t = np.arange(1, n + 1)[:, None] / n
        out.append(points[k] + t * (points[k + 1] - points[k]))
    return np.vstack(out)


def road_segments(spec: RoadSpec, book: NameBook) -> Segments:
    """A main road as segments, cut where it meets water unless it is a bridge or tunnel."""
    points = densify_polyline(spec.points, 100.0)
    xy0, xy1 = points[:-1], points[1:]
    mid = (xy0 + xy1) / 2
    r0, r1 = region_of(xy0[:, 0], xy0[:, 1]), region_of(xy1[:, 0], xy1[:, 1])
    rm = region_of(mid[:, 0], mid[:, 1])
    name = np.full(len(xy0), book.add(spec.name, spec.name_en), dtype=np.int32)
    if spec.over_water:
        inside = (np.abs(points) <= HALF_EXTENT_M).all(axis=1)
        keep = inside[:-1] & inside[1:]
        if spec.water_name:
            name[rm == WATER] = book.add(*spec.water_name)
    else:
        keep = (r0 != WATER) & (r0 == r1) & (r0 == rm)
    return make_segments(xy0[keep], xy1[keep], name[keep], spec.road_class, layer=spec.layer)


def clear_parallels(lattice: Segments, main: Segments, distance: float = 45.0) -> np.ndarray:
    """Mask of lattice segments to keep: drop those running alongside a main road.

    A lattice street a few metres from a main road and nearly parallel to it would be a
    phantom second carriageway with slivers of blocks between.
    """
    surface = main.layer == 0
    tree = shapely.STRtree(segment_lines(main.take(surface)))
    mid = shapely.points((lattice.x0 + lattice.x1) / 2, (lattice.y0 + lattice.y1) / 2)
    lat_i, main_i = tree.query(mid, predicate="dwithin", distance=distance)
    m = main.take(surface)
    d1 = np.column_stack([lattice.x1 - lattice.x0, lattice.y1 - lattice.y0])[lat_i]
    d2 = np.column_stack([m.x1 - m.x0, m.y1 - m.y0])[main_i]
    cos = np.abs((d1 * d2).sum(axis=1)) / (np.hypot(*d1.T) * np.hypot(*d2.T) + 1e-9)
    keep = np.ones(len(lattice), dtype=bool)
    keep[lat_i[cos > math.cos(math.radians(25))]] = False
    return keep


def segment_lines(seg: Segments) -> np.ndarray:
    """The segments as shapely line strings, for spatial queries."""
    coords = np.stack([np.column_stack([seg.x0, seg.y0]), np.column_stack([seg.x1, seg.y1])], axis=1)
    return shapely.linestrings(coords)


# ---------------------------------------------------------------------------------------------
# Noding and assembly: from segments to a strongly connected network of short arcs


@dataclass
class Edges:
    """Undirected road pieces between vertices; a one-way piece is open only from u to v."""

    u: np.ndarray
    v: np.ndarray
    name: np.ndarray
    road_class: np.ndarray
    oneway: np.ndarray
    keep: np.ndarray
    layer: np.ndarray

    def __len__(self) -> int:
        return len(self.u)

    def take(self, index: np.ndarray) -> "Edges":
        return Edges(*(getattr(self, f)[index] for f in EDGE_FIELDS))


EDGE_FIELDS = ("u", "v", "name", "road_class", "oneway", "keep", "layer")


def concat_edges(parts: list[Edges]) -> Edges:
    return Edges(*(np.concatenate([getattr(p, f) for p in parts]) for f in EDGE_FIELDS))


def crossings(seg: Segments) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where segments of the same layer cross: (segment a, segment b, t along a, t along b).

    Lattice segments never cross each other by construction, so only main-road segments are
    probed against everything (an STRtree query, then the line-line formula vectorised).
    """
    lines = segment_lines(seg)
    probe = np.flatnonzero(~seg.lattice)
    found, b = shapely.STRtree(lines).query(lines[probe], predicate="intersects")
    a = probe[found]
    ok = (a != b) & (seg.layer[a] == seg.layer[b]) & (seg.lattice[b] | (a < b))
    a, b = a[ok], b[ok]
    adx, ady = seg.x1[a] - seg.x0[a], seg.y1[a] - seg.y0[a]
    bdx, bdy = seg.x1[b] - seg.x0[b], seg.y1[b] - seg.y0[b]
    wx, wy = seg.x0[b] - seg.x0[a], seg.y0[b] - seg.y0[a]
    denom = adx * bdy - ady * bdx
    parallel = np.abs(denom) <= 1e-6 * np.hypot(adx, ady) * np.hypot(bdx, bdy)
    denom = np.where(parallel, 1.0, denom)
    ta, tb = (wx * bdy - wy * bdx) / denom, (wx * ady - wy * adx) / denom
    eps = 1e-9
    ok = ~parallel & (ta >= -eps) & (ta <= 1 + eps) & (tb >= -eps) & (tb <= 1 + eps)
    return a[ok], b[ok], np.clip(ta[ok], 0, 1), np.clip(tb[ok], 0, 1)


def weld(
    x: np.ndarray, y: np.ndarray, layer: np.ndarray, tolerance: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Merge points closer than `tolerance` on the same layer: (label per point, xy per vertex).

    Vertices are numbered in order of their first point, so the numbering is stable.
    """
    points = np.column_stack([x, y, layer * 1e7])
    pairs = cKDTree(points).query_pairs(tolerance, output_type="ndarray")
    n = len(x)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    count, labels = connected_components(graph, directed=False)
    first = np.full(count, n)
    np.minimum.at(first, labels, np.arange(n))
    order = np.argsort(first)
    rank = np.empty(count, dtype=np.int64)
    rank[order] = np.arange(count)
    return rank[labels], np.column_stack([x, y])[first[order]]


def node(seg: Segments) -> tuple[np.ndarray, np.ndarray, Edges]:
    """Cut segments at their crossings and weld shared points: vertex xy, vertex layer, edges."""
    m = len(seg)
    a, b, ta, tb = crossings(seg)
    px = seg.x0[a] + ta * (seg.x1[a] - seg.x0[a])
    py = seg.y0[a] + ta * (seg.y1[a] - seg.y0[a])
    owner = np.concatenate([np.arange(m), np.arange(m), a, b])
    t = np.concatenate([np.zeros(m), np.ones(m), ta, tb])
    x = np.concatenate([seg.x0, seg.x1, px, px])
    y = np.concatenate([seg.y0, seg.y1, py, py])
    order = np.lexsort((t, owner))
    owner, x, y = owner[order], x[order], y[order]
    label, xy = weld(x, y, seg.layer[owner])
    vertex_layer = np.zeros(len(xy), dtype=np.int8)
    vertex_layer[label] = seg.layer[owner]
    same = owner[1:] == owner[:-1]
    u, v, s = label[:-1][same], label[1:][same], owner[:-1][same]
    real = u != v
    u, v, s = u[real], v[real], s[real]
    # The same piece of road from two segments (overlapping roads): keep the first, a main road.
    _, first = np.unique(np.column_stack([np.minimum(u, v), np.maximum(u, v)]), axis=0, return_index=True)
    first.sort()
    u, v, s = u[first], v[first], s[first]
    edges = Edges(u, v, seg.name[s], seg.road_class[s], seg.oneway[s], seg.keep[s], seg.layer[s])
    return xy, vertex_layer, edges


def trim_stubs(xy: np.ndarray, edges: Edges, shorter_than: float = 60.0, rounds: int = 2) -> Edges:
    """Drop the slivers of dead end a crossing leaves just past a road's end."""
    for _ in range(rounds):
        degree = np.bincount(np.concatenate([edges.u, edges.v]), minlength=len(xy))
        length = np.hypot(*(xy[edges.u] - xy[edges.v]).T)
        stub = ((degree[edges.u] == 1) | (degree[edges.v] == 1)) & (length < shorter_than)
        stub &= ~edges.keep & (edges.layer == 0)
        if not stub.any():
            break
        edges = edges.take(~stub)
    return edges


def interchange_points(specs: list[RoadSpec], spacing: float = 3000.0) -> np.ndarray:
    """Points along the grade-separated roads where ramps go down: near each end, then every 3 km."""
    points = []
    for spec in specs:
        if spec.layer != 1:
            continue
        line = shapely.LineString(spec.points)
        stops = np.arange(300.0, line.length - 299, spacing)
        stops = np.append(stops, line.length - 300)
        points.append(shapely.get_coordinates(shapely.line_interpolate_point(line, stops)))
    return np.vstack(points)


def ramps(xy: np.ndarray, vertex_layer: np.ndarray, edges: Edges, points: np.ndarray) -> Edges:
    """Two-way link roads from the expressway down to the nearest main surface road.

    The expressway and tunnel meet nothing at grade, so without these they would be unreachable.
    A ramp is made only where it stays on one land piece and is shorter than 1.2 km.
    """
    surface_main = np.zeros(len(xy), dtype=bool)
    main = (edges.layer == 0) & (edges.road_class <= RoadClass.SECONDARY)
    surface_main[edges.u[main]] = surface_main[edges.v[main]] = True
    upper, lower = np.flatnonzero(vertex_layer == 1), np.flatnonzero(surface_main)
    _, k_up = cKDTree(xy[upper]).query(points)
    ends = upper[np.unique(k_up)]
    dist, k_low = cKDTree(xy[lower]).query(xy[ends])
    starts = lower[k_low]
    mid = (xy[ends] + xy[starts]) / 2
    r_end, r_start = region_of(*xy[ends].T), region_of(*xy[starts].T)
    ok = (dist < 1200) & (r_end == r_start) & (r_end != WATER) & (region_of(*mid.T) == r_end)
    n = int(ok.sum())
    return Edges(
        ends[ok],
        starts[ok],
        np.zeros(n, np.int32),
        np.full(n, RoadClass.LINK, np.int8),
        np.zeros(n, bool),
        np.ones(n, bool),
        np.ones(n, np.int8),
    )


def split_long_edges(xy: np.ndarray, edges: Edges, longest: float = MAX_ARC_M) -> tuple[np.ndarray, Edges]:
    """Cut edges longer than `longest` into equal pieces, adding vertices along them."""
    length = np.hypot(*(xy[edges.u] - xy[edges.v]).T)
    pieces = np.maximum(1, np.ceil(length / longest)).astype(np.int64)
    extra = pieces - 1
    base = len(xy) + np.cumsum(extra) - extra  # id of each edge's first new vertex
    owner = np.repeat(np.arange(len(edges)), extra)
    step = np.arange(len(owner)) - np.repeat(np.cumsum(extra) - extra, extra) + 1
    t = (step / pieces[owner])[:, None]
    new_xy = xy[edges.u[owner]] + t * (xy[edges.v[owner]] - xy[edges.u[owner]])
    piece_owner = np.repeat(np.arange(len(edges)), pieces)
    k = np.arange(len(piece_owner)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    last = k == pieces[piece_owner] - 1
    u = np.where(k == 0, edges.u[piece_owner], base[piece_owner] + k - 1)
    v = np.where(last, edges.v[piece_owner], base[piece_owner] + k)
    split = edges.take(piece_owner)
    split.u, split.v = u, v
    return np.vstack([xy, new_xy]), split


def directed_arcs(edges: Edges) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(src, dst, edge) per arc: one arc per one-way edge, two adjacent arcs per two-way edge."""
    copies = np.where(edges.oneway, 1, 2)
    edge = np.repeat(np.arange(len(edges)), copies)
    back = np.arange(len(edge)) - np.repeat(np.cumsum(copies) - copies, copies) == 1
    src = np.where(back, edges.v[edge], edges.u[edge])
    dst = np.where(back, edges.u[edge], edges.v[edge])
    return src, dst, edge


def largest_strong_component(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Vertex mask of the largest strongly connected component: every vertex can reach every other."""
    graph = coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=True, connection="strong")
    return labels == np.argmax(np.bincount(labels))


@dataclass
class Network:
    """The finished road network in metres, with what places need to know about each arc."""

    xy: np.ndarray  # (n, 2)
    src: np.ndarray
    dst: np.ndarray
    name: np.ndarray  # index into names
    road_class: np.ndarray
    oneway: np.ndarray
    layer: np.ndarray
    names: list[tuple[str, str]]


def assemble(segments: Segments, specs: list[RoadSpec], names: list[tuple[str, str]]) -> Network:
    """Node, trim, add ramps, split long edges and keep the largest strongly connected part."""
    xy, vertex_layer, edges = node(segments)
    edges = trim_stubs(xy, edges)
    edges = concat_edges([edges, ramps(xy, vertex_layer, edges, interchange_points(specs))])
    xy, edges = split_long_edges(xy, edges)
    src, dst, edge = directed_arcs(edges)
    keep = largest_strong_component(len(xy), src, dst)
    arcs = keep[src] & keep[dst]
    new_id = np.cumsum(keep) - 1
    e = edges.take(edge[arcs])
    return Network(
        xy=xy[keep],
        src=new_id[src[arcs]].astype(np.int32),
        dst=new_id[dst[arcs]].astype(np.int32),
        name=e.name,
        road_class=e.road_class,
        oneway=e.oneway,
        layer=e.layer,
        names=names,
    )


def build_network(rng: np.random.Generator) -> tuple[Network, LatticeStreets]:
    """The whole road network of the city, and the sites the lattice set aside for places."""
    book = NameBook(rng)
    specs = arterial_roads(rng)
    main = concat_segments([road_segments(spec, book) for spec in specs])
    lattices = [
        make_lattice(NORTH, rng.uniform(6, 14), rng),
        make_lattice(WEST, rng.uniform(-38, -30), rng),
        make_lattice(ISLAND, rng.uniform(-12, -4), rng),
    ]
    streets = [lattice_streets(lat, book, rng) for lat in lattices]
    grid = concat_segments([s.segments for s in streets])
    grid = grid.take(clear_parallels(grid, main))
    net = assemble(concat_segments([main, grid]), specs, book.names)
    sites = LatticeStreets(
        grid,
        np.concatenate([s.compound_sites for s in streets]),
        np.concatenate([s.village_sites for s in streets]),
    )
    return net, sites


def road_data(net: Network) -> RoadData:
    """The network in the shape every part speaks: WGS-84 vertices, metres, seconds, names."""
    lon, lat = to_lonlat(net.xy[:, 0], net.xy[:, 1])
    length = haversine_m(lon[net.src], lat[net.src], lon[net.dst], lat[net.dst])
    speed_ms = np.zeros(max(RoadClass.values) + 1)
    for cls, kmh in SPEED_KMH.items():
        speed_ms[cls] = kmh / 3.6
    return RoadData(
        lon=lon.astype(np.float64),
        lat=lat.astype(np.float64),
        src=net.src.astype(np.int32),
        dst=net.dst.astype(np.int32),
        length_m=length,
        time_s=length / speed_ms[net.road_class],
        road_class=net.road_class.astype(np.int8),
        oneway=net.oneway.astype(bool),
        names=[net.names[k][0] for k in net.name.tolist()],
    )


# ---------------------------------------------------------------------------------------------
# Stations, units, hospitals and named places


@dataclass(frozen=True)
class StationSpec:
    code: str
    name: str
    name_en: str
    district: str
    address: str
    lon: float
    lat: float


@dataclass(frozen=True)
class UnitSpec:
    call_sign: str
    kind: str
    station_code: str
    plate: str
    tracker_id: str


@dataclass(frozen=True)
class HospitalSpec:
    name: str
    name_en: str
    short_name: str
    level: str
    capabilities: tuple[str, ...]
    district: str
    address: str
    phone: str
    has_board: bool
    sms_number: str
    lon: float
    lat: float


@dataclass(frozen=True)
class PlaceSpec:
    name: str
    name_en: str
    kind: str
    district: str
    address: str
    lon: float
    lat: float


@dataclass
class DemoCity:
    """Everything make_demo_city writes, as plain data."""

    seed: int
    roads: RoadData
    stations: list[StationSpec]
    units: list[UnitSpec]
    hospitals: list[HospitalSpec]
    places: list[PlaceSpec]
    name: str = CITY_NAME
    name_en: str = CITY_NAME_EN


class Sites:
    """Nearest-vertex look-ups on the finished network, by land piece and road class.

    Places must sit on the road network a router can snap to: a station on a main road, a
    compound at the end of its driveway, never across the water from where it was meant.
    """

    def __init__(self, net: Network) -> None:
        self.net = net
        self.region = region_of(net.xy[:, 0], net.xy[:, 1])
        n = len(net.xy)
        surface = net.layer == 0
        self.best_class = np.full(n, 127, dtype=np.int8)
        for ends in (net.src, net.dst):
            np.minimum.at(self.best_class, ends[surface], net.road_class[surface])
        # A named street at each vertex (0: none), for addresses: streets, not expressways or bridges.
        self.street_name = np.zeros(n, dtype=np.int64)
        named = surface & (net.name > 0) & (net.road_class >= RoadClass.PRIMARY)
        self.street_name[net.src[named]] = net.name[named]
        self.district_of = district_index(net.xy[:, 0], net.xy[:, 1], self.region)
        self.everything = cKDTree(net.xy)
        self.land = np.flatnonzero(self.region != WATER)
        self.land_tree = cKDTree(net.xy[self.land])
        self.trees: dict[tuple[int, int, bool], tuple[np.ndarray, cKDTree]] = {}

    def nearest(self, xy: tuple[float, float], region: int, max_class: int = 127, named: bool = False) -> int:
        """The nearest surface vertex on `region` touching a road of class `max_class` or better."""
        key = (region, max_class, named)
        if key not in self.trees:
            mask = (self.region == region) & (self.best_class <= max_class)
            if named:
                mask &= self.street_name > 0
            index = np.flatnonzero(mask)
            self.trees[key] = (index, cKDTree(self.net.xy[index]))
        index, tree = self.trees[key]
        return int(index[tree.query(xy)[1]])

    def xy(self, vertex: int) -> tuple[float, float]:
        return float(self.net.xy[vertex, 0]), float(self.net.xy[vertex, 1])

    def beside(self, vertex: int, rng: np.random.Generator, metres: float = 20.0) -> tuple[float, float]:
        """A point a few metres off a road vertex (a building's door), or the vertex at the shore."""
        angle = rng.uniform(0, 2 * math.pi)
        x, y = self.xy(vertex)
        door = (x + metres * math.cos(angle), y + metres * math.sin(angle))
        return door if region_at(door) == self.region[vertex] else (x, y)

    def land_region(self, xy: tuple[float, float]) -> int:
        """The land piece of the nearest vertex on land (never the water under a bridge)."""
        return int(self.region[self.land[self.land_tree.query(xy)[1]]])

    def district(self, xy: tuple[float, float]) -> str:
        """The district of the road vertex nearest to a point (bridges count as either bank)."""
        return DISTRICTS[int(self.district_of[self.everything.query(xy)[1]])].name

    def address(self, xy: tuple[float, float], rng: np.random.Generator) -> str:
        """A street address on the nearest named street on the same land piece: 明湾路88号."""
        vertex = self.nearest(xy, self.land_region(xy), named=True)
        return f"{self.net.names[self.street_name[vertex]][0]}{int(rng.integers(1, 400))}号"


def lonlat(xy: tuple[float, float]) -> tuple[float, float]:
    """One point to WGS-84, rounded to 1 cm so specs compare and print cleanly."""
    lon, lat = to_lonlat(np.array(xy[0]), np.array(xy[1]))
    return round(float(lon), 7), round(float(lat), 7)


def xy_of(lon: float, lat: float) -> tuple[float, float]:
    """One WGS-84 point to metres east/north of the centre (lonlat's inverse, unrounded)."""
    x, y = from_lonlat(np.array(lon), np.array(lat))
    return float(x), float(y)


def region_at(xy: tuple[float, float]) -> int:
    """The land piece (or WATER) of one point."""
    return int(region_of(np.array(xy[0]), np.array(xy[1])))


def population_grid(spacing: float = 400.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """People as weighted points on a 400 m grid over land: (xy, weight, region)."""
    ticks = np.arange(-HALF_EXTENT_M + spacing / 2, HALF_EXTENT_M, spacing)
    gx, gy = (a.ravel() for a in np.meshgrid(ticks, ticks))
    region = region_of(gx, gy)
    land = region != WATER
    return np.column_stack([gx, gy])[land], density(gx, gy)[land], region[land]


def weighted_kmeans(points: np.ndarray, weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k centres minimising weighted squared distance (k-means++ start, then Lloyd's steps).

    Stations placed this way each cover about the same number of people, which is how 120
    centres site substations (one ambulance per so many residents, within a service radius).
    """
    centres = [points[rng.choice(len(points), p=weights / weights.sum())]]
    for _ in range(1, k):
        d2 = ((points[:, None, :] - np.array(centres)[None]) ** 2).sum(axis=2).min(axis=1)
        p = weights * d2
        centres.append(points[rng.choice(len(points), p=p / p.sum())])
    c = np.array(centres)
    for _ in range(50):
        nearest = ((points[:, None, :] - c[None]) ** 2).sum(axis=2).argmin(axis=1)
        for j in range(k):
            mine = nearest == j
            if mine.any():
                c[j] = (points[mine] * weights[mine, None]).sum(axis=0) / weights[mine].sum()
    return c


def share(total: int, weights: np.ndarray) -> np.ndarray:
    """Split `total` in proportion to `weights` (largest remainders), at least one each."""
    exact = weights / weights.sum() * (total - len(weights))
    counts = np.floor(exact).astype(int) + 1
    for k in np.argsort(-(exact - np.floor(exact)))[: total - counts.sum()]:
        counts[k] += 1
    return counts


STATION_COUNT = 12
CENTRE_OF_TOWN = (2300.0, -1500.0)
# Area names for stations (急救站), by district, used in order.
STATION_AREAS = {
    "明湾区": (("湾中", "Wanzhong"), ("滨海", "Binhai"), ("老城", "Laocheng"), ("新港", "Xingang")),
    "北岭区": (("北岭", "Beiling"), ("北湖", "Beihu"), ("岭东", "Lingdong")),
    "东港区": (("东港", "Donggang"), ("临港", "Lingang"), ("港北", "Gangbei")),
    "高新区": (("高新", "Gaoxin"), ("科创", "Kechuang")),
    "西江区": (("西江", "Xijiang"), ("江口", "Jiangkou"), ("西湾", "Xiwan")),
    "明珠区": (("明珠", "Mingzhu"), ("岛南", "Daonan"), ("白沙", "Baisha")),
}


@dataclass(frozen=True)
class StationSite:
    vertex: int
    weight: float  # people it serves, relative


def station_sites(sites: Sites, rng: np.random.Generator) -> list[StationSite]:
    """About 12 stations spread by population, each land piece served from its own side."""
    points, weights, region = population_grid()
    pieces = (NORTH, WEST, ISLAND)
    counts = share(STATION_COUNT, np.array([weights[region == r].sum() for r in pieces]))
    found = []
    for piece, count in zip(pieces, counts, strict=True):
        mine = region == piece
        centres = weighted_kmeans(points[mine], weights[mine], int(count), rng)
        served = ((points[mine][:, None] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
        for j, centre in enumerate(centres):
            vertex = sites.nearest((float(centre[0]), float(centre[1])), piece, RoadClass.TERTIARY)
            found.append(StationSite(vertex, float(weights[mine][served == j].sum())))
    # The one nearest the old town is the city's emergency centre, code MW01.
    found.sort(key=lambda s: math.dist(sites.xy(s.vertex), CENTRE_OF_TOWN))
    return found


def make_stations(sites: Sites, found: list[StationSite], rng: np.random.Generator) -> list[StationSpec]:
    """Stations MW01 (the emergency centre) to MW12, named after their area (北岭急救站)."""
    per_district: Counter[str] = Counter()
    stations = []
    for k, site in enumerate(found):
        xy = sites.beside(site.vertex, rng)
        district = sites.district(xy)
        if k == 0:
            name, name_en = "明湾市急救中心", "Mingwan Emergency Medical Centre"
        else:
            name, name_en = station_name(district, per_district[district])
            per_district[district] += 1
        lon, lat = lonlat(xy)
        address = sites.address(xy, rng)
        stations.append(StationSpec(f"MW{k + 1:02d}", name, name_en, district, address, lon, lat))
    return stations


def station_name(district: str, n: int) -> tuple[str, str]:
    """The n-th station of a district takes the district's n-th area name (numbered past the list)."""
    areas = STATION_AREAS[district]
    area, area_en = areas[n % len(areas)]
    if n >= len(areas):
        round_ = n // len(areas) + 1
        area, area_en = f"{area}{chinese_number(round_)}", f"{area_en} {round_}"
    return f"{area}急救站", f"{area_en} Ambulance Station"


HOSPITALS = (
    # name, English, short name, grade, capabilities, design point (metres), has a board
    (
        "明湾市第一人民医院",
        "Mingwan First People's Hospital",
        "市一医院",
        "三级甲等",
        ("chest_pain", "stroke", "trauma", "pci", "ct", "burns"),
        (1900, -1000),
        True,
    ),
    (
        "明湾市中心医院",
        "Mingwan Central Hospital",
        "中心医院",
        "三级甲等",
        ("chest_pain", "stroke", "trauma", "pci", "ct", "paediatric"),
        (5200, 2400),
        True,
    ),
    (
        "明湾市妇幼保健院",
        "Mingwan Maternal and Child Health Hospital",
        "妇幼保健院",
        "三级甲等",
        ("maternal", "neonatal", "paediatric", "ct"),
        (-200, 1800),
        True,
    ),
    (
        "明湾医学院附属医院",
        "Affiliated Hospital of Mingwan Medical College",
        "医学院附院",
        "三级甲等",
        ("chest_pain", "stroke", "trauma", "pci", "ct", "maternal", "neonatal"),
        (1600, -6300),
        True,
    ),
    (
        "明珠岛人民医院",
        "Mingzhu Island People's Hospital",
        "明珠医院",
        "二级甲等",
        ("ct", "maternal"),
        (-2500, -9800),
        True,
    ),
    (
        "明湾市中医院",
        "Mingwan Hospital of Traditional Chinese Medicine",
        "市中医院",
        "三级乙等",
        ("stroke", "ct"),
        (9600, 200),
        True,
    ),
    (
        "西江区人民医院",
        "Xijiang District People's Hospital",
        "西江医院",
        "二级甲等",
        ("chest_pain", "ct", "paediatric", "maternal"),
        (-8200, -1300),
        True,
    ),
    (
        "北岭区人民医院",
        "Beiling District People's Hospital",
        "北岭医院",
        "二级乙等",
        ("ct",),
        (1000, 8200),
        False,
    ),
)


def fake_phone(rng: np.random.Generator, mobile: bool = False) -> str:
    """A demo E.164 number: a landline in the fictional city (+86 599) or a mobile (+86 139)."""
    digits = "".join(str(d) for d in rng.integers(0, 10, 8))
    return f"+86139{digits}" if mobile else f"+865998{digits[:7]}"


def make_hospitals(sites: Sites, rng: np.random.Generator) -> list[HospitalSpec]:
    """The eight hospitals, on main roads near their design points (two on the island)."""
    hospitals = []
    for name, name_en, short, grade, caps, (x, y), board in HOSPITALS:
        design = (x + rng.normal(0, 200), y + rng.normal(0, 200))
        vertex = sites.nearest(design, sites.land_region(design), RoadClass.TERTIARY)
        xy = sites.beside(vertex, rng, 30)
        lon, lat = lonlat(xy)
        hospitals.append(
            HospitalSpec(
                name=name,
                name_en=name_en,
                short_name=short,
                level=grade,
                capabilities=tuple(Capability(c).value for c in caps),
                district=sites.district(xy),
                address=sites.address(xy, rng),
                phone=fake_phone(rng),
                has_board=board,
                sms_number="" if board else fake_phone(rng, mobile=True),
                lon=lon,
                lat=lat,
            )
        )
    return hospitals


UNIT_COUNT = 40


def luhn_digit(digits: str) -> str:
    """Check digit of an IMEI (Luhn), so tracker ids look like the real devices'."""
    total = 0
    for k, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if k % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def make_units(
    stations: list[StationSpec],
    found: list[StationSite],
    hospitals: list[HospitalSpec],
    rng: np.random.Generator,
) -> list[UnitSpec]:
    """About 40 ambulances: three or four per station by population, mostly ALS.

    Each station's last unit is BLS; the emergency centre and the island keep the two
    negative-pressure units; the stations nearest the neonatal hospitals keep the incubators.
    """
    counts = share(UNIT_COUNT, np.array([s.weight for s in found]))
    kinds: list[list[str]] = [[UnitKind.ALS.value] * int(c) for c in counts]
    for station_kinds in kinds:
        if len(station_kinds) >= 2:
            station_kinds[-1] = UnitKind.BLS.value
    island = [k for k, s in enumerate(stations) if region_at(xy_of(s.lon, s.lat)) == ISLAND]
    special = [(0, UnitKind.NEGATIVE_PRESSURE), (island[-1], UnitKind.NEGATIVE_PRESSURE)]
    for hospital in hospitals:
        if "neonatal" in hospital.capabilities:
            special.append((nearest_station(stations, hospital), UnitKind.NEONATAL))
    for k, special_kind in special:
        als = [slot for slot, have in enumerate(kinds[k]) if have == UnitKind.ALS]
        kinds[k][als[-1] if als else 0] = special_kind.value
    units: list[UnitSpec] = []
    for station, station_kinds in zip(stations, kinds, strict=True):
        for kind in station_kinds:
            n = len(units) + 1
            units.append(UnitSpec(f"明湾120-{n:02d}", kind, station.code, f"明A{12000 + n}", tracker_id(rng)))
    return units


def tracker_id(rng: np.random.Generator) -> str:
    """A 15-digit IMEI with its Luhn check digit, as GPS trackers report themselves."""
    serial = "86" + "".join(str(d) for d in rng.integers(0, 10, 12))
    return serial + luhn_digit(serial)


def nearest_station(stations: list[StationSpec], hospital: HospitalSpec) -> int:
    """Index of the station nearest a hospital on the same land piece (straight line)."""
    here = xy_of(hospital.lon, hospital.lat)
    where = [xy_of(s.lon, s.lat) for s in stations]
    same = [k for k, xy in enumerate(where) if region_at(xy) == region_at(here)] or range(len(stations))
    return min(same, key=lambda k: math.dist(here, where[k]))


# Landmarks callers name: (name, English, design point in metres). Snapped to the nearest road.
LANDMARKS = (
    ("明湾站", "Mingwan Railway Station", (-1200, 4200)),
    ("明湾汽车客运总站", "Mingwan Coach Terminal", (3800, 3300)),
    ("明湾市人民政府", "Mingwan Municipal Government", (3000, 600)),
    ("人民广场", "People's Square", (2600, 150)),
    ("明湾时代广场", "Mingwan Times Plaza", (4200, 800)),
    ("金湾购物中心", "Jinwan Shopping Centre", (5600, 2600)),
    ("滨海步行街", "Binhai Pedestrian Street", (2000, -2300)),
    ("骑楼老街", "Qilou Old Street", (1200, -2000)),
    ("明湾体育中心", "Mingwan Sports Centre", (6500, 4200)),
    ("明湾图书馆", "Mingwan Library", (3300, 1300)),
    ("明湾博物馆", "Mingwan Museum", (3700, 900)),
    ("明湾大剧院", "Mingwan Grand Theatre", (4300, -2100)),
    ("人民公园", "People's Park", (2200, 1500)),
    ("滨海公园", "Binhai Park", (6000, -2500)),
    ("明江公园", "Mingjiang Park", (-3500, -2100)),
    ("明湾港客运码头", "Mingwan Port Passenger Terminal", (7000, -2800)),
    ("明湾国际会展中心", "Mingwan International Convention and Exhibition Centre", (8200, -2400)),
    ("明湾第一中学", "Mingwan No. 1 Middle School", (2800, -500)),
    ("明湾实验小学", "Mingwan Experimental Primary School", (3400, -200)),
    ("明湾外国语学校", "Mingwan Foreign Languages School", (5000, 3500)),
    ("明湾电视塔", "Mingwan TV Tower", (1500, 2600)),
    ("北岭森林公园", "Beiling Forest Park", (-1000, 12500)),
    ("北岭商业广场", "Beiling Commercial Plaza", (1500, 7200)),
    ("明湾动物园", "Mingwan Zoo", (3500, 11000)),
    ("北岭高铁站", "Beiling High-speed Railway Station", (-2500, 9000)),
    ("明湾国际机场", "Mingwan International Airport", (12500, 9500)),
    ("东港集装箱码头", "Donggang Container Terminal", (13500, -3700)),
    ("东港物流园", "Donggang Logistics Park", (12000, 1500)),
    ("东港工业园", "Donggang Industrial Park", (13000, 4500)),
    ("明湾大学", "Mingwan University", (-8500, 10500)),
    ("明湾软件园", "Mingwan Software Park", (-6000, 8800)),
    ("高新科技园", "Hi-tech Science Park", (-7000, 11500)),
    ("明湾职业技术学院", "Mingwan Vocational and Technical College", (-10500, 9000)),
    ("西江区人民政府", "Xijiang District Government", (-8300, -700)),
    ("西江湿地公园", "Xijiang Wetland Park", (-12500, 2700)),
    ("西江商业中心", "Xijiang Commercial Centre", (-8000, -1800)),
    ("西江渔港", "Xijiang Fishing Port", (-11000, -3700)),
    ("明珠岛客运码头", "Mingzhu Island Ferry Terminal", (0, -4700)),
    ("明珠广场", "Mingzhu Square", (2000, -6000)),
    ("明湾海洋大学", "Mingwan Ocean University", (-1000, -7000)),
    ("明珠岛海滨浴场", "Mingzhu Island Beach", (-2000, -11900)),
    ("白沙湾公园", "Baishawan Park", (5000, -6500)),
    ("明珠岛灯塔", "Mingzhu Island Lighthouse", (9000, -6800)),
    ("岛南度假区", "Daonan Resort", (-1000, -11000)),
)
# Every district has these (district stem + name).
DISTRICT_SERVICES = (
    ("第一小学", "No. 1 Primary School"),
    ("第二小学", "No. 2 Primary School"),
    ("中学", "Middle School"),
    ("农贸市场", "Farmers' Market"),
    ("派出所", "Police Station"),
    ("社区卫生服务中心", "Community Health Centre"),
    ("邮政支局", "Post Office"),
    ("加油站", "Petrol Station"),
    ("消防救援站", "Fire and Rescue Station"),
    ("养老院", "Care Home"),
)
VILLAGE_STEMS = words(
    "东岭 西坑 南山 北溪 石井 后溪 塘边 洋中 上坑 下坑 新厝 林厝 陈厝 黄厝 前埔 后埔 山头 溪头 坑口 田中 "
    "桥头 埔尾 港尾 湖边 龙井 凤山 白石 赤岭 青山 松柏 竹坝 茶园 梅岭 沙坪 盐田 柯厝 苏厝 吴厝 郑厝 许厝"
)
COMPOUND_COUNT = 170
VILLAGE_COUNT = 40
INTERSECTION_COUNT = 150


def place(
    name: str, name_en: str, kind: str, xy: tuple[float, float], sites: Sites, address: str = ""
) -> PlaceSpec:
    lon, lat = lonlat(xy)
    return PlaceSpec(name, name_en, kind, sites.district(xy), address, lon, lat)


def landmark_places(sites: Sites, rng: np.random.Generator) -> list[PlaceSpec]:
    """The city's landmarks, each a few metres off the nearest road on its side of the water."""
    found = []
    for name, name_en, (x, y) in LANDMARKS:
        design = (x + rng.normal(0, 100), y + rng.normal(0, 100))
        xy = sites.beside(sites.nearest(design, sites.land_region(design)), rng)
        found.append(place(name, name_en, PlaceKind.LANDMARK, xy, sites, sites.address(xy, rng)))
    return found


def service_places(sites: Sites, rng: np.random.Generator) -> list[PlaceSpec]:
    """Schools, markets, police and health centres in every district, where people live."""
    xy_all = sites.net.xy
    district = district_index(xy_all[:, 0], xy_all[:, 1], sites.region)
    rho = density(xy_all[:, 0], xy_all[:, 1])
    found = []
    for k, d in enumerate(DISTRICTS):
        candidates = np.flatnonzero((district == k) & (sites.region == d.region) & (sites.best_class <= 8))
        weights = rho[candidates] / rho[candidates].sum()
        chosen = rng.choice(candidates, size=len(DISTRICT_SERVICES), replace=False, p=weights)
        stem, stem_en = d.name[:2], d.name_en.split()[0]
        for (what, what_en), vertex in zip(DISTRICT_SERVICES, chosen, strict=True):
            xy = sites.beside(int(vertex), rng)
            address = sites.address(xy, rng)
            found.append(place(stem + what, f"{stem_en} {what_en}", PlaceKind.LANDMARK, xy, sites, address))
    return found


def compound_name(rng: np.random.Generator, taken: set[str]) -> tuple[str, str]:
    """A residential compound name (碧水苑, 金色家园) not used yet, with its pinyin signage."""
    while True:
        stem = str(rng.choice(COMPOUND_STEMS))
        ending = str(rng.choice(COMPOUND_ENDINGS))
        if stem + ending not in taken and stem[-1] != ending[0]:
            taken.add(stem + ending)
            # Signs glue a one-character ending on (Bishuiyuan), and space a longer one (Jinse Jiayuan).
            if len(ending) == 1:
                return stem + ending, pinyin_word(stem + ending)
            return stem + ending, f"{pinyin_word(stem)} {pinyin_word(ending)}"


def compound_places(sites: Sites, where: np.ndarray, rng: np.random.Generator) -> list[PlaceSpec]:
    """Residential compounds (小区) at the inner ends of their driveways."""
    taken: set[str] = set()
    found = []
    for x, y in where[rng.permutation(len(where))[:COMPOUND_COUNT]]:
        xy = sites.xy(sites.nearest((float(x), float(y)), sites.land_region((x, y))))
        name, name_en = compound_name(rng, taken)
        found.append(place(name, name_en, PlaceKind.COMPOUND, xy, sites, sites.address(xy, rng)))
    return found


def village_places(sites: Sites, where: np.ndarray, rng: np.random.Generator) -> list[PlaceSpec]:
    """Villages (村) at the ends of their country lanes."""
    stems = [str(stem) for stem in rng.permutation(VILLAGE_STEMS)]
    found = []
    for stem, (x, y) in zip(stems, where[rng.permutation(len(where))[:VILLAGE_COUNT]], strict=False):
        xy = sites.xy(sites.nearest((float(x), float(y)), sites.land_region((x, y))))
        found.append(place(f"{stem}村", f"{pinyin_word(stem)} Village", PlaceKind.LANDMARK, xy, sites))
    return found


def junctions(net: Network) -> np.ndarray:
    """Rows (importance, vertex, road a, road b): one vertex per pair of named roads that meet.

    Only streets (tertiary and up) count; `a` is the more important road of the two and a
    smaller importance (the sum of the two classes) means bigger roads.
    """
    arcs = (net.layer == 0) & (net.name > 0) & (net.road_class <= RoadClass.TERTIARY)
    rows = np.column_stack(
        [
            np.concatenate([net.src[arcs], net.dst[arcs]]),
            np.concatenate([net.road_class[arcs], net.road_class[arcs]]),
            np.concatenate([net.name[arcs], net.name[arcs]]),
        ]
    ).astype(np.int64)
    rows = rows[np.lexsort((rows[:, 1], rows[:, 2], rows[:, 0]))]  # by vertex, name, class
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:, 0] != rows[:-1, 0]) | (rows[1:, 2] != rows[:-1, 2])
    rows = rows[first]  # each road once per vertex, with its best class there
    rows = rows[np.lexsort((rows[:, 2], rows[:, 1], rows[:, 0]))]  # by vertex, class, name
    second = np.flatnonzero(rows[1:, 0] == rows[:-1, 0]) + 1
    second = second[(second < 2) | (rows[second - 2, 0] != rows[second, 0])]  # only a vertex's 2nd road
    a, b = rows[second - 1], rows[second]
    found = np.column_stack([a[:, 1] + b[:, 1], a[:, 0], a[:, 2], b[:, 2]])
    pair = np.sort(found[:, 2:], axis=1)
    _, once = np.unique(pair, axis=0, return_index=True)
    found = found[np.sort(once)]
    return found[np.lexsort((found[:, 1], found[:, 0]))]


def intersection_places(sites: Sites, rng: np.random.Generator) -> list[PlaceSpec]:
    """Junctions of two named roads (明湾路与滨江大道交叉口): the main ones, then a sample.

    Callers often give a junction rather than an address; one place per pair of roads.
    """
    found = junctions(sites.net)
    major = INTERSECTION_COUNT // 3
    sample = np.sort(rng.permutation(len(found) - major)[: INTERSECTION_COUNT - major]) + major
    places = []
    for _, vertex, a, b in found[np.concatenate([np.arange(major), sample])].tolist():
        (za, ea), (zb, eb) = sites.net.names[a], sites.net.names[b]
        places.append(
            place(f"{za}与{zb}交叉口", f"{ea} & {eb}", PlaceKind.INTERSECTION, sites.xy(vertex), sites)
        )
    return places


CROSSINGS = ("西江大桥", "明江大桥", "江湾大桥", "江口大桥", "明湾大桥", "明珠大桥", "明湾海底隧道")


def road_places(sites: Sites) -> list[PlaceSpec]:
    """Main roads by name (a point mid-way along), and the bridges and tunnel as landmarks."""
    net = sites.net
    found = []
    for index, (zh, en) in enumerate(net.names):
        arcs = net.name == index
        if index == 0 or not arcs.any() or net.road_class[arcs].min() > RoadClass.SECONDARY:
            continue
        ends = np.concatenate([net.src[arcs], net.dst[arcs]])
        middle = int(ends[np.argmin(np.hypot(*(net.xy[ends] - net.xy[ends].mean(axis=0)).T))])
        kind = PlaceKind.LANDMARK if zh in CROSSINGS else PlaceKind.ROAD
        found.append(place(zh, en, kind, sites.xy(middle), sites))
        if zh == "明湾海底隧道":
            north, south = int(ends[np.argmax(net.xy[ends, 1])]), int(ends[np.argmin(net.xy[ends, 1])])
            found.append(place(f"{zh}北口", f"{en} North Portal", PlaceKind.LANDMARK, sites.xy(north), sites))
            found.append(place(f"{zh}南口", f"{en} South Portal", PlaceKind.LANDMARK, sites.xy(south), sites))
    return found


def facility_places(stations: list[StationSpec], hospitals: list[HospitalSpec]) -> list[PlaceSpec]:
    """Stations and hospitals are places too: callers and crews name them."""
    return [
        PlaceSpec(f.name, f.name_en, kind, f.district, f.address, f.lon, f.lat)
        for kind, facilities in ((PlaceKind.STATION, stations), (PlaceKind.HOSPITAL, hospitals))
        for f in facilities
    ]


# ---------------------------------------------------------------------------------------------


def generate(seed: int = DEFAULT_SEED) -> DemoCity:
    """明湾市 from a seed: roads, stations, units, hospitals and places. Same seed, same city.

    Each part draws from its own generator spawned from the seed, so changing how one part
    is made does not reshuffle the others.
    """
    roads_rng, station_rng, hospital_rng, unit_rng, place_rng = np.random.default_rng(seed).spawn(5)
    net, lattice = build_network(roads_rng)
    sites = Sites(net)
    found = station_sites(sites, station_rng)
    stations = make_stations(sites, found, station_rng)
    hospitals = make_hospitals(sites, hospital_rng)
    units = make_units(stations, found, hospitals, unit_rng)
    places = (
        facility_places(stations, hospitals)
        + landmark_places(sites, place_rng)
        + service_places(sites, place_rng)
        + road_places(sites)
        + intersection_places(sites, place_rng)
        + compound_places(sites, lattice.compound_sites, place_rng)
        + village_places(sites, lattice.village_sites, place_rng)
    )
    return DemoCity(seed, road_data(net), stations, units, hospitals, places)


# The district outlines are traced on a survey grid this fine, then smoothed by half of it.
DISTRICT_GRID_M = 150.0


def district_outlines(step: float = DISTRICT_GRID_M) -> list[tuple[District, shapely.Geometry]]:
    """Each district's land as a (multi)polygon in metres: the survey grid's cells whose centre
    is on land and nearest the district's centre (district_index, as the stations and places are
    named), each grid row's runs of one district merged before the union."""
    ticks = np.arange(-HALF_EXTENT_M, HALF_EXTENT_M, step) + step / 2
    gx, gy = np.meshgrid(ticks, ticks)
    region = region_of(gx, gy)
    index = np.where(region == WATER, -1, district_index(gx, gy, region))
    boxes: dict[int, list[shapely.Geometry]] = {k: [] for k in range(len(DISTRICTS))}
    for row, y in zip(index, ticks, strict=True):
        starts = np.flatnonzero(np.diff(row, prepend=-2))
        for start, end in zip(starts, [*starts[1:], len(row)], strict=True):
            if row[start] >= 0:
                x0, x1 = ticks[start] - step / 2, ticks[end - 1] + step / 2
                boxes[int(row[start])].append(shapely.box(x0, y - step / 2, x1, y + step / 2))
    return [
        (d, shapely.union_all(boxes[k]).simplify(step / 2, preserve_topology=True))
        for k, d in enumerate(DISTRICTS)
        if boxes[k]
    ]


def district_rows() -> list[dict[str, str]]:
    """districts.geojson's rows (docs/import-formats.md): code, names and the outline in WGS-84."""
    rows = []
    for k, (district, outline) in enumerate(district_outlines()):
        wgs84 = shapely.transform(outline, lambda xy: np.column_stack(to_lonlat(xy[:, 0], xy[:, 1])))
        if isinstance(wgs84, shapely.Polygon):
            wgs84 = shapely.MultiPolygon([wgs84])
        rows.append(
            {
                "code": f"MWD{k + 1:02d}",
                "name": district.name,
                "name_en": district.name_en,
                "geometry": shapely.to_geojson(wgs84),
            }
        )
    return rows


def centre_rows(city: DemoCity) -> dict[str, list[dict[str, str]]]:
    """The city's stations, hospitals, units and places as the rows of a centre's files
    (docs/import-formats.md), for the importer: the demo city loads the way a real centre does.
    Coordinates are written in full (repr), so the loaded city is the generated one exactly."""
    stations = [
        {
            "code": s.code,
            "name": s.name,
            "name_en": s.name_en,
            "district": s.district,
            "address": s.address,
            "lon": repr(s.lon),
            "lat": repr(s.lat),
        }
        for s in city.stations
    ]
    hospitals = [
        {
            "code": f"MWH{k + 1:02d}",
            "name": h.name,
            "name_en": h.name_en,
            "short_name": h.short_name,
            "level": h.level,
            "lon": repr(h.lon),
            "lat": repr(h.lat),
            "address": h.address,
            "phone": h.phone,
            "capabilities": ";".join(h.capabilities),
            "has_board": "yes" if h.has_board else "no",
            "sms_number": h.sms_number,
        }
        for k, h in enumerate(city.hospitals)
    ]
    units = [
        {"call_sign": u.call_sign, "kind": u.kind, "station": u.station_code, "plate": u.plate}
        | {"tracker_id": u.tracker_id}
        for u in city.units
    ]
    places = [
        {
            "name": p.name,
            "name_en": p.name_en,
            "kind": p.kind,
            "district": p.district,
            "address": p.address,
            "lon": repr(p.lon),
            "lat": repr(p.lat),
        }
        for p in city.places
    ]
    return {
        "stations.csv": stations,
        "hospitals.csv": hospitals,
        "units.csv": units,
        "places.csv": places,
        "districts.geojson": district_rows(),
    }
