"""Sending a unit nobody is on shift on is refused with a 409 that says why, by the dispatch and
the reassign actions and their routes, and nothing is written (REQUIRE_CREW_ON_SHIFT)."""

import json
from typing import Any

import pytest
from django.contrib.gis.geos import Point
from django.test import Client

from dispatch.core.actions import ActionError
from dispatch.crew.actions import end_shift
from dispatch.incidents.actions import create_incident, dispatch_unit, reassign
from dispatch.models import Assignment, Event, Incident, Outbox, User
from fleet.models import UnitStatus
from tests.support.roster import on_shift


def open_incident(world: Any) -> Incident:
    return create_incident(
        actor=world.alice, location=Point(119.6, 24.9, srid=4326), location_source="pin", priority=2
    )


def unstaff(world: Any, call_sign: str) -> None:
    end_shift(User.objects.get(username=f"crew-{call_sign.lower()}"))


def post(client: Client, url: str, body: dict) -> tuple[int, dict]:
    response = client.post(
        url, json.dumps(body), content_type="application/json", headers={"Accept-Language": "en"}
    )
    return response.status_code, response.json()


def test_the_action_refuses_a_unit_without_a_crew_and_writes_nothing(world) -> None:
    unstaff(world, "T-BLS-1")
    incident = open_incident(world)
    before = (Event.objects.count(), Outbox.objects.count())
    with pytest.raises(ActionError) as refused:
        dispatch_unit(incident, world.bls1, actor=world.alice)
    assert refused.value.status == 409 and refused.value.code == "no_crew"
    assert refused.value.message.startswith("T-BLS-1 无人当班")  # Chinese first
    assert not Assignment.objects.exists() and (Event.objects.count(), Outbox.objects.count()) == before
    world.bls1.refresh_from_db()
    assert world.bls1.status == UnitStatus.AVAILABLE
    on_shift(world.carol, world.bls1)  # somebody signs on: now it goes
    assert dispatch_unit(incident, world.bls1, actor=world.alice).unit == world.bls1


def test_the_dispatch_route_answers_409_in_the_users_language(client, world) -> None:
    unstaff(world, "T-ALS-2")
    incident = open_incident(world)
    client.force_login(world.alice)
    status, body = post(client, f"/api/incidents/{incident.pk}/dispatch", {"unit": world.als2.pk})
    assert status == 409 and body["code"] == "no_crew"
    assert body["error"] == "T-ALS-2 has no crew on shift: a crew member starts a shift on its tablet first."
    response = client.post(
        f"/api/incidents/{incident.pk}/dispatch",
        json.dumps({"unit": world.als2.pk}),
        content_type="application/json",
        headers={"Accept-Language": "zh-hans"},
    )
    assert response.status_code == 409 and "无人当班" in response.json()["error"]
    assert not Assignment.objects.exists()


def test_reassigning_to_a_unit_without_a_crew_keeps_the_first_unit_on_the_job(client, world) -> None:
    incident = open_incident(world)
    first = dispatch_unit(incident, world.als1, actor=world.alice)
    unstaff(world, "T-ALS-2")
    with pytest.raises(ActionError) as refused:
        reassign(first, world.als2, actor=world.alice, reason="更近的车")
    assert refused.value.status == 409 and refused.value.code == "no_crew"
    client.force_login(world.bob)
    status, body = post(
        client, f"/api/assignments/{first.pk}/reassign", {"unit": world.als2.pk, "reason": "x"}
    )
    assert status == 409 and body["code"] == "no_crew"
    first.refresh_from_db()
    assert first.cancelled_at is None and first.cancel_reason == ""
    assert list(Assignment.objects.live().values_list("unit__call_sign", flat=True)) == ["T-ALS-1"]
    world.als1.refresh_from_db()
    assert world.als1.status == UnitStatus.DISPATCHED


def test_with_the_rule_off_an_unstaffed_unit_can_be_sent(world, settings) -> None:
    settings.REQUIRE_CREW_ON_SHIFT = False
    unstaff(world, "T-NEG-1")
    assert dispatch_unit(open_incident(world), world.neg1, actor=world.alice).unit == world.neg1
