"""The pre-arrival notice as a FHIR R4 transaction Bundle: Patient, Encounter with the ETA,
Condition for the chief complaint, Observations for the vital signs with LOINC codes and UCUM
units; it validates with fhir.resources and references resolve inside the Bundle."""

import pytest
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation

from dispatch.crew.actions import record_vitals
from dispatch.handoff.reads import notice_row_by_id
from hospitals.fhir import build_bundle, validated
from tests.support.er_helpers import notified


@pytest.fixture
def bundle(world) -> dict:
    notice = notified(
        world,
        world.als1,
        world.city,
        world.carol,
        complaint="胸痛 2 小时",
        name="王先生",
        age=64,
        sex="M",
        findings="胸骨后压榨样疼痛",
        drugs=[{"name": "阿司匹林", "dose": "300 mg", "route": "嚼服"}],
    )
    record_vitals(
        notice.assignment,
        actor=world.carol,
        temperature_c=36.8,
        gcs=14,
        glucose_mmol=6.2,
        respiratory_rate=22,
    )
    row = notice_row_by_id(notice.pk)
    return build_bundle(row, world.city.name, timezone.now().isoformat())


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def loinc(observation: dict) -> str:
    (code,) = [c["code"] for c in observation["code"]["coding"] if c["system"] == "http://loinc.org"]
    return code


def test_the_bundle_validates_with_fhir_resources(bundle):
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "transaction" and len(parsed.entry) == len(bundle["entry"])
    assert all(
        isinstance(e.resource, Observation)
        for e in parsed.entry
        if e.resource.get_resource_type() == "Observation"
    )
    assert validated(bundle)["resourceType"] == "Bundle"


def test_patient_encounter_and_condition(bundle, world):
    (patient,) = resources(bundle, "Patient")
    assert patient["gender"] == "male" and patient["name"] == [{"text": "王先生"}]
    (encounter,) = resources(bundle, "Encounter")
    assert encounter["status"] == "planned" and encounter["class"]["code"] == "EMER"
    assert encounter["priority"]["coding"][0]["code"] == "EM"
    (location,) = encounter["location"]
    assert "period" not in location  # no road network here: no ETA rather than a guess
    (condition,) = resources(bundle, "Condition")
    assert condition["code"]["text"] == "胸痛 2 小时"
    assert any("阿司匹林" in n["text"] for n in condition["note"])
    urls = {e["fullUrl"] for e in bundle["entry"]}
    for resource in [encounter, condition, *resources(bundle, "Observation")]:
        assert resource["subject"]["reference"] in urls  # references resolve inside the Bundle


def test_vital_signs_carry_loinc_codes_and_ucum_units(bundle):
    observations = resources(bundle, "Observation")
    codes = {loinc(o) for o in observations}
    assert {"8867-4", "59408-5", "85354-9", "9279-1", "8310-5", "9269-2", "15074-8", "30525-0"} <= codes
    (bp,) = [o for o in observations if loinc(o) == "85354-9"]
    parts = {c["code"]["coding"][0]["code"]: c["valueQuantity"]["value"] for c in bp["component"]}
    assert parts == {"8480-6": 150, "8462-4": 90}
    (hr,) = [o for o in observations if loinc(o) == "8867-4"]
    assert hr["valueQuantity"] == {
        "value": 110,
        "unit": "/min",
        "system": "http://unitsofmeasure.org",
        "code": "/min",
    }
    assert all(
        e["request"]["method"] == "PUT" and "identifier=" in e["request"]["url"] for e in bundle["entry"]
    )


def test_the_eta_is_the_encounters_planned_arrival(world, grid):
    notice = notified(world, world.als2, world.city, world.carol)
    row = notice_row_by_id(notice.pk)
    (encounter,) = resources(build_bundle(row, world.city.name, timezone.now().isoformat()), "Encounter")
    assert encounter["location"][0]["period"]["start"] == row["eta"]["arrives_at"]


def test_a_broken_bundle_is_refused_by_validation(bundle):
    """So a Bundle our own code got wrong never leaves (dispatch.handoff.delivery: a permanent failure)."""
    (hr,) = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"][:1]
    hr["resource"]["valueQuantity"]["value"] = "one hundred and ten"
    with pytest.raises(ValueError):
        validated(bundle)
