"""The scanner raises each kind of alarm from the state the actions leave in the database, one
open per kind, incident and unit, and clears it when the condition ends; its events name the
incident and carry the alarm, never a unit or a hospital."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError
from django.utils import timezone

from dispatch.alarms.actions import raise_alarm
from dispatch.handoff.actions import acknowledge_notice, alert_unacknowledged_notices
from dispatch.incidents.actions import cancel_assignment, close_incident, create_incident, dispatch_unit
from dispatch.models import Alarm, AlarmKind
from dispatch.units.actions import set_unit_status
from fleet.models import UnitStatus
from tests.support.alarm_helpers import alarm_events, open_kinds, scan_after
from tests.support.crew_tablet import job
from tests.support.er_helpers import notified

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def targets(settings):
    settings.TARGET_UNIT_ACK_SECONDS = 60
    settings.TARGET_TURNOUT_SECONDS = 180
    settings.TARGET_PROCESSING_SECONDS = 60
    settings.NOTICE_ACK_ALERT_SECONDS = 90


def test_a_crew_that_does_not_acknowledge_raises_once_and_acknowledging_clears(world):
    a = job(world, world.als1, hospital=world.city)
    assert scan_after(a.dispatched_at, 59) == {"raised": 0, "cleared": 0}
    assert scan_after(a.dispatched_at, 61) == {"raised": 1, "cleared": 0}
    assert scan_after(a.dispatched_at, 70) == {"raised": 0, "cleared": 0}  # one open alarm, not one a pass
    alarm = Alarm.objects.get()
    assert (alarm.kind, alarm.incident_id, alarm.unit_id, alarm.assignment_id) == (
        AlarmKind.UNIT_NOT_ACKNOWLEDGING,
        a.incident_id,
        world.als1.pk,
        a.pk,
    )
    assert alarm.detail["call_sign"] == "T-ALS-1" and alarm.detail["target_s"] == 60
    set_unit_status(world.als1, UnitStatus.ACKNOWLEDGED, actor=None)
    assert scan_after(a.dispatched_at, 80) == {"raised": 0, "cleared": 1}
    alarm.refresh_from_db()
    assert alarm.cleared_at is not None and alarm.acknowledged_at is None
    raised, cleared = alarm_events("alarm.raised"), alarm_events("alarm.cleared")
    assert len(raised) == len(cleared) == 1
    for event in raised + cleared:
        assert event.incident_id == a.incident_id and event.unit_id is None and event.hospital_id is None
        assert event.data["id"] == alarm.pk and event.data["incident_number"] == a.incident.number
    assert cleared[0].data["cleared_at"] is not None


def test_a_unit_not_en_route_in_time_raises_turnout_exceeded_and_en_route_clears(world):
    a = job(world, world.als2)
    set_unit_status(world.als2, UnitStatus.ACKNOWLEDGED, actor=None)
    assert scan_after(a.dispatched_at, 179) == {"raised": 0, "cleared": 0}
    scan_after(a.dispatched_at, 181)
    assert open_kinds() == [(AlarmKind.TURNOUT_EXCEEDED, a.incident_id, world.als2.pk)]
    set_unit_status(world.als2, UnitStatus.EN_ROUTE, actor=None)
    assert scan_after(a.dispatched_at, 190) == {"raised": 0, "cleared": 1}
    assert open_kinds() == []


def test_a_unit_that_never_answers_has_both_alarms_and_a_stand_down_clears_them(world):
    a = job(world, world.bls1)
    assert scan_after(a.dispatched_at, 200)["raised"] == 2
    assert {k for k, _, _ in open_kinds()} == {AlarmKind.UNIT_NOT_ACKNOWLEDGING, AlarmKind.TURNOUT_EXCEEDED}
    cancel_assignment(a, actor=world.alice, reason="车辆故障")
    assert scan_after(a.dispatched_at, 210) == {"raised": 0, "cleared": 2}


def test_going_en_route_without_acknowledging_clears_the_acknowledgement_alarm(world):
    a = job(world, world.neg1)
    scan_after(a.dispatched_at, 61)
    set_unit_status(world.neg1, UnitStatus.EN_ROUTE, actor=None)
    assert scan_after(a.dispatched_at, 300) == {"raised": 0, "cleared": 1}
    assert open_kinds() == []


def test_an_incident_not_dispatched_in_time_raises_and_dispatching_clears(world):
    incident = create_incident(actor=world.alice, caller_number="13800000001", priority=2)
    start = incident.call_received_at or incident.created_at
    assert scan_after(start, 59) == {"raised": 0, "cleared": 0}
    scan_after(start, 61)
    assert open_kinds() == [(AlarmKind.INCIDENT_UNDISPATCHED_OVERDUE, incident.pk, None)]
    assert Alarm.objects.get().detail["target_s"] == 60
    dispatch_unit(incident, world.als1, actor=world.alice)
    assert scan_after(start, 62)["cleared"] == 1
    assert AlarmKind.INCIDENT_UNDISPATCHED_OVERDUE not in {k for k, _, _ in open_kinds()}


def test_closing_an_undispatched_incident_clears_its_alarm(world):
    incident = create_incident(actor=world.alice, caller_number="13800000002")
    start = incident.created_at
    scan_after(start, 120)
    close_incident(incident, actor=world.alice, outcome="false_call")
    assert scan_after(start, 121) == {"raised": 0, "cleared": 1}
    assert scan_after(start, 500) == {"raised": 0, "cleared": 0}  # closed: never again


def test_a_notice_the_er_has_not_acknowledged_raises_and_its_acknowledgement_clears(world):
    world.city.phone = "+862088880120"
    world.city.save()
    notice = notified(world, world.als1, world.city, world.carol)
    scan_after(notice.sent_at, 89)
    assert AlarmKind.NOTICE_UNACKNOWLEDGED not in {k for k, _, _ in open_kinds()}
    scan_after(notice.sent_at, 91)
    alarm = Alarm.objects.get(kind=AlarmKind.NOTICE_UNACKNOWLEDGED)
    assert alarm.unit_id == world.als1.pk and alarm.assignment_id == notice.assignment_id
    assert alarm.detail["hospital_phone"] == "+862088880120" and alarm.detail["notice"] == notice.pk
    acknowledge_notice(notice, actor=world.dave)
    scan_after(notice.sent_at, 92)
    alarm.refresh_from_db()
    assert alarm.cleared_at is not None


def test_the_handoff_alert_raises_the_same_alarm_row_the_scanner_keeps(world):
    notice = notified(world, world.als1, world.city, world.carol)
    later = notice.sent_at + timezone.timedelta(seconds=91)
    assert alert_unacknowledged_notices(now=later) == 1
    alarm = Alarm.objects.get(kind=AlarmKind.NOTICE_UNACKNOWLEDGED)
    assert alarm.raised_at == later and alarm.detail["call_sign"] == "T-ALS-1"
    scan_after(notice.sent_at, 95)
    assert Alarm.objects.filter(kind=AlarmKind.NOTICE_UNACKNOWLEDGED).count() == 1


def test_one_open_alarm_per_kind_incident_and_unit_is_held_by_the_database(world):
    a = job(world, world.als1)
    assert raise_alarm(AlarmKind.TURNOUT_EXCEEDED, a.incident, assignment=a) is not None
    assert raise_alarm(AlarmKind.TURNOUT_EXCEEDED, a.incident, assignment=a) is None
    incident = create_incident(actor=world.alice)
    assert raise_alarm(AlarmKind.INCIDENT_UNDISPATCHED_OVERDUE, incident) is not None
    with pytest.raises(IntegrityError):  # even behind the action's back
        Alarm.objects.create(kind=AlarmKind.INCIDENT_UNDISPATCHED_OVERDUE, incident=incident)


def test_a_cleared_alarm_comes_back_as_a_new_one_when_the_condition_returns(world):
    incident = create_incident(actor=world.alice, caller_number="13800000003")
    scan_after(incident.created_at, 61)
    first = Alarm.objects.get()
    Alarm.objects.filter(pk=first.pk).update(cleared_at=timezone.now())  # as a scanner that saw it end
    scan_after(incident.created_at, 62)
    assert Alarm.objects.count() == 2 and Alarm.objects.open().get().pk != first.pk


def test_the_loop_command_scans(world, settings):
    settings.TARGET_PROCESSING_SECONDS = 0
    incident = create_incident(actor=world.alice, caller_number="13800000004")
    call_command("run_alarm_scanner", once=True)
    assert open_kinds() == [(AlarmKind.INCIDENT_UNDISPATCHED_OVERDUE, incident.pk, None)]
