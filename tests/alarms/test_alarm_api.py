"""The alarm list through the API: every console (a second one, a reloaded one) reads the open
alarms; acknowledging records the named dispatcher once; only the control room may read them
and only dispatchers and supervisors acknowledge."""

import json

import pytest
from django.test import Client

from dispatch.incidents.actions import create_incident
from dispatch.models import Alarm, Event
from tests.support.alarm_helpers import scan_after

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def ack(client: Client, alarm_id: int):
    return client.post(
        f"/api/alarms/{alarm_id}/acknowledge",
        data=json.dumps({}),
        content_type="application/json",
        headers={"Accept-Language": "en"},
    )


@pytest.fixture
def alarms(world, settings):
    """Two incidents nobody dispatched, past the target: two open alarms; a third cleared."""
    settings.TARGET_PROCESSING_SECONDS = 60
    first = create_incident(actor=world.alice, caller_number="13800000001", address="滨海路 <b>&amp; 88号")
    create_incident(actor=world.alice, caller_number="13800000002")
    scan_after(first.created_at, 120)
    return list(Alarm.objects.order_by("pk"))


def test_a_second_console_and_a_reloaded_one_read_the_open_alarms(world, alarms):
    for user in (world.alice, world.bob, world.erin):  # any control-room screen, first load or reload
        for _ in range(2):
            response = client_for(user).get("/api/alarms")
            assert response.status_code == 200
            rows = response.json()
            assert [r["id"] for r in rows] == [a.pk for a in alarms]
            assert rows[0]["kind"] == "incident_undispatched_overdue"
            assert rows[0]["incident_number"] == alarms[0].incident.number
            assert rows[0]["acknowledged_by"] is None and rows[0]["cleared_at"] is None


def test_acknowledging_records_the_dispatcher_once(world, alarms):
    world.alice.first_name, world.alice.last_name = "", "张丽"
    world.alice.save()
    response = ack(client_for(world.alice), alarms[0].pk)
    assert response.status_code == 200, response.content
    assert response.json()["acknowledged_by"] == "张丽"
    alarms[0].refresh_from_db()
    first_at = alarms[0].acknowledged_at
    assert alarms[0].acknowledged_by == world.alice and first_at is not None
    # Again, from another console by another dispatcher: the first acknowledgement stands.
    again = ack(client_for(world.bob), alarms[0].pk)
    assert again.status_code == 200 and again.json()["acknowledged_by"] == "张丽"
    alarms[0].refresh_from_db()
    assert alarms[0].acknowledged_by == world.alice and alarms[0].acknowledged_at == first_at
    assert Event.objects.filter(kind="alarm.acknowledged").count() == 1
    event = Event.objects.get(kind="alarm.acknowledged")
    assert event.actor == world.alice and event.unit_id is None and event.hospital_id is None
    # Still open (its condition holds), shown as acknowledged on every console.
    rows = client_for(world.bob).get("/api/alarms").json()
    assert [r["acknowledged_by"] for r in rows] == ["张丽", None]
    assert alarms[1].acknowledged_at is None


def test_a_cleared_alarm_leaves_the_list(world, alarms):
    incident = alarms[0].incident
    from dispatch.incidents.actions import close_incident

    close_incident(incident, actor=world.alice, outcome="false_call")
    scan_after(incident.created_at, 121)
    rows = client_for(world.alice).get("/api/alarms").json()
    assert [r["id"] for r in rows] == [alarms[1].pk]


@pytest.mark.parametrize("who", ["carol", "dave", "frank"])
def test_crews_and_hospitals_may_neither_read_nor_acknowledge(world, alarms, who):
    client = client_for(getattr(world, who))
    assert client.get("/api/alarms").status_code == 403
    assert ack(client, alarms[0].pk).status_code == 403
    alarms[0].refresh_from_db()
    assert alarms[0].acknowledged_at is None


def test_an_administrator_reads_but_does_not_acknowledge(world, alarms):
    assert ack(client_for(world.erin), alarms[0].pk).status_code == 403
    alarms[0].refresh_from_db()
    assert alarms[0].acknowledged_at is None


def test_signed_out_and_unknown(world, alarms):
    assert client_for(None).get("/api/alarms").status_code == 401
    response = ack(client_for(world.alice), 987654)
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert ack(client_for(world.alice), "x").status_code == 422
