"""GET /api/incidents/search finds any incident, open or closed, by its number, the caller's
phone however it is typed, the address or a name, within a time range; for dispatchers and
supervisors only. Bad parameters are a clear 422."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch.incidents.actions import close_incident, create_incident, update_incident_details
from dispatch.models import Incident
from tests.support.crew_tablet import signed_in


@pytest.fixture
def records(world):
    """Three incidents: an open one, a closed one from a mobile stored in E.164, an old one."""
    open_one = create_incident(actor=world.alice, caller_number="13800000001", address="碧水苑 3 栋")
    update_incident_details(open_one, actor=world.alice, patient_name="张三")
    closed = create_incident(actor=world.alice, caller_number="+8613912345678", address="明湾体育中心")
    close_incident(closed, actor=world.alice, outcome="false_call")
    old = create_incident(actor=world.alice, caller_number="059112345678", address="滨海路 88 号")
    Incident.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    return open_one, closed, old


def found(client, **params) -> list[int]:
    response = client.get("/api/incidents/search", params)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()]


def test_by_number_phone_address_and_name(world, records):
    open_one, closed, old = records
    alice = signed_in(world.alice)
    assert found(alice, q=closed.number) == [closed.pk]
    assert found(alice, q=closed.number[-6:]) == [closed.pk]
    for typed in ("13912345678", "+86 139-1234-5678", "008613912345678", "139 1234 5678"):
        assert found(alice, q=typed) == [closed.pk], typed
    assert found(alice, q="碧水苑") == [open_one.pk]
    assert found(alice, q="张三") == [open_one.pk]
    assert found(alice) == [closed.pk, open_one.pk, old.pk]  # newest first


def test_open_or_closed_and_a_time_range(world, records):
    open_one, closed, old = records
    alice = signed_in(world.alice)
    assert found(alice, status="closed") == [closed.pk]
    assert found(alice, status="open") == [open_one.pk, old.pk]
    since = timezone.localtime() - timedelta(days=1)
    # A time typed in the console (datetime-local, no zone) is the centre's.
    assert set(found(alice, since=since.strftime("%Y-%m-%dT%H:%M"))) == {open_one.pk, closed.pk}
    assert found(alice, until=since.isoformat()) == [old.pk]
    row = alice.get("/api/incidents/search", {"q": closed.number}).json()[0]
    assert (row["status"], row["outcome"], row["caller_number"]) == ("closed", "false_call", "+8613912345678")


@pytest.mark.parametrize(
    "params",
    [
        {"since": "2026-01-02T00:00", "until": "2026-01-01T00:00"},
        {"since": "0001-01-01T00:00:00+14:00"},
        {"until": "9999-12-31T23:59"},
        {"since": "yesterday"},
        {"status": "maybe"},
        {"q": "x" * 61},
        {"limit": 0},
        {"limit": 500},
    ],
)
def test_bad_parameters_are_refused(world, records, params):
    response = signed_in(world.alice).get("/api/incidents/search", params)
    assert response.status_code == 422, response.content
    assert response.json()["error"]


@pytest.mark.parametrize("who", ["carol", "dave", "frank", "erin"])
def test_only_dispatchers_and_supervisors_search(world, records, who):
    response = signed_in(getattr(world, who)).get("/api/incidents/search", {"q": "139"})
    assert response.status_code == 403
    assert "13912345678" not in response.content.decode()


def test_a_supervisor_searches_too(world, records):
    assert found(signed_in(world.bob), status="closed") == [records[1].pk]
