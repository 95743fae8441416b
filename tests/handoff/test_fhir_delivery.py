"""A notice for a hospital with a FHIR endpoint is delivered through the outbox by run_outbox:
a failing endpoint and a slow one are retried with backoff and nothing is lost; the Bundle that
finally arrives carries the latest readings; every attempt is visible to the dispatcher."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from dispatch.crew.actions import record_vitals
from dispatch.incidents.actions import set_destination
from dispatch.models import FhirDeliveryAttempt, Outbox, OutboxStatus
from tests.support.er_helpers import notified, staff_get
from tests.support.fhir_endpoint import fhir_endpoint  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def city_with_endpoint(world, fhir_endpoint):  # noqa: F811
    world.city.fhir_endpoint = fhir_endpoint.url
    world.city.save()
    return world


def fhir_rows() -> list[Outbox]:
    return list(Outbox.objects.filter(channel="fhir").order_by("pk"))


def wait_out_backoff() -> None:
    """Skip the worker's wait: make every retry due now (the backoff itself is asserted)."""
    Outbox.objects.filter(status=OutboxStatus.PENDING).update(next_attempt_at=timezone.now())


def test_notice_is_delivered_as_a_valid_bundle(city_with_endpoint, fhir_endpoint):  # noqa: F811
    world = city_with_endpoint
    notice = notified(world, world.als1, world.city, world.carol)
    (row,) = fhir_rows()
    assert row.recipient == fhir_endpoint.url and row.payload == {"notice": notice.pk, "revision": 1}
    assert fhir_endpoint.bundles == []  # nothing is sent inside the crew's request
    call_command("run_outbox", "--once")
    (received,) = fhir_endpoint.bundles
    assert Bundle.model_validate(received).type == "transaction"
    assert fhir_endpoint.content_types[0].startswith("application/fhir+json")
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and row.payload["provider_reference"] == "tx-1"
    (attempt,) = FhirDeliveryAttempt.objects.all()
    assert attempt.ok and attempt.http_status == 200 and attempt.revision == 1


def test_an_outage_loses_nothing_and_the_latest_readings_arrive(city_with_endpoint, fhir_endpoint):  # noqa: F811
    world = city_with_endpoint
    fhir_endpoint.script = [503, 503, 502]
    notice = notified(world, world.als1, world.city, world.carol)
    started = timezone.now()
    call_command("run_outbox", "--once")
    (row,) = fhir_rows()
    assert row.status == OutboxStatus.PENDING and row.attempts == 1 and "503" in row.last_error
    assert timedelta(seconds=4) < row.next_attempt_at - started < timedelta(seconds=7)  # 5 s backoff
    wait_out_backoff()
    call_command("run_outbox", "--once")
    row.refresh_from_db()
    assert row.attempts == 2 and timedelta(seconds=9) < row.next_attempt_at - timezone.now() < timedelta(
        seconds=11
    )
    # new vitals during the outage: the update is queued too
    record_vitals(notice.assignment, actor=world.carol, heart_rate=140, spo2=86)
    call_command("run_handoff", "--once")
    assert [r.payload["revision"] for r in fhir_rows()] == [1, 2]
    wait_out_backoff()
    call_command("run_outbox", "--once")  # revision 1 is superseded; revision 2 meets the 502
    assert [r.status for r in fhir_rows()] == [OutboxStatus.SENT, OutboxStatus.PENDING]
    wait_out_backoff()
    call_command("run_outbox", "--once")  # the endpoint is back
    assert all(r.status == OutboxStatus.SENT for r in fhir_rows())
    (received,) = fhir_endpoint.bundles  # revision 1 was superseded by 2: sent once, with the latest
    hr = [
        e["resource"]["valueQuantity"]["value"]
        for e in received["entry"]
        if e["resource"]["resourceType"] == "Observation"
        and e["resource"]["code"]["coding"][0]["code"] == "8867-4"
    ]
    assert hr == [110, 140]
    shown = staff_get(world.alice, f"/api/assignments/{notice.assignment_id}/notice")[1]
    assert [d["status"] for d in shown["deliveries"]] == ["sent", "sent"]
    assert [a["http_status"] for a in shown["attempts"]] == [503, 503, 502, 200]


def test_a_slow_endpoint_times_out_and_is_retried(city_with_endpoint, fhir_endpoint, settings):  # noqa: F811
    settings.FHIR_TIMEOUT_SECONDS = 0.5
    fhir_endpoint.script = [("slow", 2.0)]
    world = city_with_endpoint
    notified(world, world.als1, world.city, world.carol)
    call_command("run_outbox", "--once")
    (row,) = fhir_rows()
    assert row.status == OutboxStatus.PENDING and "no answer within 0.5 s" in row.last_error
    failed = FhirDeliveryAttempt.objects.get()
    assert not failed.ok and failed.http_status is None and failed.duration_ms >= 500
    wait_out_backoff()
    call_command("run_outbox", "--once")
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert len(fhir_endpoint.bundles) >= 1  # the slow answer may have landed too: PUTs make it harmless


def test_a_refused_bundle_fails_for_good_and_says_why(city_with_endpoint, fhir_endpoint):  # noqa: F811
    fhir_endpoint.script = [422]
    world = city_with_endpoint
    notified(world, world.als1, world.city, world.carol)
    call_command("run_outbox", "--once")
    (row,) = fhir_rows()
    assert row.status == OutboxStatus.FAILED and "HTTP 422" in row.last_error


def test_a_redirected_patient_is_cancelled_at_the_first_hospital(city_with_endpoint, fhir_endpoint):  # noqa: F811
    world = city_with_endpoint
    notice = notified(world, world.als1, world.city, world.carol)
    set_destination(notice.assignment, world.county, actor=world.carol)
    call_command("run_handoff", "--once")  # resends to the county (no endpoint there)
    call_command("run_outbox", "--once")
    (cancelled,) = fhir_endpoint.bundles  # the first announcement was overtaken: only the cancellation
    (encounter,) = [e["resource"] for e in cancelled["entry"]]
    assert encounter["resourceType"] == "Encounter" and encounter["status"] == "cancelled"
    assert Bundle.model_validate(cancelled).type == "transaction"
    assert all(r.status == OutboxStatus.SENT for r in fhir_rows())
