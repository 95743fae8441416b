"""The demo city comes staffed: every unit has a crew on shift (the simulator's accounts), so
every unit can be sent, and the simulator still drives them; a unit a person starts a shift on
is left to that person."""

import io

import pytest
from django.core.management import call_command

from dispatch.demo.crews import SIM_CREW_PREFIX, staff_units
from dispatch.management.commands.simulate import world_units
from dispatch.models import Event, User
from fleet.models import CrewShift, Unit


@pytest.mark.django_db(transaction=True)
def test_every_demo_unit_has_its_crew_on_shift_and_the_simulator_drives_them(settings) -> None:
    settings.DEMO_MODE = True  # create_demo_users runs in demo mode only
    call_command("make_demo_city", verbosity=0)
    units = Unit.objects.count()
    shifts = CrewShift.objects.current().select_related("user")
    assert shifts.count() == units and shifts.values("unit").distinct().count() == units
    assert all(s.user.username == f"{SIM_CREW_PREFIX}{s.unit_id}" for s in shifts)
    assert not any(s.user.has_usable_password() for s in shifts)  # until the simulator signs in
    assert Event.objects.filter(kind="shift.started").count() == units
    assert staff_units(Unit.objects.all()) == 0  # again: nothing to do
    call_command("create_demo_users", stdout=io.StringIO())
    human = User.objects.get(username="crew").shifts.current().get().unit
    driven = {u.id for u in world_units(None)}
    assert human.pk not in driven and len(driven) == units - 1
