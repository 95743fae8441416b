"""POST /api/incidents/{id}/details: the caller's and the patient's details, where inside the
address, how to get in, hazards and notes, typed at any time while the incident is open. The
crew on the job reads them on its tablet; no other crew does. Bad input changes nothing."""

import json

import pytest

from dispatch.incidents.actions import close_incident, create_incident
from dispatch.models import Event, Incident
from tests.support.crew_tablet import crew_member, job, signed_in

ODD = {
    "caller_name": '王<b>先生</b> "老王"',
    "patient_name": "李 'O'Brien' 太太 🐕",
    "patient_sex": "F",
    "patient_age": 82,
    "patient_count": 2,
    "address_building": "3栋 & 附楼",
    "address_unit": "2单元",
    "address_floor": "-1",
    "address_room": "502<script>",
    "access_notes": "门禁 #1234；电梯坏了 — 走楼梯",
    "hazards": "大狗 🐕 在院子里\n煤气味",
    "notes": "家属在楼下等\n第二行 %s {0} \\ end",
}


def post(client, url: str, body: dict) -> tuple[int, dict]:
    response = client.post(url, data=json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


@pytest.fixture
def on_the_job(world):
    """Carol on T-ALS-1, sent to an incident."""
    return job(world, world.als1, hospital=world.city, crew=world.carol)


def test_every_detail_is_kept_exactly_and_the_crew_on_the_job_reads_it(world, on_the_job):
    incident = on_the_job.incident
    status, body = post(signed_in(world.alice), f"/api/incidents/{incident.pk}/details", ODD)
    assert status == 200, body
    assert {name: body[name] for name in ODD} == ODD
    stored = Incident.objects.get(pk=incident.pk)
    assert {name: getattr(stored, name) for name in ODD} == ODD
    event = Event.objects.filter(incident=incident, kind="incident.updated").get()
    assert event.data["fields"] == sorted(ODD)
    tablet = signed_in(world.carol).get(f"/api/crew/assignments/{on_the_job.pk}").json()["incident"]
    shown = (
        "notes",
        "address_building",
        "address_unit",
        "address_floor",
        "address_room",
        "access_notes",
        "hazards",
    )
    assert {name: tablet[name] for name in shown} == {name: ODD[name] for name in shown}


def test_another_crew_never_sees_them(world, on_the_job):
    post(signed_in(world.alice), f"/api/incidents/{on_the_job.incident_id}/details", ODD)
    chen = crew_member("chen")
    theirs = job(world, world.als2, crew=chen)
    response = signed_in(chen).get(f"/api/crew/assignments/{on_the_job.pk}")
    assert response.status_code == 404 and "大狗" not in response.content.decode()
    assert signed_in(chen).get(f"/api/incidents/{on_the_job.incident_id}").status_code == 404
    own = signed_in(chen).get(f"/api/crew/assignments/{theirs.pk}").json()["incident"]
    assert own["hazards"] == "" and own["notes"] == ""


def test_only_what_changed_is_written(world, on_the_job):
    url = f"/api/incidents/{on_the_job.incident_id}/details"
    post(signed_in(world.alice), url, {"hazards": "狗", "notes": "a"})
    status, _ = post(signed_in(world.alice), url, {"hazards": "狗", "notes": "b"})
    assert status == 200
    fields = list(
        Event.objects.filter(kind="incident.updated").order_by("seq").values_list("data__fields", flat=True)
    )
    assert fields == [["hazards", "notes"], ["notes"]]
    status, _ = post(signed_in(world.alice), url, {"hazards": "  狗  "})  # the same, once trimmed
    assert status == 200 and Event.objects.filter(kind="incident.updated").count() == 2


@pytest.mark.parametrize(
    "body",
    [
        {"patient_age": 151},
        {"patient_age": -1},
        {"patient_age": "eighty"},
        {"patient_count": 0},
        {"patient_sex": "X"},
        {"address_building": "楼" * 31},
        {"access_notes": "x" * 501},
        {"hazards": "x" * 501},
        {"notes": "x" * 4001},
        {"hazards": 12},
        {"floor": "3"},
        {"hazards": "ok", "patient_age": 200},  # one bad field: the good one is not written either
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(world, on_the_job, body):
    before = Event.objects.count()
    status, error = post(signed_in(world.alice), f"/api/incidents/{on_the_job.incident_id}/details", body)
    assert status == 422, error
    assert error["error"]
    assert Event.objects.count() == before
    stored = Incident.objects.get(pk=on_the_job.incident_id)
    assert (stored.hazards, stored.patient_age, stored.patient_count, stored.address_building) == (
        "",
        None,
        1,
        "",
    )


@pytest.mark.parametrize("who", ["carol", "dave", "erin"])
def test_only_dispatchers_and_supervisors_change_them(world, on_the_job, who):
    status, _ = post(signed_in(getattr(world, who)), f"/api/incidents/{on_the_job.incident_id}/details", ODD)
    assert status == 403
    assert not Event.objects.filter(kind="incident.updated").exists()
    assert Incident.objects.get(pk=on_the_job.incident_id).hazards == ""


def test_a_supervisor_may(world, on_the_job):
    status, _ = post(
        signed_in(world.bob), f"/api/incidents/{on_the_job.incident_id}/details", {"hazards": "狗"}
    )
    assert status == 200 and Incident.objects.get(pk=on_the_job.incident_id).hazards == "狗"


def test_a_closed_incident_is_reopened_first(world):
    incident = create_incident(actor=world.alice, caller_number="13800000001")
    close_incident(incident, actor=world.alice, outcome="false_call")
    before = Event.objects.count()
    status, error = post(signed_in(world.alice), f"/api/incidents/{incident.pk}/details", {"notes": "late"})
    assert status == 409 and error["code"] == "incident_closed"
    assert Event.objects.count() == before and Incident.objects.get(pk=incident.pk).notes == ""


def test_unknown_incident_is_404(world):
    status, _ = post(signed_in(world.alice), "/api/incidents/999999/details", {"notes": "x"})
    assert status == 404
