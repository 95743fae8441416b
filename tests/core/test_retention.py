"""Personal data past its retention period goes, and nothing else does: replies to retried
writes, caller-location payloads, delivered outbox payloads, detailed position history (thinned,
not emptied) and old refused-fix counters, each by its own period in settings.RETENTION_DAYS."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from dispatch.core.retention import purge
from dispatch.models import CallerLocation, IdempotencyKey, Outbox, OutboxStatus
from fleet.models import PositionReport, PositionSource, RejectedFix
from tests.support.calls_helpers import send_link, taken_call

pytestmark = pytest.mark.django_db

NEW = {"caller_number": "+8613800000120", "lon": 119.6, "lat": 24.9, "chief_complaint": "胸痛"}


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)


def open_incident(client: Client, key: str) -> None:
    response = client.post(
        "/api/incidents", NEW, content_type="application/json", headers={"Idempotency-Key": key}
    )
    assert response.status_code == 201


def test_old_replies_go_and_recent_ones_still_answer_retries(world):
    client = Client()
    client.force_login(world.alice)
    open_incident(client, "old-key-0001")
    open_incident(client, "new-key-0001")
    IdempotencyKey.objects.filter(key="old-key-0001").update(created_at=days_ago(8))
    assert purge()["idempotency_replies"] == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new-key-0001"]


def test_raw_caller_location_payloads_go_the_point_stays(world):
    path = send_link(world, taken_call(world))
    assert (
        Client().post(path, {"lat": 24.95, "lon": 119.6}, content_type="application/json").status_code == 200
    )
    location = CallerLocation.objects.get()
    assert location.raw  # what the phone sent, kept for now
    assert purge()["caller_location_payloads"] == 0
    CallerLocation.objects.update(received_at=days_ago(31))
    assert purge()["caller_location_payloads"] == 1
    location.refresh_from_db()
    assert location.raw == {} and location.point.coords == pytest.approx((119.6, 24.95))


def test_delivered_outbox_payloads_go_waiting_ones_never(world):
    send_link(world, taken_call(world))
    sms = Outbox.objects.get(channel="sms")
    waiting = Outbox.objects.create(channel="sms", recipient=sms.recipient, payload={"body": "still to send"})
    Outbox.objects.filter(pk=sms.pk).update(status=OutboxStatus.SENT, sent_at=days_ago(40))
    Outbox.objects.update(created_at=days_ago(40))
    assert purge()["outbox_payloads"] == 1
    sms.refresh_from_db()
    waiting.refresh_from_db()
    assert sms.payload == {} and sms.recipient and sms.status == OutboxStatus.SENT
    assert waiting.payload == {"body": "still to send"}


def test_old_position_history_is_thinned_to_one_fix_per_slot(world, settings):
    settings.POSITION_KEPT_EVERY_SECONDS = 300
    start = days_ago(91).replace(minute=0, second=0, microsecond=0)
    recent = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    fixes = [start + timedelta(seconds=5 * k) for k in range(240)]  # 20 minutes of 5-second fixes
    fixes += [recent + timedelta(seconds=5 * k) for k in range(24)]
    PositionReport.objects.bulk_create(
        PositionReport(unit=unit, at=at, position=Point(119.6, 24.9), source=PositionSource.TRACKER)
        for unit in (world.als1, world.bls1)
        for at in fixes
    )
    assert purge()["position_fixes_thinned"] == 2 * (240 - 4)
    for unit in (world.als1, world.bls1):
        kept = list(
            PositionReport.objects.filter(unit=unit, at__lt=days_ago(90)).values_list("at", flat=True)
        )
        assert sorted(kept) == [start + timedelta(minutes=5 * k) for k in range(4)]
        assert PositionReport.objects.filter(unit=unit, at__gte=recent).count() == 24
    assert purge()["position_fixes_thinned"] == 0  # done once


def test_old_refused_fix_counters_go(world):
    RejectedFix.objects.count_one("dev-old", "bad_coordinates", "0,0")
    RejectedFix.objects.count_one("dev-new", "bad_coordinates", "0,0")
    RejectedFix.objects.filter(device="dev-old").update(last_at=days_ago(31))
    assert purge()["rejected_fixes"] == 1
    assert list(RejectedFix.objects.values_list("device", flat=True)) == ["dev-new"]


def test_periods_come_from_settings_and_the_command_reports_its_counts(world, settings):
    client = Client()
    client.force_login(world.alice)
    open_incident(client, "key-0001")
    IdempotencyKey.objects.update(created_at=days_ago(2))
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "idempotency_replies": 1}
    out = StringIO()
    call_command("run_retention", "--once", stdout=out)
    assert "idempotency_replies=1" in out.getvalue()
    assert not IdempotencyKey.objects.exists()
