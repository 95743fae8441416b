"""The pre-arrival notice as an HL7 FHIR R4 transaction Bundle, and the client that POSTs it to
a hospital's FHIR endpoint.

The Bundle holds a Patient, an Encounter (class EMER, status planned until arrival, the ETA as
the planned period of its ER location), the chief complaint as a Condition (with the crew's
findings, treatment and drugs as notes) and one Observation per vital sign with its LOINC code
and UCUM unit (blood pressure as the 85354-9 panel). Each entry is a conditional PUT on our
identifier, so a Bundle delivered twice (the outbox is at-least-once) updates the same
resources instead of duplicating them.

Validation: fhir.resources from 7.0 on is R5 at its root, with R4B (4.3.0) as the subpackage,
and since 6.5.0 even its "R4" default is R4B; the releases that model R4 4.0.1 itself (6.4.0 and
older) are built on pydantic 1, which cannot live beside django-ninja's pydantic 2. R4B was a
technical release confined to the medication-definition, evidence and subscription resources:
Patient, Encounter, Condition, Observation and Bundle are the same in R4 and R4B, so we validate
with `fhir.resources.R4B` and use only elements both releases define. This module is the only
one that imports fhir.resources or talks to a hospital endpoint (docs/house-style.md, practice 7).
"""

import time
import uuid
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from fhir.resources.R4B.bundle import Bundle

from hospitals.endpoints import may_carry_patient_data

# Our identifier namespaces (FHIR identifiers need a system URI; these are ours).
NS = "urn:dispatch120"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ACT_PRIORITY = "http://terminology.hl7.org/CodeSystem/v3-ActPriority"
FHIR_JSON = "application/fhir+json; fhirVersion=4.0"

# reading -> (LOINC code, display, UCUM code, unit as shown)
VITAL_CODES: dict[str, tuple[str, str, str, str]] = {
    "heart_rate": ("8867-4", "Heart rate", "/min", "/min"),
    "spo2": ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", "%"),
    "respiratory_rate": ("9279-1", "Respiratory rate", "/min", "/min"),
    "temperature_c": ("8310-5", "Body temperature", "Cel", "°C"),
    "gcs": ("9269-2", "Glasgow coma score total", "{score}", "{score}"),
    "glucose_mmol": ("15074-8", "Glucose [Moles/volume] in Blood", "mmol/L", "mmol/L"),
}
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
BP_PARTS = {
    "systolic_bp": ("8480-6", "Systolic blood pressure"),
    "diastolic_bp": ("8462-4", "Diastolic blood pressure"),
}
AGE = ("30525-0", "Age")
GENDER = {"M": "male", "F": "female"}
# Our priority I-IV as HL7 v3 ActPriority (EM emergency, UR urgent, R routine).
PRIORITY = {1: ("EM", "emergency"), 2: ("EM", "emergency"), 3: ("UR", "urgent"), 4: ("R", "routine")}


class FhirError(Exception):
    """A delivery that failed; `permanent` when the endpoint refused the Bundle itself."""

    def __init__(self, message: str, permanent: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.status = status


def full_url(*parts: object) -> str:
    """A stable urn:uuid for one resource of one notice, so references hold across sends."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, NS + ':' + ':'.join(map(str, parts)))}"


def coding(system: str, code: str, display: str) -> dict[str, Any]:
    return {"system": system, "code": code, "display": display}


def entry(url: str, resource: dict[str, Any], system: str, value: str) -> dict[str, Any]:
    """A conditional PUT on our identifier: delivering twice updates, never duplicates."""
    resource = {**resource, "identifier": [{"system": system, "value": value}]}
    query = f"{resource['resourceType']}?identifier={system}|{value}"
    return {"fullUrl": url, "resource": resource, "request": {"method": "PUT", "url": query}}


def patient_entry(row: dict[str, Any]) -> dict[str, Any]:
    p = row["patient"]
    resource: dict[str, Any] = {"resourceType": "Patient", "gender": GENDER.get(p["sex"], "unknown")}
    if p["name"]:
        resource["name"] = [{"text": p["name"]}]
    return entry(full_url("patient", row["assignment"]), resource, f"{NS}:assignment", str(row["assignment"]))


def encounter_status(row: dict[str, Any]) -> str:
    if row["handover_at"]:
        return "finished"
    return "arrived" if row["arrived_at"] else "planned"


def encounter_entry(row: dict[str, Any], hospital_name: str) -> dict[str, Any]:
    incident = row["incident"]
    location: dict[str, Any] = {"location": {"display": f"{hospital_name} 急诊"}}
    if row["arrived_at"]:
        location |= {"status": "active", "period": {"start": row["arrived_at"]}}
    elif row["eta"]["arrives_at"]:
        # The ETA: when the patient is expected at the ER, from the road router.
        location |= {"status": "planned", "period": {"start": row["eta"]["arrives_at"]}}
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "status": encounter_status(row),
        "class": coding(ACT_CODE, "EMER", "emergency"),
        "subject": {"reference": full_url("patient", row["assignment"])},
        "reasonCode": [{"text": incident["chief_complaint"]}] if incident["chief_complaint"] else None,
        "diagnosis": [{"condition": {"reference": full_url("condition", row["assignment"])}}],
        "location": [location],
        "serviceType": {"text": f"120 {row['unit']['call_sign']} · {incident['number']}"},
    }
    if incident["priority"] in PRIORITY:
        code, display = PRIORITY[incident["priority"]]
        resource["priority"] = {
            "coding": [coding(ACT_PRIORITY, code, display)],
            "text": f"120 P{incident['priority']}",
        }
    if row["handover_at"]:
        resource["period"] = {"start": row["arrived_at"], "end": row["handover_at"]}
    resource = {k: v for k, v in resource.items() if v is not None}
    return entry(full_url("encounter", row["assignment"]), resource, f"{NS}:incident", incident["number"])


def condition_entry(row: dict[str, Any]) -> dict[str, Any]:
    p = row["patient"]
    notes = [
        text
        for text in (
            p["findings"] and f"查体 Findings: {p['findings']}",
            p["interventions"] and f"处置 Treatment: {p['interventions']}",
            p["drugs"]
            and "用药 Drugs: "
            + "; ".join(
                " ".join(filter(None, [d["name"], d.get("dose"), d.get("route")])) for d in p["drugs"]
            ),
        )
        if text
    ]
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [coding(CONDITION_CLINICAL, "active", "Active")]},
        "verificationStatus": {"coding": [coding(CONDITION_VERIFICATION, "provisional", "Provisional")]},
        "category": [{"coding": [coding(CONDITION_CATEGORY, "encounter-diagnosis", "Encounter Diagnosis")]}],
        "code": {"text": row["incident"]["chief_complaint"] or "未知 unknown"},
        "subject": {"reference": full_url("patient", row["assignment"])},
        "encounter": {"reference": full_url("encounter", row["assignment"])},
    }
    if notes:
        resource["note"] = [{"text": text} for text in notes]
    return entry(
        full_url("condition", row["assignment"]), resource, f"{NS}:complaint", str(row["assignment"])
    )


def quantity(value: float, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def observation(
    row: dict[str, Any], key: str, taken_at: str, code: tuple[str, str], **value
) -> dict[str, Any]:
    resource = {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [coding(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")]}],
        "code": {"coding": [coding(LOINC, *code)], "text": code[1]},
        "subject": {"reference": full_url("patient", row["assignment"])},
        "encounter": {"reference": full_url("encounter", row["assignment"])},
        "effectiveDateTime": taken_at,
        **value,
    }
    return entry(full_url("observation", key), resource, f"{NS}:observation", key)


def vital_entries(row: dict[str, Any]) -> list[dict[str, Any]]:
    """One Observation per reading of every set, blood pressure as one panel."""
    entries = []
    for v in row["vitals"]:
        for name, (loinc, display, ucum, unit) in VITAL_CODES.items():
            if v[name] is not None:
                value = quantity(v[name], unit, ucum)
                entries.append(
                    observation(
                        row, f"{v['id']}-{loinc}", v["taken_at"], (loinc, display), valueQuantity=value
                    )
                )
        if v["systolic_bp"] is not None and v["diastolic_bp"] is not None:
            components = [
                {
                    "code": {"coding": [coding(LOINC, *BP_PARTS[part])]},
                    "valueQuantity": quantity(v[part], "mmHg", "mm[Hg]"),
                }
                for part in ("systolic_bp", "diastolic_bp")
            ]
            entries.append(
                observation(row, f"{v['id']}-{BP_PANEL[0]}", v["taken_at"], BP_PANEL, component=components)
            )
    return entries


def age_entry(row: dict[str, Any]) -> list[dict[str, Any]]:
    age = row["patient"]["age"]
    if age is None:
        return []
    taken = row["patient"]["updated_at"] or row["sent_at"]
    obs = observation(row, f"age-{row['assignment']}", taken, AGE, valueQuantity=quantity(age, "a", "a"))
    obs["resource"]["category"] = [
        {"coding": [coding(OBSERVATION_CATEGORY, "social-history", "Social History")]}
    ]
    return [obs]


def build_bundle(row: dict[str, Any], hospital_name: str, now: str) -> dict[str, Any]:
    """The notice (a row of dispatch.handoff.reads) as a transaction Bundle, as JSON-ready data."""
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "identifier": {"system": f"{NS}:notice", "value": f"{row['id']}-{row['revision']}"},
        "timestamp": now,
        "entry": [
            patient_entry(row),
            encounter_entry(row, hospital_name),
            condition_entry(row),
            *vital_entries(row),
            *age_entry(row),
        ],
    }


def withdrawal_bundle(row: dict[str, Any], hospital_name: str, now: str) -> dict[str, Any]:
    """For the hospital a patient no longer comes to: its Encounter, cancelled."""
    encounter = encounter_entry(row, hospital_name)
    resource = {k: v for k, v in encounter["resource"].items() if k not in ("subject", "diagnosis", "period")}
    resource["status"] = "cancelled"
    resource["location"] = [{"location": {"display": f"{hospital_name} 急诊"}, "status": "completed"}]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "identifier": {"system": f"{NS}:notice", "value": f"{row['id']}-{row['revision']}-withdrawn"},
        "timestamp": now,
        "entry": [{**encounter, "resource": resource}],
    }


def validated(bundle: dict[str, Any]) -> dict[str, Any]:
    """The Bundle as fhir.resources reads it (every entry's resource is checked against its own
    resource type), or pydantic's ValidationError naming the element at fault."""
    return Bundle.model_validate(bundle).model_dump(mode="json", by_alias=True, exclude_none=True)


@dataclass(frozen=True)
class Delivered:
    status: int
    reference: str
    duration_ms: int


def post_bundle(
    url: str, bundle: dict[str, Any], timeout: float | None = None, headers: dict[str, str] | None = None
) -> Delivered:
    """POST the Bundle to the endpoint's base URL (a FHIR transaction). A 2xx answer is
    delivered; 4xx (but 408 and 429) means the endpoint refuses this Bundle (permanent);
    anything else, a timeout or a refused connection is worth retrying. A 401 is retried too:
    the next attempt signs in afresh (hospitals.fhir_auth)."""
    timeout = settings.FHIR_TIMEOUT_SECONDS if timeout is None else timeout
    if not may_carry_patient_data(url):
        raise FhirError("the endpoint is not https: patient data is not sent there", permanent=True)
    started = time.monotonic()
    try:
        response = requests.post(
            url,
            json=bundle,
            headers={"Content-Type": FHIR_JSON, "Accept": FHIR_JSON, **(headers or {})},
            timeout=timeout,
            allow_redirects=False,  # patient data goes only to the configured address
        )
    except requests.Timeout as exc:
        raise FhirError(f"no answer within {timeout:g} s") from exc
    except requests.RequestException as exc:
        raise FhirError(f"cannot reach the endpoint: {type(exc).__name__}") from exc
    elapsed = int((time.monotonic() - started) * 1000)
    if 200 <= response.status_code < 300:
        return Delivered(response.status_code, reference(response), elapsed)
    if 300 <= response.status_code < 400:
        raise FhirError(f"HTTP {response.status_code}: redirected, not followed", True, response.status_code)
    permanent = 400 <= response.status_code < 500 and response.status_code not in (401, 408, 429)
    # Only the status is kept and shown: an endpoint's error page may echo the patient's data.
    raise FhirError(f"HTTP {response.status_code}", permanent, response.status_code)


def reference(response: requests.Response) -> str:
    """What the endpoint calls its answer: the response Bundle's id, else its Location."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    return str(body.get("id") or response.headers.get("Location") or response.status_code)
