"""The demo city's crews: one account on shift on every unit, so every unit of the demo can be
sent (a unit nobody is on shift on is not: REQUIRE_CREW_ON_SHIFT). They are the simulator's
accounts (`sim-crew-<unit id>`): `manage.py simulate` gives them a password, signs them in and
drives their units; a unit a person starts a shift on is left to that person. Like every crew
they are rostered first (dispatch/roster): a day's entry from now, renewed by `simulate`."""

from collections.abc import Iterable

from dispatch.crew.actions import start_shift
from dispatch.models import Role, User
from dispatch.roster.actions import roster_now
from fleet.models import CrewShift, Unit

SIM_CREW_PREFIX = "sim-crew-"
# How long the demo's crews are rostered for at a time.
SIM_SHIFT_HOURS = 24


def crew_username(unit: Unit) -> str:
    return f"{SIM_CREW_PREFIX}{unit.pk}"


def sim_crew(unit: Unit) -> User:
    """The unit's simulator crew, rostered on it now (an account without a password until the
    simulator signs it in)."""
    username = crew_username(unit)
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username, role=Role.CREW, first_name="模拟")
    roster_now(user, unit, hours=SIM_SHIFT_HOURS)
    return user


def staff_units(units: Iterable[Unit]) -> int:
    """Roster each unit's simulator crew on it and start the shift, through the roster's and
    the crew's actions; return how many started."""
    started = 0
    for unit in units:
        user = sim_crew(unit)
        if CrewShift.objects.current().filter(user=user, unit=unit).exists():
            continue
        start_shift(user, unit)
        started += 1
    return started
