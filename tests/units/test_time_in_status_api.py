"""/api/units says since when each unit has its present status (the console's unit board counts
its time in status from it): a new status starts it again; other changes leave it."""

from datetime import timedelta

from django.test import Client
from django.utils.dateparse import parse_datetime

from dispatch.units.actions import set_unit_status
from fleet.models import Unit, UnitStatus
from tests.support.crew_tablet import job


def since(client: Client, unit: Unit):
    rows = {r["id"]: r for r in client.get("/api/units").json()}
    return parse_datetime(rows[unit.pk]["status_changed_at"])


def test_units_say_since_when_they_have_their_status(world):
    client = Client()
    client.force_login(world.alice)
    for unit in Unit.objects.all():
        assert abs(since(client, unit) - unit.status_changed_at) < timedelta(milliseconds=1)
    before, other = since(client, world.als1), since(client, world.bls1)
    job(world, world.als1)
    sent = since(client, world.als1)
    assert sent > before
    assert abs(sent - Unit.objects.get(pk=world.als1.pk).status_changed_at) < timedelta(milliseconds=1)
    set_unit_status(world.als1, UnitStatus.EN_ROUTE, actor=world.alice)
    assert since(client, world.als1) > sent
    assert since(client, world.bls1) == other  # the others' clocks run on
