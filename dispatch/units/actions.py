"""A unit's status: which status may follow which, the clocks each one stamps on the job, and
the conditional update that claims a status change (two dispatchers never both win); taking a
unit out of service with a reason and an expected return, and back; whether it may be sent (a
crew on shift)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from dispatch.core.actions import ActionError, checked_text
from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event
from dispatch.models import Assignment, Event, Incident, User
from fleet.models import CrewShift, Unit, UnitStatus

# Which status may follow which: the order a job goes in. A unit still on its way goes back to
# available only through cancel_assignment (which asks for a reason); from the scene it may
# clear without transport (treated on scene, refused, dead on arrival).
# Keyed by the status's value, as it comes from the database (a plain string finds the member's entry).
ALLOWED_NEXT: dict[str, set[UnitStatus]] = {
    UnitStatus.AVAILABLE: {UnitStatus.DISPATCHED, UnitStatus.OUT_OF_SERVICE},
    UnitStatus.DISPATCHED: {UnitStatus.ACKNOWLEDGED, UnitStatus.EN_ROUTE},
    UnitStatus.ACKNOWLEDGED: {UnitStatus.EN_ROUTE},
    UnitStatus.EN_ROUTE: {UnitStatus.ON_SCENE},
    UnitStatus.ON_SCENE: {UnitStatus.PATIENT_CONTACT, UnitStatus.TRANSPORTING, UnitStatus.AVAILABLE},
    UnitStatus.PATIENT_CONTACT: {UnitStatus.TRANSPORTING, UnitStatus.AVAILABLE},
    UnitStatus.TRANSPORTING: {UnitStatus.AT_HOSPITAL},
    UnitStatus.AT_HOSPITAL: {UnitStatus.RETURNING, UnitStatus.AVAILABLE},
    UnitStatus.RETURNING: {UnitStatus.AVAILABLE, UnitStatus.DISPATCHED, UnitStatus.OUT_OF_SERVICE},
    # Set and ended by an accepted move-up (dispatch.coverage), never tapped: a job may take it.
    UnitStatus.RELOCATING: {UnitStatus.DISPATCHED, UnitStatus.OUT_OF_SERVICE},
    UnitStatus.OUT_OF_SERVICE: {UnitStatus.AVAILABLE},
}

# The clock each status starts, on the assignment and (first unit only) on the incident.
STATUS_CLOCKS: dict[str, str] = {
    UnitStatus.ACKNOWLEDGED: "acknowledged_at",
    UnitStatus.EN_ROUTE: "en_route_at",
    UnitStatus.ON_SCENE: "on_scene_at",
    UnitStatus.PATIENT_CONTACT: "patient_contact_at",
    UnitStatus.TRANSPORTING: "transport_started_at",
    UnitStatus.AT_HOSPITAL: "at_hospital_at",
}
FREE_STATUSES = (UnitStatus.AVAILABLE, UnitStatus.RETURNING, UnitStatus.RELOCATING)


def claim_status(unit: Unit, expected: str, new: str) -> bool:
    """Conditional update: True when we moved the unit from `expected` to `new`."""
    now = timezone.now()
    won = Unit.objects.filter(pk=unit.pk, status=expected).update(status=new, status_changed_at=now)
    if won:
        unit.status, unit.status_changed_at = new, now
    return won == 1


def stamp_clocks(assignment: Assignment, current: str, new: str, now: datetime) -> list[str]:
    """Write the times this status change starts or ends; return the assignment fields set."""
    fields: dict[str, object] = {}
    if new in STATUS_CLOCKS:
        fields[STATUS_CLOCKS[new]] = now
    if new in FREE_STATUSES:
        if current == UnitStatus.AT_HOSPITAL:
            fields["handover_at"] = now
        fields["cleared_at"] = now
    unset = {name: value for name, value in fields.items() if getattr(assignment, name) is None}
    if unset:
        Assignment.objects.filter(pk=assignment.pk).update(**unset)
        for name, value in unset.items():
            setattr(assignment, name, value)
    incident_fields = {
        {"cleared_at": "unit_available_at"}.get(name, name): value for name, value in unset.items()
    }
    for name, value in incident_fields.items():
        first_time = {f"{name}__isnull": True}
        Incident.objects.filter(pk=assignment.incident_id, **first_time).update(**{name: value})
    return list(unset)


def keep_client_times(assignment: Assignment, clocks: list[str], client_time: datetime) -> None:
    """Beside each server clock just stamped, the tablet's own time for it. The unit's status
    claim serializes this with every other status change of the same assignment."""
    assignment.client_times = {**assignment.client_times, **dict.fromkeys(clocks, client_time.isoformat())}
    Assignment.objects.filter(pk=assignment.pk).update(client_times=assignment.client_times)


@transaction.atomic
def set_unit_status(
    unit: Unit, status: str, *, actor: User | None = None, client_time: datetime | None = None
) -> Unit:
    """Move a unit to the next status of its job (race-safe) and start that status's clock."""
    if status not in UnitStatus.values:
        raise ActionError(_("Unknown status %(status)s.") % {"status": repr(status)}, "bad_status")
    current = Unit.objects.values_list("status", flat=True).get(pk=unit.pk)
    if status not in ALLOWED_NEXT[current]:
        message = _("%(unit)s cannot go from %(current)s to %(wanted)s.")
        wanted = {
            "unit": unit.call_sign,
            "current": UnitStatus(current).label,
            "wanted": UnitStatus(status).label,
        }
        raise ActionError(message % wanted, "bad_transition", 409)
    if not claim_status(unit, current, status):
        raise ActionError(
            _("%(unit)s changed status meanwhile; reload.") % {"unit": unit.call_sign}, "conflict", 409
        )
    if current == UnitStatus.OUT_OF_SERVICE:
        clear_out_of_service(unit)
    assignment = Assignment.objects.live().filter(unit=unit).first()  # its own row: the keys name the rest
    now = unit.status_changed_at
    stamped = stamp_clocks(assignment, current, status, now) if assignment else []
    if assignment and stamped and client_time:
        keep_client_times(assignment, stamped, client_time)
    record_event(
        EventKind.UNIT_STATUS,
        actor=actor,
        unit=unit,
        incident=assignment.incident_id if assignment else None,
        hospital=assignment.hospital_id if assignment else None,
        data={
            "from": current,
            "to": status,
            "call_sign": unit.call_sign,
            "assignment": assignment.pk if assignment else None,
            "clocks": stamped,
            "client_time": client_time.isoformat() if client_time else None,
        },
    )
    return unit


# --------------------------------------------------------------------------------------------
# undoing a status tapped by mistake


def last_status_event(unit: Unit) -> Event | None:
    return Event.objects.filter(kind=EventKind.UNIT_STATUS, unit=unit).order_by("-seq").first()


@transaction.atomic
def correct_status(
    unit: Unit, tapped: str, back_to: str, *, actor: User | None, now: datetime | None = None
) -> Unit:
    """Undo the unit's last status change (`back_to` -> `tapped`) within UNDO_STATUS_SECONDS:
    the unit goes back to the status it had, and the clocks that change stamped are cleared
    (on the job, and on the incident where this unit's tap set them). Only the last change,
    only back to where it came from, only within the window; anything else is a 409."""
    now = now or timezone.now()
    tap = last_status_event(unit)
    current = Unit.objects.values_list("status", flat=True).get(pk=unit.pk)
    if tap is None or current != tapped or (tap.data.get("from"), tap.data.get("to")) != (back_to, tapped):
        raise ActionError(
            _("%(unit)s's last status change was not %(from)s → %(to)s: nothing to undo.")
            % {"unit": unit.call_sign, "from": status_label(back_to), "to": status_label(tapped)},
            "not_last_change",
            409,
        )
    if (now - tap.at).total_seconds() > settings.UNDO_STATUS_SECONDS:
        raise ActionError(
            _("Too late to undo (more than %(n)s seconds): ask the control room to correct it.")
            % {"n": settings.UNDO_STATUS_SECONDS},
            "undo_too_late",
            409,
        )
    # The unit's status_changed_at is now, not the time before the tap: screens keep the newest
    # status by it (the tablet's answer to a tap against a read that crossed it).
    if not claim_status(unit, tapped, back_to):
        raise ActionError(
            _("%(unit)s changed status meanwhile; reload.") % {"unit": unit.call_sign}, "conflict", 409
        )
    assignment = Assignment.objects.filter(pk=tap.data.get("assignment")).select_related("incident").first()
    cleared = unstamp_clocks(assignment, list(tap.data.get("clocks") or [])) if assignment else []
    record_event(
        EventKind.UNIT_STATUS_CORRECTED,
        actor=actor,
        unit=unit,
        incident=assignment.incident if assignment else None,
        hospital=assignment.hospital if assignment else None,
        data={
            "from": tapped,
            "to": back_to,
            "call_sign": unit.call_sign,
            "assignment": assignment.pk if assignment else None,
            "undone": tap.seq,
            "clocks": cleared,
            "text": f"{unit.call_sign} 撤销误点：{status_zh(tapped)} → {status_zh(back_to)}",
            "text_en": f"{unit.call_sign} undid a status tap: {status_en(tapped)} → {status_en(back_to)}",
        },
    )
    return unit


def unstamp_clocks(assignment: Assignment, clocks: list[str]) -> list[str]:
    """Clear the clocks a status change stamped; the incident's too where this job set them
    (the same time), and the job's end reason when the change ended it."""
    fields = [name for name in clocks if name in ASSIGNMENT_CLOCKS]
    values = {name: getattr(assignment, name) for name in fields}
    cleared: dict[str, object] = dict.fromkeys(fields)
    if "cleared_at" in fields:
        cleared.update(end_reason="", end_note="")
    if cleared:
        Assignment.objects.filter(pk=assignment.pk).update(**cleared)
        client_times = {k: v for k, v in assignment.client_times.items() if k not in fields}
        Assignment.objects.filter(pk=assignment.pk).update(client_times=client_times)
        for name, value in cleared.items():
            setattr(assignment, name, value)
        assignment.client_times = client_times
    for name in fields:
        field = {"cleared_at": "unit_available_at"}.get(name, name)
        if values[name] is not None:
            Incident.objects.filter(pk=assignment.incident_id, **{field: values[name]}).update(
                **{field: None}
            )
    return fields


ASSIGNMENT_CLOCKS = {*STATUS_CLOCKS.values(), "handover_at", "cleared_at"}


def status_label(status: str) -> str:
    return str(UnitStatus(status).label) if status in UnitStatus.values else status


def status_zh(status: str) -> str:
    with translation.override("zh-hans"):
        return status_label(status)


def status_en(status: str) -> str:
    with translation.override("en"):
        return status_label(status)


# --------------------------------------------------------------------------------------------
# who may be sent, and out of service

# A unit is expected back within this: a later date is a typing mistake, not a plan.
MAX_OUT_OF_SERVICE = timedelta(days=366)
# Taken out of service from these (a unit on its way to, at or from a job finishes it first).
OUT_OF_SERVICE_FROM = (
    UnitStatus.AVAILABLE,
    UnitStatus.RETURNING,
    UnitStatus.RELOCATING,
    UnitStatus.OUT_OF_SERVICE,
)


def crew_on_shift(unit: Unit) -> bool:
    """Whether somebody is on shift on the unit (fleet.CrewShift, started on the crew tablet)."""
    return CrewShift.objects.current().filter(unit=unit).exists()


def refuse_unless_crewed(unit: Unit) -> None:
    """A 409 for a unit nobody is on shift on (REQUIRE_CREW_ON_SHIFT): no one would answer the
    alert, and the console's recommendation never offers it."""
    if settings.REQUIRE_CREW_ON_SHIFT and not crew_on_shift(unit):
        message = _("%(unit)s has no crew on shift: a crew member starts a shift on its tablet first.")
        raise ActionError(message % {"unit": unit.call_sign}, "no_crew", 409)


def checked_back_at(expected_back_at: datetime | None, now: datetime) -> datetime | None:
    if expected_back_at is None:
        return None
    if timezone.is_naive(expected_back_at):  # a time typed without a zone is the centre's time
        expected_back_at = timezone.make_aware(expected_back_at)
    if expected_back_at <= now:
        raise ActionError(_("The expected return must be later than now."), "bad_expected_back_at")
    if expected_back_at > now + MAX_OUT_OF_SERVICE:
        raise ActionError(_("The expected return must be within a year."), "bad_expected_back_at")
    return expected_back_at


def clear_out_of_service(unit: Unit) -> None:
    Unit.objects.filter(pk=unit.pk).update(out_of_service_reason="", expected_back_at=None)
    unit.out_of_service_reason, unit.expected_back_at = "", None


@transaction.atomic
def take_out_of_service(
    unit: Unit, reason: str, expected_back_at: datetime | None = None, *, actor: User | None = None
) -> Unit:
    """Stand a free unit down (vehicle fault, crew short...) with the reason and, when known, the
    time it should be back; the recommendation lists it last and never offers it. A unit already
    out of service gets the new reason and time. A unit on a job is refused (409): it finishes
    or is stood down from the job first."""
    reason = checked_text(reason, "reason", 120)
    if not reason:
        raise ActionError(_("Say why the unit is out of service."), "reason_required")
    now = timezone.now()
    back_at = checked_back_at(expected_back_at, now)
    current = Unit.objects.values_list("status", flat=True).get(pk=unit.pk)
    if current not in OUT_OF_SERVICE_FROM or Assignment.objects.live().filter(unit=unit).exists():
        message = _("%(unit)s is on a job (%(status)s): finish or stand it down from the job first.")
        raise ActionError(
            message % {"unit": unit.call_sign, "status": UnitStatus(current).label}, "unit_on_job", 409
        )
    if current == UnitStatus.OUT_OF_SERVICE:
        won = Unit.objects.filter(pk=unit.pk, status=current).update(status=current) == 1
    else:
        won = claim_status(unit, current, UnitStatus.OUT_OF_SERVICE)
    if not won:
        raise ActionError(
            _("%(unit)s changed status meanwhile; reload.") % {"unit": unit.call_sign}, "conflict", 409
        )
    Unit.objects.filter(pk=unit.pk).update(out_of_service_reason=reason, expected_back_at=back_at)
    unit.refresh_from_db()
    record_status_event(unit, current, actor, reason=reason, expected_back_at=back_at)
    return unit


@transaction.atomic
def return_to_service(unit: Unit, *, actor: User | None = None) -> Unit:
    """Put an out-of-service unit back: available, its reason and expected return cleared."""
    current = Unit.objects.values_list("status", flat=True).get(pk=unit.pk)
    if current != UnitStatus.OUT_OF_SERVICE:
        message = _("%(unit)s is not out of service (%(status)s).")
        raise ActionError(
            message % {"unit": unit.call_sign, "status": UnitStatus(current).label}, "not_out_of_service", 409
        )
    if not claim_status(unit, current, UnitStatus.AVAILABLE):
        raise ActionError(
            _("%(unit)s changed status meanwhile; reload.") % {"unit": unit.call_sign}, "conflict", 409
        )
    clear_out_of_service(unit)
    record_status_event(unit, current, actor)
    return unit


def record_status_event(
    unit: Unit,
    current: str,
    actor: User | None,
    *,
    reason: str = "",
    expected_back_at: datetime | None = None,
) -> None:
    """A unit.status event, as set_unit_status writes it (every screen follows the unit's status
    from these), with the reason and expected return when going out of service."""
    record_event(
        EventKind.UNIT_STATUS,
        actor=actor,
        unit=unit,
        data={
            "from": current,
            "to": unit.status,
            "call_sign": unit.call_sign,
            "assignment": None,
            "clocks": [],
            "client_time": None,
            "reason": reason,
            "expected_back_at": expected_back_at.isoformat() if expected_back_at else None,
        },
    )
