"""What the ER board's shift tests share (tests/handoff/test_er_withdrawn_*, _messages, _care_record,
_board_shift_browser): a patient triaged with the chest-pain protocol, redirected, stood down or
handed over, and the crew's and the ER's message line."""

import json

from django.test import Client

from dispatch.crew.actions import record_vitals, update_patient_record
from dispatch.handoff.actions import record_arrival, record_handover, refresh_notices, send_notice
from dispatch.incidents.actions import triage_incident, update_incident_details
from dispatch.models import Assignment, PreArrivalNotice, User
from tests.support.crew_tablet import new_key
from tests.support.er_helpers import transporting

# A chest-pain triage in the default protocols: awake and breathing, then shock signs.
CHEST_PAIN = {"protocol": "chest-pain", "answers": [2, 0]}
ODD = "STEMI <b>&amp;</b> 'quotes' \"双引号\" 😀 ≥ 3 mm — please alert the cath lab\\n"


def patient_on_the_way(
    world, unit, hospital, crew: User, *, complaint: str = "胸痛", name: str = "王先生", triaged: bool = False
) -> PreArrivalNotice:
    """A crew carrying a patient with a record and vitals, the notice sent; the incident triaged
    with the chest-pain protocol and given caller details and dispatcher's notes when asked."""
    assignment = transporting(world, unit, hospital, crew, complaint)
    incident = assignment.incident
    if triaged:
        triage_incident(
            incident, actor=world.alice, priority=1, chief_complaint=complaint, answers=CHEST_PAIN
        )
    update_incident_details(
        incident, actor=world.alice, caller_name="儿子李四", notes="家属在小区南门接应，门禁 1234"
    )
    update_patient_record(
        assignment,
        actor=crew,
        chief_complaint=complaint,
        name=name,
        age=64,
        sex="M",
        findings="胸骨后压榨样疼痛",
        interventions="吸氧 4 L/min；心电监护",
        drugs=[{"name": "阿司匹林", "dose": "300 mg", "route": "嚼服"}],
    )
    record_vitals(assignment, actor=crew, heart_rate=118, systolic_bp=92, diastolic_bp=60, spo2=93)
    record_vitals(assignment, actor=crew, heart_rate=104, systolic_bp=101, diastolic_bp=66, spo2=96)
    return send_notice(Assignment.objects.get(pk=assignment.pk), actor=crew)


def handed_over(world, notice: PreArrivalNotice, by: User) -> PreArrivalNotice:
    record_arrival(notice.assignment, actor=by)
    record_handover(Assignment.objects.get(pk=notice.assignment_id), actor=by)
    return PreArrivalNotice.objects.get(pk=notice.pk)


def sweep() -> int:
    """One pass of the handoff loop's notice refresh (moves redirected notices)."""
    return refresh_notices()


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def get(user: User, url: str) -> tuple[int, dict | list]:
    response = client_for(user).get(url, headers={"Accept-Language": "en"})
    return response.status_code, response.json()


def post(user: User, url: str, body: dict | None = None, key: str | None = None) -> tuple[int, dict]:
    headers = {"Accept-Language": "en", "Idempotency-Key": key or new_key()}
    response = client_for(user).post(
        url, data=json.dumps(body or {}), content_type="application/json", headers=headers
    )
    return response.status_code, response.json()
