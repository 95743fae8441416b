"""The crew confirms or changes where the patient goes, with the same hospital ranking the
console uses, for its own incident only."""

from dispatch.models import Assignment, Event, Incident
from tests.support.crew_tablet import post


def test_recommendation_for_my_patient(world, tablet, assignment):
    response = tablet.get(
        f"/api/crew/assignments/{assignment.pk}/recommendation", {"hospital_capability": "stroke"}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["incident"], body["lon"], body["lat"]) == (assignment.incident_id, 119.6, 24.9)
    assert body["hospitals"][0]["name"] == "市第一人民医院" and body["hospitals"][0]["has_capability"]
    assert body["hospital_capability"] == "stroke"


def test_unknown_capability_is_refused(tablet, assignment):
    response = tablet.get(
        f"/api/crew/assignments/{assignment.pk}/recommendation", {"hospital_capability": "magic"}
    )
    assert response.status_code == 422 and "magic" in response.json()["error"]


def test_without_a_location_there_is_nothing_to_rank(world, tablet, assignment):
    Incident.objects.filter(pk=assignment.incident_id).update(location=None)
    response = tablet.get(f"/api/crew/assignments/{assignment.pk}/recommendation")
    assert response.status_code == 409 and response.json()["code"] == "no_location"


def test_changing_the_destination_tells_both_hospitals(world, tablet, assignment):
    url = f"/api/crew/assignments/{assignment.pk}/destination"
    status, body = post(
        tablet, url, {"hospital": world.county.pk, "client_time": "2026-12-01T08:40:00+08:00"}
    )
    assert status == 200 and body["destination"]["name"] == "县人民医院"
    assert Assignment.objects.get(pk=assignment.pk).hospital == world.county
    redirected = Event.objects.get(kind="assignment.redirected")
    destination = Event.objects.get(kind="assignment.destination")
    assert (redirected.hospital, destination.hospital, destination.unit) == (
        world.city,
        world.county,
        world.als1,
    )
    assert destination.data["client_time"] == "2026-12-01T08:40:00+08:00"


def test_confirming_the_same_hospital_changes_nothing(world, tablet, assignment):
    before = Event.objects.count()
    status, body = post(
        tablet, f"/api/crew/assignments/{assignment.pk}/destination", {"hospital": world.city.pk}
    )
    assert status == 200 and body["destination"]["id"] == world.city.pk
    assert Event.objects.count() == before


def test_unknown_hospital_is_a_404_and_changes_nothing(world, tablet, assignment):
    status, error = post(tablet, f"/api/crew/assignments/{assignment.pk}/destination", {"hospital": 999999})
    assert status == 404 and error["error"]
    assert Assignment.objects.get(pk=assignment.pk).hospital == world.city
