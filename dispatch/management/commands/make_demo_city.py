"""Generate 明湾市 (Mingwan, demo city) and load it: roads, stations, hospitals, units, places.

`make demo` runs it with --if-missing, so running the demo again keeps the city and whatever
was done in it. Without that flag it refuses a database that already holds a city: it never
deletes or replaces anyone's stations, units or imported roads.
"""

import time
from argparse import ArgumentParser
from typing import TYPE_CHECKING

from django.contrib.gis.geos import Point
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from dispatch.models import Place
from dispatch.registry.actions import create_hospital, create_station, create_unit
from fleet.models import RoadNetwork, Station, Unit
from fleet.roads.store import save_network
from hospitals.models import Hospital

if TYPE_CHECKING:
    from dispatch.demo.city import DemoCity, PlaceSpec

PLACE_SOURCE = "demo"


def loaded_demo_city() -> RoadNetwork | None:
    """The active demo road network when it and some units are there (a previous run
    finished); None otherwise."""
    network = RoadNetwork.objects.active()
    return network if network is not None and network.is_demo and Unit.objects.exists() else None


def existing_city() -> str:
    """What in the database would clash with a demo city, or "" when nothing does."""
    counts = {
        "stations": Station.objects.count(),
        "units": Unit.objects.count(),
        "hospitals": Hospital.objects.count(),
    }
    found = [f"{n} {what}" for what, n in counts.items() if n]
    network = RoadNetwork.objects.active()
    if network is not None and not network.is_demo:
        found.append(f"the imported road network {network}")
    return ", ".join(found)


def point(lon: float, lat: float) -> Point:
    return Point(lon, lat, srid=4326)


class Command(BaseCommand):
    help = "Generate the demo city 明湾市 (Mingwan) from a seed: roads, stations, units, hospitals, places."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--seed", type=int, help="same seed, same city (default: the generator's, 120)")
        parser.add_argument(
            "--if-missing", action="store_true", help="do nothing when the demo city is already loaded"
        )

    def handle(self, *args: object, seed: int | None, if_missing: bool, **options: object) -> None:
        if if_missing and (loaded := loaded_demo_city()) is not None:
            self.stdout.write(f"The demo city {loaded.name} is already loaded; nothing to do.")
            return
        clash = existing_city()
        if clash:
            raise CommandError(
                f"This database already holds a city ({clash}). The demo city loads only into an "
                "empty one and never replaces real data: use a fresh database, or --if-missing "
                "when the demo city is what is loaded."
            )
        # Imported only now: numpy, scipy, shapely and pypinyin take seconds to load, and
        # `make demo` runs this command on every start, usually to do nothing.
        from dispatch.demo.city import CITY_NAME, CITY_NAME_EN, DEFAULT_SEED, generate

        seed = DEFAULT_SEED if seed is None else seed
        started = time.monotonic()
        self.stdout.write(f"Generating {CITY_NAME} {CITY_NAME_EN} from seed {seed}...")
        city = generate(seed)
        self.stdout.write(f"  generated in {time.monotonic() - started:.1f} s; saving the road network")
        save_network(
            city.roads,
            name=f"{CITY_NAME} {CITY_NAME_EN}",
            source=f"dispatch.demo.city seed={seed}",
            is_demo=True,
            progress=self.progress,
        )
        self.stdout.write("  loading stations, hospitals, units and places")
        load_city(city)
        self.stdout.write(
            self.style.SUCCESS(
                f"{CITY_NAME} {CITY_NAME_EN} loaded in {time.monotonic() - started:.1f} s: "
                f"{city.roads.vertex_count:,} vertices, {city.roads.arc_count:,} arcs, "
                f"{len(city.stations)} stations, {len(city.units)} units, "
                f"{len(city.hospitals)} hospitals, {len(city.places)} places."
            )
        )
        self.stdout.write(
            "  Each unit has its own random tracker key: a phone running OsmAnd or Traccar Client "
            "reports for a unit with the server URL <this server>/api/osmand/<key>, or with the "
            "key as its device identifier (the key and both set-ups are on the unit's admin page, "
            "/admin/fleet/unit/)."
        )

    def progress(self, stage: str, fraction: float) -> None:
        self.stdout.write(f"    {stage} {fraction:.0%}")


@transaction.atomic
def load_city(city: "DemoCity") -> None:
    """Stations, hospitals and units through their actions (events and all), each unit with a
    crew on shift (dispatch.demo.crews); places in bulk."""
    from dispatch.demo.crews import staff_units  # see handle(): demo's modules load late

    stations = {}
    for s in city.stations:
        stations[s.code] = create_station(
            s.code, s.name, point(s.lon, s.lat), name_en=s.name_en, district=s.district, address=s.address
        )
    for h in city.hospitals:
        create_hospital(
            h.name,
            point(h.lon, h.lat),
            capabilities=list(h.capabilities),
            name_en=h.name_en,
            short_name=h.short_name,
            level=h.level,
            address=h.address,
            phone=h.phone,
            has_board=h.has_board,
            sms_number=h.sms_number,
        )
    units = [
        create_unit(
            u.call_sign, u.kind, home_station=stations[u.station_code], plate=u.plate, tracker_id=u.tracker_id
        )
        for u in city.units
    ]
    staff_units(units)
    Place.objects.bulk_create([place_row(p) for p in city.places], batch_size=1000)


def place_row(p: "PlaceSpec") -> Place:
    """A gazetteer row with its pinyin search keys."""
    from dispatch.locate.gazetteer import search_keys  # pypinyin: see handle()

    pinyin, initials = search_keys(p.name)
    return Place(
        name=p.name,
        name_en=p.name_en,
        kind=p.kind,
        point=point(p.lon, p.lat),
        address=p.address,
        district=p.district,
        pinyin=pinyin,
        initials=initials,
        source=PLACE_SOURCE,
    )
