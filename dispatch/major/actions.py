"""Actions on major incidents (群体伤): declare one (by hand or by rule), keep its situation
report and scene organisation current, send many units at once, register and re-triage
casualties, give them destinations, carry them, and let each ER acknowledge its own.

Each is one transaction writing the change and its event; a refusal changes nothing. The
major-incident row is locked by every action that numbers or allocates its casualties, so two
tablets registering at once get consecutive tag numbers and two dispatchers accepting plans at
once do not overfill a hospital between them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import LineString, Point
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.core.actions import ActionError, checked_text, reachable_scene
from dispatch.core.event_kinds import EventKind
from dispatch.core.events import record_event
from dispatch.crew.actions import checked_readings
from dispatch.incidents.actions import dispatch_unit, refuse_unless_open
from dispatch.models import (
    NOTICE_VITALS,
    Assignment,
    Casualty,
    CasualtyNotice,
    CasualtyStatus,
    Incident,
    InjuryChip,
    MajorIncident,
    MajorLevel,
    MajorStatus,
    Outbox,
    TriageTag,
    User,
)
from fleet.models import Unit
from hospitals.models import Hospital

# The situation report's text fields (METHANE) and their lengths.
SITREP_TEXT = {
    "exact_location": 300,
    "incident_type": 300,
    "hazards": 500,
    "access": 500,
    "casualty_notes": 300,
    "services": 300,
}
MAX_CASUALTIES_REPORTED = 100_000
MAX_UNITS_AT_ONCE = 50
ACCESS_ROUTE_MAX_POINTS = 200


# ------------------------------------------------------------------------------ declaring


def summary(major: MajorIncident) -> dict[str, Any]:
    """What every event of the major incident carries about it."""
    return {
        "major": major.pk,
        "level": major.level,
        "status": major.status,
        "units": units_on(major.incident_id),
    }


def units_on(incident_id: int) -> list[int]:
    """The units on the incident now (sent, not stood down or cleared): each event of the major
    incident names them, so their crews' sockets hear of it (dispatch.core.permissions) and the
    tablets read the picture again instead of polling it."""
    return sorted(
        set(
            Assignment.objects.filter(
                incident_id=incident_id, cancelled_at__isnull=True, cleared_at__isnull=True
            ).values_list("unit_id", flat=True)
        )
    )


@transaction.atomic
def declare_major_incident(
    incident: Incident,
    *,
    level: int,
    actor: User | None,
    rule: str = "",
    casualties_reported: int | None = None,
) -> MajorIncident:
    """Declare: the supervisor and the notification list are told (SMS through the outbox) and
    the situation report opens with what the incident already knows."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    refuse_unless_open(incident)
    if level not in MajorLevel.values:
        raise ActionError(_("Choose a level from I to IV."), "bad_level")
    if MajorIncident.objects.filter(incident=incident).exists():
        raise ActionError(
            _("Incident %(number)s is already a major incident.") % {"number": incident.number},
            "already_declared",
            409,
        )
    reported = checked_count(
        casualties_reported if casualties_reported is not None else incident.patient_count
    )
    now = timezone.now()
    major = MajorIncident.objects.create(
        incident=incident,
        level=level,
        declared_at=now,
        declared_by=actor if actor and actor.pk else None,
        rule=checked_text(rule, "rule", 200),
        exact_location=incident.address[:300],
        incident_type=incident.chief_complaint[:300],
        hazards=incident.hazards[:500],
        access=incident.access_notes[:500],
        casualties_reported=reported,
        sitrep_at=now,
    )
    notify(major, incident)
    record_event(
        EventKind.MAJOR_DECLARED,
        actor=actor,
        incident=incident,
        data={**summary(major), "rule": major.rule, "casualties_reported": reported},
    )
    return major


def notify(major: MajorIncident, incident: Incident) -> None:
    """An SMS to every number on MAJOR_INCIDENT_NOTIFY, through the outbox (sent after commit,
    retried until delivered)."""
    level = MajorLevel(major.level).label
    body = _(
        "120 major incident %(level)s: %(type)s at %(where)s, %(count)s casualties reported. "
        "Incident %(number)s."
    ) % {
        "level": level,
        "type": major.incident_type or "-",
        "where": major.exact_location or "-",
        "count": major.casualties_reported if major.casualties_reported is not None else "?",
        "number": incident.number,
    }
    for number in settings.MAJOR_INCIDENT_NOTIFY:
        Outbox.objects.create(channel="sms", recipient=number, incident=incident, payload={"body": body})


def checked_count(value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CASUALTIES_REPORTED:
        raise ActionError(_("The number of casualties must be a whole number from 0."), "bad_count")
    return value


def locked_active(major: MajorIncident) -> MajorIncident:
    major = MajorIncident.objects.select_for_update().select_related("incident").get(pk=major.pk)
    if major.status != MajorStatus.ACTIVE:
        raise ActionError(_("The major incident was stood down."), "stood_down", 409)
    return major


@transaction.atomic
def update_sitrep(major: MajorIncident, *, actor: User | None, **fields: Any) -> MajorIncident:
    """Change the situation report's fields given; the event carries the new values."""
    major = locked_active(major)
    unknown = set(fields) - set(SITREP_TEXT) - {"casualties_reported", "level"}
    if unknown:
        raise ActionError(_("Unknown field: %(field)s.") % {"field": sorted(unknown)[0]}, "bad_field")
    changed: dict[str, Any] = {}
    for name, limit in SITREP_TEXT.items():
        if name in fields and fields[name] is not None:
            changed[name] = checked_text(fields[name], name, limit)
    if fields.get("casualties_reported") is not None:
        changed["casualties_reported"] = checked_count(fields["casualties_reported"])
    if fields.get("level") is not None:
        if fields["level"] not in MajorLevel.values:
            raise ActionError(_("Choose a level from I to IV."), "bad_level")
        changed["level"] = fields["level"]
    if not changed:
        raise ActionError(_("Nothing to change."), "nothing")
    for name, value in changed.items():
        setattr(major, name, value)
    major.sitrep_at = timezone.now()
    major.save(update_fields=[*changed, "sitrep_at"])
    record_event(
        EventKind.MAJOR_SITREP, actor=actor, incident=major.incident, data={**summary(major), **changed}
    )
    return major


@transaction.atomic
def set_scene(
    major: MajorIncident,
    *,
    actor: User | None,
    command_unit: Unit | None = None,
    staging_point: Point | None = None,
    access_route: list[tuple[float, float]] | None = None,
) -> MajorIncident:
    """The scene's organisation: the unit in command (one sent to this incident), the staging
    point ambulances wait at, the route they come in by."""
    major = locked_active(major)
    changed: dict[str, Any] = {}
    if command_unit is not None:
        sent = Assignment.objects.filter(
            incident=major.incident, unit=command_unit, cancelled_at__isnull=True
        )
        if not sent.exists():
            raise ActionError(
                _("%(unit)s is not sent to this incident.") % {"unit": command_unit.call_sign},
                "not_sent",
                409,
            )
        major.command_unit = command_unit
        changed["command_unit"] = command_unit.call_sign
    if staging_point is not None:
        major.staging_point = reachable_scene(staging_point)
        changed["staging_point"] = [staging_point.x, staging_point.y]
    if access_route is not None:
        if not 2 <= len(access_route) <= ACCESS_ROUTE_MAX_POINTS:
            raise ActionError(_("An access route needs 2 to 200 points."), "bad_route")
        major.access_route = LineString([Point(lon, lat) for lon, lat in access_route], srid=4326)
        changed["access_route"] = [list(p) for p in access_route]
    if not changed:
        raise ActionError(_("Nothing to change."), "nothing")
    major.save(update_fields=[k for k in ("command_unit", "staging_point", "access_route") if k in changed])
    record_event(
        EventKind.MAJOR_SCENE, actor=actor, incident=major.incident, data={**summary(major), **changed}
    )
    return major


@transaction.atomic
def stand_down_major(major: MajorIncident, *, actor: User | None) -> MajorIncident:
    major = locked_active(major)
    major.status = MajorStatus.STOOD_DOWN
    major.stood_down_at = timezone.now()
    major.save(update_fields=["status", "stood_down_at"])
    record_event(EventKind.MAJOR_STOOD_DOWN, actor=actor, incident=major.incident, data=summary(major))
    return major


# ------------------------------------------------------------------------------ many units


@transaction.atomic
def dispatch_units(
    incident: Incident,
    units: list[Unit],
    *,
    actor: User | None,
    command_unit: Unit | None = None,
) -> list[Assignment]:
    """Send several units at once, all or none: each through dispatch_unit (its claim is the
    conditional update that lets only one dispatcher win a unit), in one transaction, so a unit
    taken meanwhile refuses the whole order and nothing is half sent."""
    if not 1 <= len(units) <= MAX_UNITS_AT_ONCE:
        raise ActionError(_("Send 1 to 50 units at once."), "bad_units")
    if len({u.pk for u in units}) != len(units):
        raise ActionError(_("A unit is listed twice."), "duplicate_unit")
    if command_unit is not None and command_unit.pk not in {u.pk for u in units}:
        raise ActionError(_("The unit in command must be one of those sent."), "bad_command_unit")
    # Locks in the order a single dispatch takes them (incident, unit, then the event counter),
    # every unit before any event: two orders sharing a unit would otherwise each hold a unit and
    # the event counter the other waits for, a deadlock (tests/major/test_dispatch_many_race.py).
    # Units in id order, so two orders never wait on each other's units in a circle.
    Incident.objects.select_for_update().filter(pk=incident.pk).first()
    ordered = sorted(units, key=lambda u: u.pk)
    list(Unit.objects.select_for_update().filter(pk__in=[u.pk for u in ordered]).order_by("pk"))
    assignments = [dispatch_unit(incident, unit, actor=actor) for unit in ordered]
    major = MajorIncident.objects.filter(incident=incident).first()
    if command_unit is not None and major is not None and major.command_unit_id is None:
        set_scene(major, actor=actor, command_unit=command_unit)
    return assignments


# ------------------------------------------------------------------------------ casualties


def casualty_data(casualty: Casualty) -> dict[str, Any]:
    """What a casualty's event carries: no name (a major incident's patients are numbers first)."""
    return {
        "major": casualty.major_id,
        "casualty": casualty.pk,
        "tag_number": casualty.tag_number,
        "tag": casualty.tag,
        "status": casualty.status,
        "hospital": casualty.hospital_id,
        "units": units_on(casualty.major.incident_id),
    }


def checked_tag(tag: str) -> str:
    if tag not in TriageTag.values:
        raise ActionError(_("The triage tag is red, yellow, green or black."), "bad_tag")
    return tag


def next_tag_number(major: MajorIncident) -> str:
    """The next free number, 001 upwards (the major-incident row is locked by the caller)."""
    taken = set(major.casualties.values_list("tag_number", flat=True))  # one query: the count is its size
    n = len(taken) + 1
    while f"{n:03d}" in taken:
        n += 1
    return f"{n:03d}"


@transaction.atomic
def register_casualty(
    major: MajorIncident,
    *,
    tag: str,
    actor: User,
    tag_number: str = "",
    client_id: str | None = None,
    sex: str = "",
    age_estimate: int | None = None,
    description: str = "",
    unit: Unit | None = None,
) -> Casualty:
    """A casualty, tag first. Sent again with the same client_id (a tablet retrying after a lost
    answer), it returns the one already registered and adds nothing."""
    if client_id:
        client_id = checked_text(client_id, "client_id", 64)
        if (known := Casualty.objects.filter(client_id=client_id).first()) is not None:
            if known.major_id != major.pk:
                raise ActionError(_("This registration belongs to another incident."), "client_id_taken", 409)
            return known
    major = locked_active(major)
    checked_tag(tag)
    if sex not in ("", "M", "F"):
        raise ActionError(_("Sex is M, F or blank."), "bad_sex")
    if age_estimate is not None and not 0 <= age_estimate <= 120:
        raise ActionError(_("Age must be from 0 to 120."), "bad_age")
    number = checked_text(tag_number, "tag number", 20) or next_tag_number(major)
    if Casualty.objects.filter(major=major, tag_number=number).exists():
        raise ActionError(
            _("Tag number %(number)s is already registered.") % {"number": number}, "tag_number_taken", 409
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            casualty = Casualty.objects.create(
                major=major,
                tag_number=number,
                client_id=client_id or None,
                tag=tag,
                sex=sex,
                age_estimate=age_estimate,
                description=checked_text(description, "description", 300),
                registered_at=now,
                registered_by=actor,
                tagged_at=now,
            )
    except IntegrityError as exc:  # the same client_id raced in from a second request
        raise ActionError(_("This casualty was registered a moment ago."), "duplicate", 409) from exc
    record_event(
        EventKind.CASUALTY_REGISTERED,
        actor=actor,
        incident=major.incident,
        unit=unit,
        data=casualty_data(casualty),
    )
    return casualty


def locked_casualty(casualty: Casualty) -> Casualty:
    casualty = Casualty.objects.select_for_update().select_related("major__incident").get(pk=casualty.pk)
    if casualty.major.status != MajorStatus.ACTIVE:
        raise ActionError(_("The major incident was stood down."), "stood_down", 409)
    return casualty


@transaction.atomic
def retag_casualty(casualty: Casualty, *, tag: str, actor: User, unit: Unit | None = None) -> Casualty:
    """Re-triage (START is repeated as patients change): the new tag, and the receiving
    hospital told when there is one."""
    casualty = locked_casualty(casualty)
    checked_tag(tag)
    if casualty.tag == tag:
        return casualty
    before = casualty.tag
    casualty.tag = tag
    casualty.tagged_at = timezone.now()
    casualty.save(update_fields=["tag", "tagged_at"])
    record_event(
        EventKind.CASUALTY_RETAGGED,
        actor=actor,
        incident=casualty.major.incident,
        unit=unit,
        hospital=casualty.hospital,
        data={**casualty_data(casualty), "was": before},
    )
    return casualty


@transaction.atomic
def allocate_casualties(
    major: MajorIncident, allocations: Mapping[int, int | None], *, actor: User | None
) -> list[Casualty]:
    """Give casualties their destinations (an accepted plan, or the dispatcher's own choice; None
    takes a destination back). Only patients still at the scene; each hospital that gains or
    loses a patient is told by the event that names it."""
    major = locked_active(major)
    casualties = {c.pk: c for c in major.casualties.select_for_update().filter(pk__in=list(allocations))}
    missing = set(allocations) - set(casualties)
    if missing:
        raise ActionError(
            _("No casualty %(id)s in this incident.") % {"id": sorted(missing)[0]}, "unknown_casualty", 404
        )
    hospitals = Hospital.objects.in_bulk([h for h in allocations.values() if h is not None])
    changed = []
    for pk, hospital_id in sorted(allocations.items()):
        casualty = casualties[pk]
        if hospital_id is not None and hospital_id not in hospitals:
            raise ActionError(_("No hospital %(id)s.") % {"id": hospital_id}, "unknown_hospital", 404)
        if casualty.hospital_id == hospital_id:
            continue
        if casualty.status != CasualtyStatus.AT_SCENE:
            raise ActionError(
                _("Casualty %(number)s has left the scene: change the ambulance's destination instead.")
                % {"number": casualty.tag_number},
                "left_scene",
                409,
            )
        before = casualty.hospital
        casualty.hospital = hospitals.get(hospital_id) if hospital_id is not None else None
        casualty.acknowledged_at = casualty.acknowledged_by = None
        casualty.save(update_fields=["hospital", "acknowledged_at", "acknowledged_by"])
        changed.append(casualty)
        if before is not None:  # the hospital that no longer gets the patient
            record_event(
                EventKind.CASUALTY_ALLOCATED,
                actor=actor,
                incident=major.incident,
                hospital=before,
                data={**casualty_data(casualty), "withdrawn_from": before.pk},
            )
        if casualty.hospital is not None:
            record_event(
                EventKind.CASUALTY_ALLOCATED,
                actor=actor,
                incident=major.incident,
                hospital=casualty.hospital,
                data=casualty_data(casualty),
            )
    return changed


@transaction.atomic
def transport_casualties(
    casualties: Iterable[Casualty], assignment: Assignment, *, actor: User | None
) -> list[Casualty]:
    """Casualties loaded into an ambulance of this incident: carried to their destination, or to
    the ambulance's when they had none."""
    carried = []
    for c in casualties:
        casualty = locked_casualty(c)
        if assignment.incident_id != casualty.major.incident_id or assignment.cancelled_at is not None:
            raise ActionError(_("That ambulance is not on this incident."), "not_sent", 409)
        if casualty.status != CasualtyStatus.AT_SCENE:
            raise ActionError(
                _("Casualty %(number)s has left the scene already.") % {"number": casualty.tag_number},
                "left_scene",
                409,
            )
        if casualty.tag == TriageTag.BLACK:
            raise ActionError(_("A black-tagged casualty is not carried."), "black_tag", 409)
        casualty.assignment = assignment
        casualty.hospital_id = casualty.hospital_id or assignment.hospital_id
        casualty.status = CasualtyStatus.TRANSPORTING
        casualty.transported_at = timezone.now()
        casualty.save(update_fields=["assignment", "hospital", "status", "transported_at"])
        record_event(
            EventKind.CASUALTY_TRANSPORTED,
            actor=actor,
            incident=casualty.major.incident,
            unit=assignment.unit,
            hospital=casualty.hospital,
            data={**casualty_data(casualty), "unit": assignment.unit.call_sign},
        )
        carried.append(casualty)
    return carried


@transaction.atomic
def casualty_arrived(casualty: Casualty, *, actor: User | None) -> Casualty:
    casualty = Casualty.objects.select_for_update().select_related("major__incident").get(pk=casualty.pk)
    if casualty.status != CasualtyStatus.TRANSPORTING:
        raise ActionError(
            _("Casualty %(number)s is not on the way.") % {"number": casualty.tag_number}, "not_on_way", 409
        )
    casualty.status = CasualtyStatus.AT_HOSPITAL
    casualty.arrived_at = timezone.now()
    casualty.save(update_fields=["status", "arrived_at"])
    record_event(
        EventKind.CASUALTY_ARRIVED,
        actor=actor,
        incident=casualty.major.incident,
        hospital=casualty.hospital,
        data=casualty_data(casualty),
    )
    return casualty


@transaction.atomic
def acknowledge_casualty(casualty: Casualty, *, actor: User) -> Casualty:
    """The receiving ER saw that this patient comes to it (its board's button); only the
    hospital the patient is allocated to (the API checks the user's hospital)."""
    casualty = Casualty.objects.select_for_update().select_related("major__incident").get(pk=casualty.pk)
    if casualty.hospital_id is None or casualty.hospital_id != actor.hospital_id:
        raise ActionError(_("This patient is not coming to your hospital."), "not_yours", 403)
    if casualty.acknowledged_at is None:
        casualty.acknowledged_at = timezone.now()
        casualty.acknowledged_by = actor
        casualty.save(update_fields=["acknowledged_at", "acknowledged_by"])
        record_event(
            EventKind.CASUALTY_ALLOCATED,
            actor=actor,
            incident=casualty.major.incident,
            hospital=casualty.hospital,
            data={**casualty_data(casualty), "acknowledged": True},
        )
    return casualty


# ------------------------------------------------------------------------------ pre-arrival notices

NOTICE_INJURIES_MAX = 500


@transaction.atomic
def send_casualty_notice(
    casualty: Casualty,
    assignment: Assignment,
    *,
    actor: User | None,
    sex: str = "",
    age_estimate: int | None = None,
    injuries: str = "",
    chips: Iterable[str] = (),
    vitals: Mapping[str, int | float | None] | None = None,
) -> CasualtyNotice:
    """The crew carrying a casualty tells its destination ER what to expect (injuries, vital
    signs, sex and approximate age). Sent again, it replaces the notice and counts a version, so
    the ER sees the latest and that it changed. Only for a casualty in this ambulance with a
    destination; the readings are checked against the same ranges as the single-patient notice's
    (dispatch.crew.actions.checked_readings). A refusal writes nothing."""
    casualty = locked_casualty(casualty)
    if casualty.assignment_id != assignment.pk or assignment.cancelled_at is not None:
        raise ActionError(
            _("Casualty %(number)s is not in your ambulance.") % {"number": casualty.tag_number},
            "not_in_ambulance",
            403,
        )
    if casualty.hospital_id is None:
        raise ActionError(
            _("Casualty %(number)s has no destination hospital yet.") % {"number": casualty.tag_number},
            "not_allocated",
            409,
        )
    if sex not in ("", "M", "F"):
        raise ActionError(_("Sex is M, F or blank."), "bad_sex")
    if age_estimate is not None and (isinstance(age_estimate, bool) or not 0 <= age_estimate <= 120):
        raise ActionError(_("Age must be from 0 to 120."), "bad_age")
    text = checked_text(injuries, "injuries", NOTICE_INJURIES_MAX)
    chosen = list(dict.fromkeys(chips))
    if unknown := [c for c in chosen if c not in InjuryChip.values]:
        raise ActionError(_("Unknown injury: %(chip)s.") % {"chip": str(unknown[0])[:40]}, "bad_chip")
    given: dict[str, float | int | None] = {k: v for k, v in (vitals or {}).items() if v is not None}
    if unknown_vitals := sorted(set(given) - set(NOTICE_VITALS)):
        raise ActionError(
            _("Unknown readings: %(names)s.") % {"names": ", ".join(unknown_vitals)[:100]}, "bad_field"
        )
    readings: dict[str, float | int] = checked_readings(given) if given else {}
    if not (text or chosen or readings or sex or age_estimate is not None):
        raise ActionError(_("Give the injuries, a vital sign, sex or age."), "empty_notice")
    now = timezone.now()
    if sex or age_estimate is not None:
        casualty.sex = sex or casualty.sex
        casualty.age_estimate = age_estimate if age_estimate is not None else casualty.age_estimate
        casualty.save(update_fields=["sex", "age_estimate"])
    notice = CasualtyNotice.objects.select_for_update().filter(casualty=casualty).first()
    if notice is None:
        notice = CasualtyNotice(casualty=casualty, first_sent_at=now, version=0)
    notice.version += 1
    notice.assignment = assignment
    notice.sent_at = now
    notice.sent_by = actor if actor is not None and actor.pk else None
    notice.injuries = text
    notice.chips = chosen
    for name in NOTICE_VITALS:
        setattr(notice, name, readings.get(name))
    notice.save()
    record_event(
        EventKind.CASUALTY_NOTICE,
        actor=actor,
        incident=casualty.major.incident,
        unit=assignment.unit,
        hospital=casualty.hospital,
        data={**casualty_data(casualty), "notice": notice.pk, "version": notice.version},
    )
    return notice
