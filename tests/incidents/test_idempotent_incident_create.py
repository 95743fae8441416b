"""POST /api/incidents with an Idempotency-Key opens the incident once: a repeat (a lost answer,
a database failover) gets the first answer back, and the key row is written again."""

import uuid

from dispatch.models import Event, IdempotencyKey, Incident

NEW = {"caller_number": "+8613800000120", "lon": 119.6, "lat": 24.9, "chief_complaint": "胸痛"}


def create(client, key: str | None, payload: dict = NEW):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post("/api/incidents", payload, content_type="application/json", headers=headers)


def test_the_same_key_opens_one_incident_and_replays_the_answer(client, world):
    client.force_login(world.alice)
    key = f"drill-{uuid.uuid4()}"
    first, again = create(client, key), create(client, key)
    assert first.status_code == again.status_code == 201
    assert first["Idempotent-Replay"] == "false" and again["Idempotent-Replay"] == "true"
    assert again.json() == first.json()
    assert Incident.objects.count() == 1
    assert Event.objects.filter(kind="incident.created").count() == 1
    assert IdempotencyKey.objects.get(key=key).replays == 1  # the retry wrote, so it waits too


def test_another_request_under_the_same_key_is_refused(client, world):
    client.force_login(world.alice)
    key = f"drill-{uuid.uuid4()}"
    create(client, key)
    refused = create(client, key, {**NEW, "caller_number": "+8613900000000"})
    assert refused.status_code == 422 and refused.json()["code"] == "idempotency_key_reused"
    assert Incident.objects.count() == 1


def test_without_a_key_each_request_opens_an_incident(client, world):
    client.force_login(world.alice)
    assert create(client, None).status_code == create(client, None).status_code == 201
    assert Incident.objects.count() == 2


def test_the_schema_documents_the_header(client, world):
    client.force_login(world.alice)
    operation = client.get("/api/schema/").json()["paths"]["/api/incidents"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation["parameters"])
