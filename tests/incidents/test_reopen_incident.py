"""POST /api/incidents/{id}/reopen: a closed incident is open again, the same record with its
whole history, and the event says what it had been closed as and why it is reopened. Only
dispatchers and supervisors; anything else changes nothing."""

import json

import pytest

from dispatch.incidents.actions import close_incident, create_incident, link_incident
from dispatch.models import Event, Incident, IncidentStatus
from tests.support.crew_tablet import signed_in


def post(client, url: str, body: dict) -> tuple[int, dict]:
    response = client.post(url, data=json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


@pytest.fixture
def closed(world):
    incident = create_incident(actor=world.alice, caller_number="13800000001", chief_complaint="胸痛")
    return close_incident(incident, actor=world.alice, outcome="false_call")


def test_a_closed_incident_opens_again_with_its_history(world, closed):
    status, body = post(
        signed_in(world.alice), f"/api/incidents/{closed.pk}/reopen", {"reason": "呼救者再次来电"}
    )
    assert status == 200, body
    assert (body["status"], body["outcome"], body["closed_at"]) == ("open", "", None)
    incident = Incident.objects.get(pk=closed.pk)
    assert (incident.status, incident.number, incident.chief_complaint) == ("open", closed.number, "胸痛")
    event = Event.objects.get(kind="incident.reopened")
    assert event.incident_id == closed.pk and event.actor == world.alice
    assert event.data["reason"] == "呼救者再次来电"
    assert event.data["was"]["status"] == "closed" and event.data["was"]["outcome"] == "false_call"
    kinds = [e["kind"] for e in signed_in(world.alice).get(f"/api/incidents/{closed.pk}/timeline").json()]
    assert kinds == ["incident.created", "incident.closed", "incident.reopened"]
    assert closed.pk in [i["id"] for i in signed_in(world.alice).get("/api/incidents").json()]


def test_a_linked_repeat_call_is_unlinked(world):
    first = create_incident(actor=world.alice, caller_number="13800000001")
    repeat = create_incident(actor=world.alice, caller_number="13800000001")
    link_incident(repeat, first, actor=world.alice)
    status, body = post(
        signed_in(world.bob), f"/api/incidents/{repeat.pk}/reopen", {"reason": "不是同一患者"}
    )
    assert status == 200 and body["linked_to"] is None
    assert Event.objects.get(kind="incident.reopened").data["was"]["linked_to"] == first.pk


def test_an_open_incident_is_not_reopened(world):
    incident = create_incident(actor=world.alice)
    status, error = post(signed_in(world.alice), f"/api/incidents/{incident.pk}/reopen", {"reason": "x"})
    assert status == 409 and error["code"] == "incident_open"
    assert not Event.objects.filter(kind="incident.reopened").exists()


@pytest.mark.parametrize(
    "body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 201}, {"reason": 5}]
)
def test_a_reason_is_needed(world, closed, body):
    status, error = post(signed_in(world.alice), f"/api/incidents/{closed.pk}/reopen", body)
    assert status == 422 and error["error"]
    assert Incident.objects.get(pk=closed.pk).status == IncidentStatus.CLOSED
    assert not Event.objects.filter(kind="incident.reopened").exists()


@pytest.mark.parametrize("who", ["carol", "dave", "erin"])
def test_only_dispatchers_and_supervisors_reopen(world, closed, who):
    status, _ = post(signed_in(getattr(world, who)), f"/api/incidents/{closed.pk}/reopen", {"reason": "x"})
    assert status == 403
    assert Incident.objects.get(pk=closed.pk).status == IncidentStatus.CLOSED
    assert not Event.objects.filter(kind="incident.reopened").exists()


def test_unknown_incident_is_404(world):
    status, _ = post(signed_in(world.alice), "/api/incidents/999999/reopen", {"reason": "x"})
    assert status == 404
