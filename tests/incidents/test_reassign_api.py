"""POST /api/assignments/{id}/reassign answers with the new assignment, as it documents."""

import json

import pytest

from dispatch.models import Assignment


@pytest.fixture
def dispatcher_client(client, world):
    client.force_login(world.alice)
    return client


def post_json(client, url: str, body: dict) -> tuple[int, dict]:
    response = client.post(url, data=json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def test_reassign_answers_with_the_new_units_assignment(dispatcher_client, world):
    _, incident = post_json(dispatcher_client, "/api/incidents", {"chief_complaint": "fall"})
    _, first = post_json(
        dispatcher_client, f"/api/incidents/{incident['id']}/dispatch", {"unit": world.als1.pk}
    )
    status, body = post_json(
        dispatcher_client,
        f"/api/assignments/{first['id']}/reassign",
        {"unit": world.bls1.pk, "reason": "closer unit"},
    )
    assert status == 201, body
    new = Assignment.objects.get(incident_id=incident["id"], unit=world.bls1)
    assert (body["id"], body["unit"], body["unit_call_sign"]) == (new.pk, world.bls1.pk, "T-BLS-1")
    assert Assignment.objects.get(pk=first["id"]).cancelled_at is not None
