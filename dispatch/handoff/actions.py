"""Actions of the hospital handoff (上车即入院): the pre-arrival notice sent and updated, its
acknowledgement by the receiving ER, arrival and handover, and the alert when nobody at the ER
has acknowledged in time.

Every event names the destination as its `hospital` (so that ER's board, and only it, hears of
the patient) and the crew's unit as its `unit` (so the tablet, which re-reads its assignment on
its unit's events, sees the acknowledgement). The alert goes to the control room only.

Delivery beyond the board goes through the outbox in the same transaction: the FHIR Bundle to a
hospital that has an endpoint (dispatch.handoff.delivery), an SMS summary to one with neither board nor
endpoint (dispatch.calls.sms).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.alarms.actions import raise_alarm
from dispatch.alarms.reads import notice_detail
from dispatch.core.actions import ActionError, checked_text
from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event, record_job_event
from dispatch.core.permissions import is_control_room
from dispatch.crew.diversion import alert_beds, alert_diversion
from dispatch.handoff.reads import derived_withdrawal, sms_summary, withdrawn_now
from dispatch.models import (
    AlarmKind,
    Assignment,
    ErMessage,
    ErMessageDirection,
    Incident,
    NoticeAcknowledgement,
    NoticeWithdrawal,
    Outbox,
    PreArrivalNotice,
    Role,
    User,
    VitalSign,
    WithdrawalReason,
)
from dispatch.units.actions import set_unit_status
from fleet.models import CrewShift, UnitStatus
from hospitals.eta import road_eta
from hospitals.models import BedAvailability, BedCategory, DiversionCategory, Hospital

# Where a unit is on its job before it has a patient on board: a notice is about a patient.
BEFORE_PATIENT = {UnitStatus.DISPATCHED, UnitStatus.ACKNOWLEDGED, UnitStatus.EN_ROUTE}


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def notice_data(notice: PreArrivalNotice, **extra) -> dict:
    a = notice.assignment
    return {
        "notice": notice.pk,
        "assignment": a.pk,
        "revision": notice.revision,
        "hospital": notice.hospital_id,
        "hospital_name": notice.hospital.name,
        "call_sign": a.unit.call_sign,
        "incident_number": a.incident.number,
        "priority": a.incident.priority,
        "eta_at": iso(notice.eta_at),
        **extra,
    }


def locked_assignment(assignment: Assignment) -> Assignment:
    """The assignment, locked: sends, updates and acknowledgements of one notice take turns."""
    related = ("unit", "hospital", "incident")
    return Assignment.objects.select_for_update(of=("self",)).select_related(*related).get(pk=assignment.pk)


def refuse_unless_sendable(assignment: Assignment) -> None:
    if assignment.cancelled_at or assignment.cleared_at or assignment.handover_at:
        raise ActionError(
            _("This job is finished, cancelled or handed over: there is nothing to announce."),
            "not_live",
            409,
        )
    if assignment.hospital is None:
        raise ActionError(
            _("Choose the receiving hospital first: the notice goes to the destination."),
            "no_destination",
            409,
        )


def refresh_eta(notice: PreArrivalNotice, now: datetime) -> None:
    eta = road_eta(notice.hospital, notice.assignment.unit, now)
    notice.eta_s = eta.seconds
    notice.eta_at = eta.arrives_at


# --- sending and updating --------------------------------------------------------------------


@transaction.atomic
def send_notice(assignment: Assignment, *, actor: User | None) -> PreArrivalNotice:
    """Send the pre-arrival notice to the assignment's destination, or update it when it was
    sent already. A destination changed since the last send withdraws it from the old hospital's
    board and sends it, unacknowledged, to the new one."""
    assignment = locked_assignment(assignment)
    refuse_unless_sendable(assignment)
    notice = PreArrivalNotice.objects.filter(assignment=assignment).select_related("hospital").first()
    if notice is None:
        return first_send(assignment, actor)
    if notice.hospital_id != assignment.hospital_id or notice.withdrawn_at:
        return resend_elsewhere(notice, assignment, actor)
    return update(notice, assignment, actor, reason="resent")


def first_send(assignment: Assignment, actor: User | None) -> PreArrivalNotice:
    now = timezone.now()
    notice = PreArrivalNotice(
        assignment=assignment,
        hospital=assignment.hospital,
        sent_at=now,
        updated_at=now,
        sent_by=actor if actor and actor.pk else None,
    )
    refresh_eta(notice, now)
    notice.save()
    announce(notice, EventKind.NOTICE_SENT, actor)
    queue_deliveries(notice, first=True)
    return notice


def resend_elsewhere(
    notice: PreArrivalNotice, assignment: Assignment, actor: User | None
) -> PreArrivalNotice:
    old = notice.hospital
    now = timezone.now()
    if notice.withdrawn_at is None:
        record_event(
            EventKind.NOTICE_WITHDRAWN,
            actor=actor,
            incident=assignment.incident,
            hospital=old,
            data={"notice": notice.pk, "assignment": assignment.pk, "reason": "redirected"},
        )
        # The old board keeps the card, struck through, until someone there acknowledges it
        # (an acknowledgement given before this sweep already wrote the row).
        NoticeWithdrawal.objects.get_or_create(
            notice=notice,
            hospital=old,
            revision=notice.revision,
            defaults={
                "reason": WithdrawalReason.REDIRECTED,
                "redirected_to": assignment.hospital,
                "withdrawn_at": now,
            },
        )
        if old.fhir_endpoint:  # its Encounter was announced: cancel it there
            payload = {"notice": notice.pk, "revision": notice.revision, "withdrawn": True}
            Outbox.objects.create(
                channel="fhir", recipient=old.fhir_endpoint, payload=payload, incident=assignment.incident
            )
    destination = assignment.hospital
    assert destination is not None, "refuse_unless_sendable has checked the destination"
    # The patient comes back to a hospital that had the notice: its struck-through card goes.
    NoticeWithdrawal.objects.filter(
        notice=notice, hospital=destination, acknowledged_at__isnull=True, superseded_at__isnull=True
    ).update(superseded_at=now)
    notice.assignment = assignment
    notice.hospital = destination
    notice.revision += 1
    notice.sent_at = notice.updated_at = now
    notice.sent_by = actor if actor and actor.pk else None
    notice.alerted_at = notice.withdrawn_at = None
    refresh_eta(notice, now)
    notice.save()
    announce(notice, EventKind.NOTICE_SENT, actor, redirected_from=old.pk)
    queue_deliveries(notice, first=True)
    return notice


def update(
    notice: PreArrivalNotice, assignment: Assignment, actor: User | None, reason: str
) -> PreArrivalNotice:
    now = timezone.now()
    notice.assignment = assignment
    notice.revision += 1
    notice.updated_at = now
    refresh_eta(notice, now)
    notice.save(update_fields=["revision", "updated_at", "eta_s", "eta_at"])
    announce(notice, EventKind.NOTICE_UPDATED, actor, reason=reason)
    queue_deliveries(notice, first=False)
    return notice


def announce(notice: PreArrivalNotice, kind: str, actor: User | None, **extra) -> None:
    a = notice.assignment
    record_event(
        kind,
        actor=actor,
        incident=a.incident,
        unit=a.unit,
        hospital=notice.hospital,
        data=notice_data(notice, **extra),
    )


def queue_deliveries(notice: PreArrivalNotice, *, first: bool) -> None:
    """The FHIR Bundle to an endpoint on every send and update; an SMS summary, once per
    hospital, to one that has neither board nor endpoint."""
    hospital = notice.hospital
    incident = notice.assignment.incident
    if hospital.fhir_endpoint:
        Outbox.objects.create(
            channel="fhir",
            recipient=hospital.fhir_endpoint,
            payload={"notice": notice.pk, "revision": notice.revision},
            incident=incident,
        )
    elif not hospital.has_board and first and hospital.sms_number:
        Outbox.objects.create(
            channel="sms",
            recipient=hospital.sms_number,
            payload={"body": sms_summary(notice), "notice": notice.pk},
            incident=incident,
        )


# --- what keeps notices current --------------------------------------------------------------


def changed_since_update() -> Q:
    """Notices whose patient record or vital signs changed after their last send or update,
    or whose assignment now goes to another hospital."""
    newer_vitals = VitalSign.objects.filter(
        assignment=OuterRef("assignment"), recorded_at__gt=OuterRef("updated_at")
    )
    return (
        Q(assignment__patient_record__updated_at__gt=F("updated_at"))
        | Exists(newer_vitals)
        | ~Q(hospital=F("assignment__hospital"))
    )


def refresh_notices() -> int:
    """Update every notice on a board whose patient changed since it was sent (new vitals, a
    record edit) or whose destination changed; each in its own transaction. Returns how many.
    The crew's actions stay the crew's: this sweep (run_handoff) keeps the notice in step."""
    stale = PreArrivalNotice.objects.on_board().filter(changed_since_update())
    count = 0
    for assignment_id in list(stale.values_list("assignment_id", flat=True)):
        try:
            refresh_one(assignment_id)
            count += 1
        except ActionError:
            continue  # finished or without a destination meanwhile
    return count


@transaction.atomic
def refresh_one(assignment_id: int) -> PreArrivalNotice:
    assignment = locked_assignment(Assignment(pk=assignment_id))
    refuse_unless_sendable(assignment)
    notice = PreArrivalNotice.objects.select_related("hospital").get(assignment=assignment)
    if notice.hospital_id != assignment.hospital_id:
        return resend_elsewhere(notice, assignment, None)
    return update(notice, assignment, None, reason="patient_changed")


def send_due_notices() -> int:
    """Send the notice of every live job that has a destination and a patient on board but no
    notice yet (a tablet that did not send one, a destination set by the dispatcher)."""
    due = (
        Assignment.objects.live()
        .filter(hospital__isnull=False, notice__isnull=True, handover_at__isnull=True)
        .exclude(unit__status__in=BEFORE_PATIENT)
        .values_list("pk", flat=True)
    )
    count = 0
    for pk in list(due):
        try:
            send_notice(Assignment(pk=pk), actor=None)
            count += 1
        except ActionError:
            continue
    return count


# --- acknowledgement -------------------------------------------------------------------------


def refuse_unless_receiving(notice: PreArrivalNotice, actor: User) -> bool:
    """Staff of the notice's hospital acknowledge; a dispatcher may record a phoned
    acknowledgement. Returns whether it is by phone."""
    if is_control_room(actor):
        return True
    if actor.role == Role.HOSPITAL and actor.hospital_id == notice.hospital_id:
        return False
    raise ActionError(_("Only the receiving hospital's staff acknowledge its notices."), "forbidden", 403)


@transaction.atomic
def acknowledge_notice(notice: PreArrivalNotice, *, actor: User) -> NoticeAcknowledgement:
    """The ER has read the notice. A second acknowledgement (another nurse, a double tap)
    returns the first and writes nothing."""
    locked_assignment(notice.assignment)
    notice = PreArrivalNotice.objects.select_related(
        "hospital", "assignment__unit", "assignment__incident"
    ).get(pk=notice.pk)
    if notice.withdrawn_at:
        raise ActionError(_("This notice was withdrawn: the patient goes elsewhere."), "withdrawn", 409)
    by_phone = refuse_unless_receiving(notice, actor)
    existing = NoticeAcknowledgement.objects.filter(notice=notice, hospital=notice.hospital).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            ack = NoticeAcknowledgement.objects.create(
                notice=notice,
                hospital=notice.hospital,
                revision=notice.revision,
                acknowledged_by=actor,
                by_phone=by_phone,
            )
    except IntegrityError:  # acknowledged meanwhile by someone else
        return NoticeAcknowledgement.objects.get(notice=notice, hospital=notice.hospital)
    announce(
        notice,
        EventKind.NOTICE_ACKNOWLEDGED,
        actor,
        acknowledged_by=actor.get_full_name() or actor.username,
        acknowledged_at=iso(ack.acknowledged_at),
        by_phone=by_phone,
    )
    return ack


def alert_due(now: datetime) -> Q:
    before = now - timedelta(seconds=settings.NOTICE_ACK_ALERT_SECONDS)
    return Q(sent_at__lte=before, alerted_at__isnull=True)


def alert_unacknowledged_notices(now: datetime | None = None) -> int:
    """Tell the console to phone each ER that has not acknowledged a notice in time; once per
    sending (a conditional update, so several app nodes alert once). Returns how many."""
    now = now or timezone.now()
    due = PreArrivalNotice.objects.on_board().unacknowledged().filter(alert_due(now))
    count = 0
    for pk in list(due.values_list("pk", flat=True)):
        count += alert_one(pk, now)
    return count


@transaction.atomic
def alert_one(pk: int, now: datetime) -> int:
    if not PreArrivalNotice.objects.filter(alert_due(now), pk=pk).update(alerted_at=now):
        return 0
    notice = PreArrivalNotice.objects.select_related(
        "hospital", "assignment__unit", "assignment__incident"
    ).get(pk=pk)
    hospital: Hospital = notice.hospital
    waited = int((now - notice.sent_at).total_seconds())
    record_event(
        EventKind.NOTICE_UNACKNOWLEDGED,
        incident=notice.assignment.incident,
        data=notice_data(
            notice,
            hospital_phone=hospital.phone,
            waited_s=waited,
            text=f"请电话通知{hospital.name}急诊：预到院通知 {waited // 60} 分钟未确认",
            text_en=(
                f"Phone {hospital.name_en or hospital.name} ER: "
                f"pre-arrival notice not acknowledged for {waited // 60} min"
            ),
        ),
    )
    # The console's alarm list holds it until the ER acknowledges (the scanner clears it).
    raise_alarm(
        AlarmKind.NOTICE_UNACKNOWLEDGED,
        notice.assignment.incident,
        assignment=notice.assignment,
        detail=notice_detail(notice),
        now=now,
    )
    return 1


# --- arrival and handover --------------------------------------------------------------------


def refuse_unless_party(assignment: Assignment, actor: User) -> None:
    """The receiving ER's staff, the unit's crew on shift, or the control room."""
    if is_control_room(actor):
        return
    if actor.role == Role.HOSPITAL and actor.hospital_id and actor.hospital_id == assignment.hospital_id:
        return
    if (
        actor.role == Role.CREW
        and CrewShift.objects.current().filter(user=actor, unit=assignment.unit).exists()
    ):
        return
    raise ActionError(_("Only the receiving hospital or the unit's crew record this."), "forbidden", 403)


def stamp(assignment: Assignment, field: str, now: datetime) -> bool:
    """Set an assignment clock (and the incident's, for its first unit) unless set already."""
    won = Assignment.objects.filter(pk=assignment.pk, **{f"{field}__isnull": True}).update(**{field: now})
    if won:
        setattr(assignment, field, now)
        Incident.objects.filter(pk=assignment.incident_id, **{f"{field}__isnull": True}).update(
            **{field: now}
        )
    return bool(won)


@transaction.atomic
def record_arrival(assignment: Assignment, *, actor: User) -> Assignment:
    """The ambulance is at the ER. A unit still transporting moves to at hospital (its clock
    starts); one whose crew forgot the earlier taps keeps its status, and only the arrival time
    is written. Recording it twice changes nothing."""
    assignment = locked_assignment(assignment)
    refuse_unless_party(assignment, actor)
    if assignment.cancelled_at:
        raise ActionError(_("This assignment was cancelled."), "not_live", 409)
    if assignment.at_hospital_at:
        return assignment
    if assignment.unit.status == UnitStatus.TRANSPORTING:
        set_unit_status(assignment.unit, UnitStatus.AT_HOSPITAL, actor=actor)
        assignment.refresh_from_db(fields=["at_hospital_at"])
    else:
        stamp(assignment, "at_hospital_at", timezone.now())
    record_job_event(
        EventKind.HANDOVER_ARRIVED,
        assignment,
        actor=actor,
        data={
            "assignment": assignment.pk,
            "at": iso(assignment.at_hospital_at),
            "call_sign": assignment.unit.call_sign,
        },
    )
    return assignment


@transaction.atomic
def record_handover(assignment: Assignment, *, actor: User) -> Assignment:
    """The ER has taken the patient over: the handover time (arrival to now) is measured. The
    crew clears the unit when it is ready (set_unit_status keeps this time)."""
    assignment = locked_assignment(assignment)
    refuse_unless_party(assignment, actor)
    if assignment.cancelled_at:
        raise ActionError(_("This assignment was cancelled."), "not_live", 409)
    if assignment.handover_at:
        return assignment
    if not assignment.at_hospital_at:
        raise ActionError(
            _("Record the arrival first: the handover time runs from arrival."), "not_arrived", 409
        )
    handover_at = timezone.now()
    stamp(assignment, "handover_at", handover_at)  # it sets it: the row is locked, its clock unset
    record_job_event(
        EventKind.HANDOVER_COMPLETED,
        assignment,
        actor=actor,
        data={
            "assignment": assignment.pk,
            "call_sign": assignment.unit.call_sign,
            "arrived_at": iso(assignment.at_hospital_at),
            "handover_at": iso(handover_at),
            "handover_s": (handover_at - assignment.at_hospital_at).total_seconds(),
        },
    )
    return assignment


__all__ = [
    "acknowledge_notice",
    "acknowledge_withdrawal",
    "alert_unacknowledged_notices",
    "record_arrival",
    "record_handover",
    "refresh_notices",
    "send_due_notices",
    "send_er_message",
    "send_notice",
]


# --- the ER's own status: diversion and beds --------------------------------------------


@transaction.atomic
def set_diversion(
    hospital: Hospital, categories: list[str], *, actor: User | None, reason: str = ""
) -> Hospital:
    """Open (no categories) or divert the named categories; every console re-ranks on it."""
    unknown = set(categories) - set(DiversionCategory.values)
    if unknown:
        raise ActionError(f"Unknown diversion categories: {', '.join(sorted(unknown))}.", "bad_category")
    before = list(Hospital.objects.values_list("diverting", flat=True).get(pk=hospital.pk))
    hospital.diverting = sorted(set(categories))
    hospital.diversion_reason = checked_text(reason, "reason", 200) if categories else ""
    hospital.status_changed_at = timezone.now()
    Hospital.objects.filter(pk=hospital.pk).update(
        diverting=hospital.diverting,
        diversion_reason=hospital.diversion_reason,
        status_changed_at=hospital.status_changed_at,
    )
    record_event(
        EventKind.HOSPITAL_DIVERSION,
        actor=actor,
        hospital=hospital,
        data={"from": before, "to": hospital.diverting, "reason": hospital.diversion_reason},
    )
    alert_diversion(hospital, before, actor=actor)  # units bound there, and the console
    return hospital


@transaction.atomic
def set_beds(hospital: Hospital, category: str, available: int, *, actor: User | None) -> BedAvailability:
    if category not in BedCategory.values:
        raise ActionError(f"Unknown bed category {category!r}.", "bad_category")
    if not isinstance(available, int) or not 0 <= available <= 10000:
        raise ActionError("Available beds must be a whole number from 0 to 10000.", "bad_count")
    beds, _ = BedAvailability.objects.select_for_update().get_or_create(hospital=hospital, category=category)
    before = beds.available
    beds.available = available
    beds.save(update_fields=["available", "updated_at"])
    record_event(
        EventKind.HOSPITAL_BEDS,
        actor=actor,
        hospital=hospital,
        data={"category": category, "from": before, "to": available},
    )
    alert_beds(hospital, category, before, available, actor=actor)  # units bound there, and the console
    return beds


# --- a withdrawn notice, acknowledged by the hospital it was withdrawn from ----------------------


@transaction.atomic
def acknowledge_withdrawal(
    notice: PreArrivalNotice, hospital: Hospital, *, actor: User, now: datetime | None = None
) -> NoticeWithdrawal:
    """Someone at `hospital` has seen that the patient is not coming: the struck-through card
    leaves its board. Acknowledging it again (another nurse, a double tap) returns the first and
    writes nothing; a notice not withdrawn from this hospital is a 409."""
    locked_assignment(notice.assignment)
    notice = PreArrivalNotice.objects.select_related("assignment__unit", "assignment__incident").get(
        pk=notice.pk
    )
    if not is_control_room(actor) and not (actor.role == Role.HOSPITAL and actor.hospital_id == hospital.pk):
        raise ActionError(_("Only the hospital it was withdrawn from acknowledges this."), "forbidden", 403)
    now = now or timezone.now()
    withdrawal = withdrawal_at(notice, hospital, now)
    if withdrawal.acknowledged_at:
        return withdrawal
    withdrawal.acknowledged_by, withdrawal.acknowledged_at = actor, now
    withdrawal.save()
    a = notice.assignment
    record_event(
        EventKind.NOTICE_WITHDRAWAL_ACKNOWLEDGED,
        actor=actor,
        incident=a.incident,
        hospital=hospital,
        data={
            "notice": notice.pk,
            "assignment": a.pk,
            "revision": withdrawal.revision,
            "reason": withdrawal.reason,
            "call_sign": a.unit.call_sign,
            "incident_number": a.incident.number,
            "acknowledged_by": actor.get_full_name() or actor.username,
        },
    )
    return withdrawal


def withdrawal_at(notice: PreArrivalNotice, hospital: Hospital, now: datetime) -> NoticeWithdrawal:
    """The open (or last acknowledged) withdrawal of this notice from this hospital; one still
    only implied by the assignment (the handoff loop has not moved the notice yet, or the unit
    was stood down) is written down now."""
    rows = NoticeWithdrawal.objects.filter(notice=notice, hospital=hospital, superseded_at__isnull=True)
    open_row = rows.filter(acknowledged_at__isnull=True).order_by("-withdrawn_at", "-pk").first()
    if open_row is not None:
        return open_row
    implied = PreArrivalNotice.objects.filter(withdrawn_now(hospital.pk, now), pk=notice.pk).exists()
    done = rows.filter(revision=notice.revision).first() if implied else None
    if done is not None:
        return done
    if implied:
        why = derived_withdrawal(notice, hospital.pk)
        return NoticeWithdrawal.objects.create(
            notice=notice,
            hospital=hospital,
            revision=notice.revision,
            reason=why["reason"],
            redirected_to=why["redirected_to"],
            withdrawn_at=why["at"] or now,
        )
    last = rows.order_by("-acknowledged_at", "-pk").first()
    if last is not None and notice.hospital_id != hospital.pk:
        return last
    raise ActionError(_("This notice was not withdrawn from this hospital."), "not_withdrawn", 409)


# --- the crew <-> ER message line --------------------------------------------------------------


def message_direction(notice: PreArrivalNotice, actor: User) -> str:
    """The receiving hospital's staff answer the crew; the unit's crew on shift write to the ER."""
    a = notice.assignment
    if actor.role == Role.HOSPITAL and actor.hospital_id and actor.hospital_id == notice.hospital_id:
        return ErMessageDirection.TO_CREW
    if actor.role == Role.CREW and CrewShift.objects.current().filter(user=actor, unit=a.unit).exists():
        return ErMessageDirection.TO_ER
    raise ActionError(
        _("Only the unit's crew and the receiving hospital's staff write on this line."), "forbidden", 403
    )


@transaction.atomic
def send_er_message(notice: PreArrivalNotice, text: str, *, actor: User) -> ErMessage:
    """One line between the crew and the receiving ER about this patient. Its event carries no
    text: the board and the tablet read it through their confined queries."""
    locked_assignment(notice.assignment)
    notice = PreArrivalNotice.objects.select_related(
        "hospital", "assignment__unit", "assignment__incident"
    ).get(pk=notice.pk)
    a = notice.assignment
    text = checked_text(text, "text", 500)
    if not text:
        raise ActionError(_("A message needs some text."), "empty_message")
    direction = message_direction(notice, actor)
    if a.cancelled_at or a.hospital_id != notice.hospital_id:
        raise ActionError(
            _("This patient is no longer bound for this hospital: the line is closed."), "not_live", 409
        )
    message = ErMessage.objects.create(
        notice=notice, hospital=notice.hospital, direction=direction, sender=actor, text=text
    )
    record_event(
        EventKind.NOTICE_MESSAGE,
        actor=actor,
        incident=a.incident,
        unit=a.unit,
        hospital=notice.hospital,
        data={
            "notice": notice.pk,
            "assignment": a.pk,
            "message": message.pk,
            "direction": direction,
            "call_sign": a.unit.call_sign,
            "hospital_name": notice.hospital.name,
        },
    )
    return message
