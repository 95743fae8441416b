"""China's map datums to WGS-84 and back (decision 2, docs/decisions/: converted at the edges, never
stored). GCJ-02 is the state-mandated offset AMap and Tencent use; BD-09 is Baidu's further
offset of GCJ-02. The forward formulas are the published, widely reimplemented ones; GCJ-02 to
WGS-84 has no closed form, so it is inverted by fixed-point iteration (to about 1 mm)."""

import math

A = 6378245.0  # the Krasovsky 1940 ellipsoid GCJ-02 is defined on
EE = 0.00669342162296594323
X_PI = math.pi * 3000.0 / 180.0


def out_of_china(lon: float, lat: float) -> bool:
    """Outside mainland China's bounding box the datums are plain WGS-84."""
    return not (73.66 < lon < 135.05 and 3.86 < lat < 53.55)


def _lat_shift(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _lon_shift(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    if out_of_china(lon, lat):
        return lon, lat
    dlat = _lat_shift(lon - 105.0, lat - 35.0)
    dlon = _lon_shift(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((A * (1 - EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (A / sqrtmagic * math.cos(radlat) * math.pi)
    return lon + dlon, lat + dlat


def inverse(forward, lon: float, lat: float, guess: tuple[float, float]) -> tuple[float, float]:
    """The point `forward` maps to (lon, lat), by fixed-point iteration from `guess`: the
    offsets change slowly, so each step removes almost all of the remaining error."""
    x, y = guess
    for _ in range(30):
        fx, fy = forward(x, y)
        dx, dy = fx - lon, fy - lat
        x, y = x - dx, y - dy
        if abs(dx) < 1e-10 and abs(dy) < 1e-10:
            break
    return x, y


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """The WGS-84 point whose GCJ-02 image is (lon, lat)."""
    if out_of_china(lon, lat):
        return lon, lat
    return inverse(wgs84_to_gcj02, lon, lat, (lon, lat))


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * X_PI)
    return z * math.cos(theta), z * math.sin(theta)


def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    # The published BD-09 inverse above is itself approximate (to about half a metre): refine it.
    gcj = inverse(gcj02_to_bd09, lon, lat, bd09_to_gcj02(lon, lat))
    return gcj02_to_wgs84(*gcj)


TO_WGS84 = {"wgs84": lambda lon, lat: (lon, lat), "gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
