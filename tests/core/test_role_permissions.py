"""Each role lands where it should and sees only what it needs, in queries, views and the API."""

import pytest
from django.contrib.gis.geos import Point

from dispatch.core.permissions import visible_incidents
from dispatch.incidents.actions import create_incident, dispatch_unit
from tests.support.roster import on_shift


@pytest.fixture
def incidents(world):
    """One incident bound for each hospital, each with a unit on it."""
    to_city = create_incident(
        actor=world.alice, chief_complaint="胸痛", location=Point(119.6, 24.9), location_source="pin"
    )
    to_county = create_incident(
        actor=world.alice, chief_complaint="跌倒", location=Point(119.6, 24.87), location_source="pin"
    )
    dispatch_unit(to_city, world.als1, actor=world.alice, hospital=world.city)
    dispatch_unit(to_county, world.als2, actor=world.alice, hospital=world.county)
    on_shift(world.carol, world.als2)
    return to_city, to_county


@pytest.mark.parametrize("user", ["alice", "bob", "carol", "dave", "erin"])
def test_every_role_lands_on_a_page_that_names_its_role(client, world, user):
    client.force_login(getattr(world, user))
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert f"role-{getattr(world, user).role}" in response.content.decode()


def test_signed_out_visitors_are_sent_to_sign_in(client, db):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    "user, status", [("alice", 200), ("bob", 200), ("erin", 200), ("carol", 403), ("dave", 403)]
)
def test_map_page_is_for_the_control_room(client, world, user, status):
    client.force_login(getattr(world, user))
    assert client.get("/map/").status_code == status


@pytest.mark.parametrize("user, status", [("alice", 200), ("carol", 403), ("dave", 403)])
def test_unit_list_api_is_for_the_control_room(client, world, user, status):
    client.force_login(getattr(world, user))
    assert client.get("/api/units").status_code == status


def test_queries_confine_hospitals_and_crews(world, incidents):
    to_city, to_county = incidents
    assert set(visible_incidents(world.alice)) == {to_city, to_county}
    assert list(visible_incidents(world.dave)) == [to_city]
    assert list(visible_incidents(world.frank)) == [to_county]
    assert list(visible_incidents(world.carol)) == [to_county]


def test_api_confines_hospital_staff_to_their_own_patients(client, world, incidents):
    to_city, to_county = incidents
    client.force_login(world.dave)
    listed = [row["id"] for row in client.get("/api/incidents").json()]
    assert listed == [to_city.pk]
    assert client.get(f"/api/incidents/{to_county.pk}").status_code == 404
    events = client.get("/api/events").json()
    assert events and all(e["hospital"] == world.city.pk for e in events)


def test_hospital_staff_and_crews_cannot_create_or_dispatch(client, world, incidents):
    to_city, _ = incidents
    for user in (world.dave, world.carol):
        client.force_login(user)
        assert client.post("/api/incidents", {}, content_type="application/json").status_code == 403
        response = client.post(
            f"/api/incidents/{to_city.pk}/dispatch", {"unit": world.bls1.pk}, content_type="application/json"
        )
        assert response.status_code in (403, 404)
    assert to_city.assignments.count() == 1


@pytest.mark.parametrize("user, status", [("alice", 200), ("bob", 200), ("carol", 403), ("dave", 403)])
def test_console_is_for_dispatchers_and_supervisors(client, world, user, status):
    client.force_login(getattr(world, user))
    response = client.get("/console/")
    assert response.status_code == status
    if status == 200:
        assert b'id="console"' in response.content and b"data-last-seq" in response.content


@pytest.mark.parametrize("user, shown", [("alice", True), ("bob", True), ("carol", False), ("dave", False)])
def test_the_start_page_counts_incidents_and_units_for_the_control_room_only(client, world, user, shown):
    client.force_login(getattr(world, user))
    page = client.get("/", headers={"Accept-Language": "en"}).content.decode()
    assert ('class="stats"' in page) is shown
    if shown:
        assert "units available" in page and "open incidents" in page
