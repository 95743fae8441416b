"""Generate 明湾市 (Mingwan, demo city) and load it: roads, stations, hospitals, units, places.

`make demo` runs it with --if-missing, so running the demo again keeps the city and whatever
was done in it. Without that flag it refuses a database that already holds a city: it never
deletes or replaces anyone's stations, units or imported roads.
"""

import time
from argparse import ArgumentParser
from typing import TYPE_CHECKING

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from fleet.models import RoadNetwork, Station, Unit
from fleet.roads.store import save_network
from hospitals.models import Hospital

if TYPE_CHECKING:
    from dispatch.demo.city import DemoCity

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
    """Stations, hospitals, units and places through the centre importer (its actions, events and
    all: the demo proves the importer), then each unit with a crew on shift (dispatch.demo.crews)."""
    from dispatch.demo.city import centre_rows  # see handle(): demo's modules load late
    from dispatch.demo.crews import staff_units
    from dispatch.registry.importer import import_rows  # pypinyin: see handle()

    report = import_rows(centre_rows(city), source=PLACE_SOURCE)
    if not report.ok:
        raise CommandError("\n".join(report.lines()))
    units = Unit.objects.in_bulk([u.call_sign for u in city.units], field_name="call_sign")
    staff_units([units[u.call_sign] for u in city.units])
