"""Hospital staff read an incident through /api/incidents only while a unit not stood down is
bound for their hospital (the ER board's rule), and then in a reduced view: never the caller's
phone or name, the dispatcher's notes, the way in, nor the other units sent. The control room
still reads everything; the published schema says which shape each reader gets."""

import json

import pytest
from django.test import Client

from dispatch.incidents.actions import (
    cancel_assignment,
    dispatch_unit,
    set_destination,
    update_incident_details,
)
from dispatch.models import Assignment, Incident
from tests.support.crew_tablet import job
from tests.support.er_helpers import notified

CALLER = "+8613800138000"
SECRETS = {
    "caller_name": "张三 <b>&'\"",
    "notes": "调度备注：家属称患者有精神病史，门禁 #1234",
    "access_notes": "东门 密码 9876#",
    "address_room": "1702室",
}


def read(user, url: str) -> tuple[int, object, str]:
    client = Client()
    client.force_login(user)
    response = client.get(url, headers={"Accept-Language": "en"})
    text = response.content.decode()
    return response.status_code, json.loads(text), text


def detailed(assignment: Assignment, world) -> Incident:
    incident = assignment.incident
    update_incident_details(
        incident, actor=world.alice, patient_name="王先生", patient_age=67, hazards="犬只", **SECRETS
    )
    return incident


def assert_reduced(text: str) -> None:
    for secret in (CALLER, "13800138000", *SECRETS.values()):
        assert secret not in text, secret
    for field in ("caller_number", "caller_name", "notes", "access_notes", "address_room", "cancel_reason"):
        assert f'"{field}"' not in text, field


def test_hospital_reads_a_bound_incident_in_the_reduced_view(world):
    incident = detailed(job(world, world.als1, hospital=world.city), world)
    status, body, text = read(world.dave, f"/api/incidents/{incident.pk}")
    assert status == 200
    assert body["view"] == "hospital" and body["number"] == incident.number
    assert body["patient_name"] == "王先生" and body["patient_age"] == 67 and body["hazards"] == "犬只"
    assert body["chief_complaint"] == "胸痛" and body["priority"] == 1
    assert [a["unit_call_sign"] for a in body["assignments"]] == ["T-ALS-1"]
    assert_reduced(text)
    # the control room still reads the whole incident
    status, full, _ = read(world.alice, f"/api/incidents/{incident.pk}")
    assert status == 200 and "view" not in full
    assert full["caller_number"] == CALLER and full["caller_name"] == SECRETS["caller_name"]
    assert full["notes"] == SECRETS["notes"]


def test_the_list_holds_only_bound_incidents_each_reduced(world):
    bound = detailed(job(world, world.als1, hospital=world.city), world)
    stood_down = job(world, world.als2, hospital=world.city)
    cancel_assignment(stood_down, actor=world.alice, reason="误报")
    elsewhere = job(world, world.bls1, hospital=world.county)
    status, rows, text = read(world.dave, "/api/incidents")
    assert status == 200
    assert [r["id"] for r in rows] == [bound.pk]
    assert all(r["view"] == "hospital" for r in rows)
    assert "误报" not in text and stood_down.incident.number not in text
    assert elsewhere.incident.number not in text
    assert_reduced(text)
    status, rows, _ = read(world.frank, "/api/incidents")
    assert [r["id"] for r in rows] == [elsewhere.incident_id]
    status, rows, _ = read(world.alice, "/api/incidents")
    assert {r["id"] for r in rows} == {bound.pk, stood_down.incident_id, elsewhere.incident_id}


def test_a_unit_stood_down_takes_the_incident_out_of_the_hospitals_reach(world):
    assignment = job(world, world.als1, hospital=world.city)
    incident = detailed(assignment, world)
    assert read(world.dave, f"/api/incidents/{incident.pk}")[0] == 200
    cancel_assignment(assignment, actor=world.alice, reason="患者拒绝送医")
    for url in (f"/api/incidents/{incident.pk}", f"/api/incidents/{incident.pk}/timeline"):
        status, body, text = read(world.dave, url)
        assert status == 404 and body["code"] == "not_found", url
        assert "患者拒绝送医" not in text
    assert read(world.dave, "/api/incidents")[1] == []


def test_a_unit_sent_to_another_hospital_takes_the_incident_along(world):
    assignment = job(world, world.als1, hospital=world.city)
    set_destination(assignment, world.county, actor=world.alice)
    assert read(world.dave, f"/api/incidents/{assignment.incident_id}")[0] == 404
    status, body, _ = read(world.frank, f"/api/incidents/{assignment.incident_id}")
    assert status == 200 and body["view"] == "hospital"


def test_other_units_on_the_same_incident_stay_hidden(world):
    mine = job(world, world.als1, hospital=world.city)
    incident = detailed(mine, world)
    dispatch_unit(incident, world.als2, actor=world.alice, hospital=world.county)
    dispatch_unit(incident, world.bls1, actor=world.alice)  # no destination yet
    stood_down = dispatch_unit(incident, world.neg1, actor=world.alice, hospital=world.city)
    cancel_assignment(stood_down, actor=world.alice, reason="不需要")
    status, body, text = read(world.dave, f"/api/incidents/{incident.pk}")
    assert status == 200
    assert [a["id"] for a in body["assignments"]] == [mine.pk]
    for other in ("T-ALS-2", "T-BLS-1", "T-NEG-1", "不需要"):
        assert other not in text
    status, body, _ = read(world.frank, f"/api/incidents/{incident.pk}")
    assert [a["unit_call_sign"] for a in body["assignments"]] == ["T-ALS-2"]


def test_a_stood_down_patients_notice_is_gone_from_the_er_api_too(world):
    notice = notified(world, world.als1, world.city, world.carol, name="王先生")
    assert read(world.dave, f"/api/er/notices/{notice.pk}")[0] == 200
    cancel_assignment(notice.assignment, actor=world.alice, reason="途中取消")
    status, body, text = read(world.dave, f"/api/er/notices/{notice.pk}")
    assert status == 404 and "王先生" not in text
    assert read(world.alice, f"/api/er/notices/{notice.pk}")[0] == 200  # the control room keeps it


@pytest.mark.parametrize("path", ["/api/incidents", "/api/incidents/{incident_id}"])
def test_the_schema_documents_both_views(world, path):
    client = Client()
    client.force_login(world.erin)
    schema = client.get("/api/schema/").json()
    operation = schema["paths"][path]["get"]
    shape = operation["responses"]["200"]["content"]["application/json"]["schema"]
    shape = shape.get("items", shape)
    assert {s["$ref"].rsplit("/", 1)[1] for s in shape["anyOf"]} == {"IncidentOut", "HospitalIncidentOut"}
    assert "Hospital staff" in operation["description"]
    hospital = schema["components"]["schemas"]["HospitalIncidentOut"]
    assert hospital["properties"]["view"]["const"] == "hospital" and "view" in hospital["required"]
    assert "view" not in schema["components"]["schemas"]["IncidentOut"]["properties"]
    hospital = hospital["properties"]
    for hidden in ("caller_number", "caller_name", "notes", "access_notes"):
        assert hidden not in hospital
