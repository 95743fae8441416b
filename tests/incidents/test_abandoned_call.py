"""A call the dispatcher discards before sending anyone (the caller hung up or gave up) is closed
with the outcome "abandoned": it leaves the open list, and the reports count it as a closed
incident no unit was sent to."""

import json

from dispatch.incidents.actions import create_incident
from dispatch.models import Event, Incident
from tests.support.crew_tablet import signed_in


def test_an_abandoned_call_is_closed_without_dispatch_and_counted(world):
    incident = create_incident(actor=world.alice, caller_number="13800000001")
    alice = signed_in(world.alice)
    response = alice.post(
        f"/api/incidents/{incident.pk}/close",
        json.dumps({"outcome": "abandoned"}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    stored = Incident.objects.get(pk=incident.pk)
    assert (stored.status, stored.outcome, stored.dispatched_at) == ("closed", "abandoned", None)
    assert Event.objects.get(kind="incident.closed", incident=incident).data == {"outcome": "abandoned"}
    assert incident.pk not in [i["id"] for i in alice.get("/api/incidents").json()]
    rows = signed_in(world.bob).get("/api/reports/incidents").json()["rows"]
    row = next(r for r in rows if r["id"] == incident.pk)
    assert (row["status"], row["units"]) == ("closed", "")
