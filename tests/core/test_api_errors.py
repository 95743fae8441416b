"""Bad input gets a clear JSON error and changes nothing."""

import json

import pytest

from dispatch.models import Event, Incident


@pytest.fixture
def dispatcher_client(client, world):
    client.force_login(world.alice)
    return client


def post_json(client, url: str, body) -> tuple[int, dict]:
    # In English: the words below are the English messages (the Chinese are in locale/).
    response = client.post(
        url, data=json.dumps(body), content_type="application/json", headers={"Accept-Language": "en"}
    )
    assert response["Content-Type"].startswith("application/json")
    return response.status_code, response.json()


def test_unknown_api_path_is_json_404(dispatcher_client):
    response = dispatcher_client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error"]


def test_signed_out_gets_json_401(client, world):
    response = client.get("/api/incidents")
    assert response.status_code == 401
    assert response.json()["error"] == "Login required."


@pytest.mark.parametrize(
    "body, words",
    [
        ({"lon": 200, "lat": 30}, "lon"),
        ({"lon": 119.6, "lat": -95}, "lat"),
        ({"lon": 119.6}, "both"),
        ({"caller_number": "1" * 33}, "caller_number"),
        ({"notes": "x" * 4001}, "notes"),
        ({"priority": 9}, "priority"),
        ({"location_source": "guess", "lon": 119.6, "lat": 24.9}, "location_source"),
    ],
)
def test_bad_incident_input_is_refused_and_writes_nothing(dispatcher_client, body, words):
    before = Event.objects.count()
    status, error = post_json(dispatcher_client, "/api/incidents", body)
    assert 400 <= status < 500
    assert words in error["error"]
    assert Incident.objects.count() == 0
    assert Event.objects.count() == before


def test_malformed_json_is_refused(dispatcher_client):
    response = dispatcher_client.post("/api/incidents", data="{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert "error" in response.json()
    assert Incident.objects.count() == 0


def test_good_incident_is_created_with_its_event(dispatcher_client):
    status, body = post_json(
        dispatcher_client, "/api/incidents", {"caller_number": "+8613800138000", "lon": 119.6, "lat": 24.9}
    )
    assert status == 201
    incident = Incident.objects.get(pk=body["id"])
    assert incident.location_source == "pin" and incident.caller_number == "+8613800138000"
    assert Event.objects.filter(kind="incident.created", incident=incident).count() == 1


def test_dispatch_of_unknown_unit_is_404_and_changes_nothing(dispatcher_client, world):
    _, incident = post_json(dispatcher_client, "/api/incidents", {"chief_complaint": "fall"})
    before = Event.objects.count()
    status, error = post_json(
        dispatcher_client, f"/api/incidents/{incident['id']}/dispatch", {"unit": 999999}
    )
    assert status == 404 and error["error"]
    assert Event.objects.count() == before


def test_busy_unit_cannot_be_dispatched_twice(dispatcher_client, world):
    _, first = post_json(dispatcher_client, "/api/incidents", {"chief_complaint": "a"})
    _, second = post_json(dispatcher_client, "/api/incidents", {"chief_complaint": "b"})
    status, _ = post_json(
        dispatcher_client, f"/api/incidents/{first['id']}/dispatch", {"unit": world.als1.pk}
    )
    assert status == 201
    status, error = post_json(
        dispatcher_client, f"/api/incidents/{second['id']}/dispatch", {"unit": world.als1.pk}
    )
    assert status == 409 and "T-ALS-1" in error["error"]
    assert Incident.objects.get(pk=second["id"]).assignments.count() == 0


def test_stale_form_on_an_incident_closed_meanwhile_is_409_and_changes_nothing(dispatcher_client, world):
    """Alice's form is still open on an incident Bob has just linked as a duplicate."""
    from dispatch.incidents.actions import link_incident

    _, original = post_json(dispatcher_client, "/api/incidents", {"chief_complaint": "chest pain"})
    _, duplicate = post_json(dispatcher_client, "/api/incidents", {"chief_complaint": "chest pain"})
    link_incident(
        Incident.objects.get(pk=duplicate["id"]), Incident.objects.get(pk=original["id"]), actor=world.bob
    )
    before = Event.objects.count()
    for url, body in [
        ("dispatch", {"unit": world.als1.pk}),
        ("triage", {"priority": 1, "chief_complaint": "arrest"}),
        ("locate", {"lon": 119.6, "lat": 24.9, "source": "pin"}),
    ]:
        status, error = post_json(dispatcher_client, f"/api/incidents/{duplicate['id']}/{url}", body)
        assert status == 409, url
        assert duplicate["number"] in error["error"]
    assert Event.objects.count() == before
    world.als1.refresh_from_db()
    assert world.als1.status == "available"
    assert Incident.objects.get(pk=duplicate["id"]).priority is None


def test_oversized_override_reason_is_refused_and_the_unit_stays_free(dispatcher_client, world):
    _, incident = post_json(dispatcher_client, "/api/incidents", {"chief_complaint": "fall"})
    body = {"unit": world.als1.pk, "recommended_rank": 2, "override_reason": "x" * 201}
    status, error = post_json(dispatcher_client, f"/api/incidents/{incident['id']}/dispatch", body)
    assert 400 <= status < 500 and "override" in error["error"]
    world.als1.refresh_from_db()
    assert world.als1.status == "available"
    assert Incident.objects.get(pk=incident["id"]).assignments.count() == 0
