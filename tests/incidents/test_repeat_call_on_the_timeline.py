"""Linking a repeat call closes it into the incident it repeats, and puts the call on that
incident's timeline too (an event on the target), with the repeat's number and caller."""

import json

from dispatch.incidents.actions import create_incident
from dispatch.models import Event
from tests.support.crew_tablet import signed_in


def test_the_repeat_call_shows_on_the_incident_it_repeats(world):
    first = create_incident(actor=world.alice, caller_number="13800000001", chief_complaint="胸痛")
    repeat = create_incident(actor=world.alice, caller_number="13800000002")
    alice = signed_in(world.alice)
    response = alice.post(
        f"/api/incidents/{repeat.pk}/link", json.dumps({"to": first.pk}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    timeline = alice.get(f"/api/incidents/{first.pk}/timeline").json()
    assert [e["kind"] for e in timeline] == ["incident.created", "incident.repeat_call"]
    data = timeline[-1]["data"]
    assert (data["from"], data["number"], data["caller_number"]) == (repeat.pk, repeat.number, "13800000002")
    assert [e["kind"] for e in alice.get(f"/api/incidents/{repeat.pk}/timeline").json()] == [
        "incident.created",
        "incident.linked",
    ]
    assert Event.objects.get(kind="incident.repeat_call").actor == world.alice
