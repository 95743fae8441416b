"""The demo city's crews: one account on shift on every unit, so every unit of the demo can be
sent (a unit nobody is on shift on is not: REQUIRE_CREW_ON_SHIFT). They are the simulator's
accounts (`sim-crew-<unit id>`): `manage.py simulate` gives them a password, signs them in and
drives their units; a unit a person starts a shift on is left to that person."""

from collections.abc import Iterable

from dispatch.crew.actions import start_shift
from dispatch.models import Role, User
from fleet.models import CrewShift, Unit

SIM_CREW_PREFIX = "sim-crew-"


def crew_username(unit: Unit) -> str:
    return f"{SIM_CREW_PREFIX}{unit.pk}"


def staff_units(units: Iterable[Unit]) -> int:
    """Put each unit's simulator crew on shift on it (an account without a password until the
    simulator signs it in), through the crew's start_shift action; return how many started."""
    started = 0
    for unit in units:
        username = crew_username(unit)
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username, role=Role.CREW, first_name="模拟")
        if CrewShift.objects.current().filter(user=user, unit=unit).exists():
            continue
        start_shift(user, unit)
        started += 1
    return started
