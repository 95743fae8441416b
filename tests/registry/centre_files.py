"""Helpers for the import tests: the documented example set, and row counts."""

from pathlib import Path

from dispatch.models import District, Event, Place, User
from fleet.models import StandbyPoint, Station, Unit
from hospitals.models import Hospital

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "centre"


def example_files() -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted(EXAMPLES.iterdir())]


def replaced(files: list[tuple[str, bytes]], name: str, text: str) -> list[tuple[str, bytes]]:
    """The set with one file's content replaced."""
    return [(n, text.encode("utf-8") if n == name else data) for n, data in files]


def row_counts() -> dict[str, int]:
    models = {"stations": Station, "standby_points": StandbyPoint, "units": Unit, "hospitals": Hospital}
    models |= {"places": Place}
    models |= {"districts": District, "users": User, "events": Event}
    return {name: model.objects.count() for name, model in models.items()}
