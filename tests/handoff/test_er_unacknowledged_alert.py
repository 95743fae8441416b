"""A notice nobody at the ER has acknowledged within NOTICE_ACK_ALERT_SECONDS alerts the
console (an event on the incident's timeline, for the control room only) to phone the
hospital, once; an acknowledged notice never alerts."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from dispatch.core.permissions import visible_events
from dispatch.handoff.actions import acknowledge_notice, alert_unacknowledged_notices
from dispatch.models import Event, PreArrivalNotice
from tests.support.crew_tablet import crew_member
from tests.support.er_helpers import notified, staff_get


@pytest.fixture
def notice(world, settings):
    settings.NOTICE_ACK_ALERT_SECONDS = 90
    world.city.phone = "+862088880120"
    world.city.save()
    return notified(world, world.als1, world.city, world.carol)


def test_no_alert_before_the_time(world, notice):
    assert alert_unacknowledged_notices(now=notice.sent_at + timedelta(seconds=89)) == 0
    assert not Event.objects.filter(kind="notice.unacknowledged").exists()


def test_alert_after_the_time_once_for_the_control_room(world, notice):
    later = notice.sent_at + timedelta(seconds=91)
    assert alert_unacknowledged_notices(now=later) == 1
    assert alert_unacknowledged_notices(now=later + timedelta(minutes=5)) == 0
    alert = Event.objects.get(kind="notice.unacknowledged")
    assert alert.incident_id == notice.assignment.incident_id and alert.hospital is None
    assert alert.data["hospital_phone"] == "+862088880120"
    assert "请电话通知" in alert.data["text"] and "Phone" in alert.data["text_en"]
    timeline = staff_get(world.alice, f"/api/incidents/{alert.incident_id}/timeline")[1]
    assert "notice.unacknowledged" in [e["kind"] for e in timeline]
    assert not visible_events(world.dave).filter(kind="notice.unacknowledged").exists()
    row = staff_get(world.dave, "/api/er/board")[1]["notices"][0]
    assert row["alerted_at"] is not None and row["acknowledged"] is None


def test_acknowledged_in_time_never_alerts(world, notice):
    acknowledge_notice(notice, actor=world.dave)
    assert alert_unacknowledged_notices(now=timezone.now() + timedelta(hours=1)) == 0


def test_the_loop_alerts_too(world, notice):
    PreArrivalNotice.objects.filter(pk=notice.pk).update(sent_at=timezone.now() - timedelta(minutes=3))
    chen = crew_member("chen")
    notified(world, world.als2, world.county, chen)  # just sent: not due
    call_command("run_handoff", once=True)
    assert Event.objects.filter(kind="notice.unacknowledged").count() == 1
