"""Vehicle positions (AVL): state, not events (decision 5, docs/decisions/).

A fix that passes the checks always goes into the history (PositionReport) and moves the unit
only when it is newer than the unit's stored position, so a tracker emptying its buffer after a
tunnel fills in the track without dragging the unit back. No Event row: a thousand units every
five seconds would bury the incident log. Screens learn of moves through the batcher
(dispatch/positions/batches.py), after commit. A refused fix stores nothing but is counted in
RejectedFix, per device and reason, so a broken tracker shows up in the admin.

A fix costs two round trips and no transaction block: one query reads the unit and its previous
fix, one statement writes the history row and moves the unit (atomic as a single statement).
This is the busiest write in the system: a thousand units every five seconds (ops/bench/avl).
"""

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.core.actions import ActionError, checked_point
from dispatch.positions.batches import note_unit_moved
from fleet.models import PositionSource, RejectedFix, Unit

# No ambulance goes faster; a reported speed or a jump between fixes above this is a GPS fault.
MAX_SPEED_KMH = 250.0
# Device clocks drift and phones fix late, but a fix from the future is a wrong clock, and so
# is one older than any buffer a tracker or a tablet keeps.
MAX_FUTURE = timedelta(seconds=60)
MAX_PAST = timedelta(days=7)
# Two fixes this close are GPS jitter, whatever their times say (1 s apart is already 69 m at
# the speed limit); the jump check starts beyond it.
JUMP_SLACK_M = 100.0
# Accuracy is a radius in metres; beyond this the "fix" is a cell-tower guess.
MAX_ACCURACY_M = 100_000.0


@dataclass(frozen=True)
class Fix:
    """One position fix, in our units, converted from the device's protocol at the edge."""

    lon: float
    lat: float
    at: datetime
    speed_kmh: float | None = None
    heading: float | None = None
    accuracy_m: float | None = None


@dataclass(frozen=True)
class PositionResult:
    unit_id: int
    report_id: int
    moved: bool  # False: older than the unit's stored fix (history only), or a repeat


def refuse(code: str, message: str) -> ActionError:
    return ActionError(message, code, 422)


def finite(value: float | None, name: str) -> float | None:
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError) as exc:
        raise refuse("bad_input", _("%(name)s must be a number.") % {"name": name}) from exc
    if not math.isfinite(value):
        raise refuse("bad_input", _("%(name)s must be a finite number.") % {"name": name})
    return value


def checked_fix(fix: Fix, now: datetime) -> tuple[Point, float | None, float | None, float | None]:
    """The fix's point, speed, heading and accuracy, or ActionError for an impossible fix."""
    try:
        point = checked_point(fix.lon, fix.lat)
    except ActionError as exc:
        raise refuse(exc.code, exc.message) from exc
    if timezone.is_naive(fix.at):
        raise refuse("bad_time", _("The fix time must carry a time zone."))
    if fix.at < now - MAX_PAST:
        message = _("The fix is from %(day)s, more than 7 days ago: the device clock is wrong.")
        raise refuse("old_fix", message % {"day": fix.at.date()})
    if fix.at > now + MAX_FUTURE:
        ahead = (fix.at - now).total_seconds()
        raise refuse(
            "future_fix",
            _("The fix is %(seconds).0f s in the future: the device clock is wrong.") % {"seconds": ahead},
        )
    speed = finite(fix.speed_kmh, "speed")
    if speed is not None and not 0 <= speed <= MAX_SPEED_KMH:
        raise refuse(
            "bad_speed",
            _("Speed %(speed).0f km/h is impossible (0 to %(max).0f km/h).")
            % {"speed": speed, "max": MAX_SPEED_KMH},
        )
    heading = finite(fix.heading, "heading")
    if heading is not None and not 0 <= heading <= 360:
        raise refuse("bad_heading", _("Heading %(heading)s is not 0 to 360 degrees.") % {"heading": heading})
    accuracy = finite(fix.accuracy_m, "accuracy")
    if accuracy is not None and not 0 <= accuracy <= MAX_ACCURACY_M:
        raise refuse("bad_accuracy", _("Accuracy %(accuracy)s m is impossible.") % {"accuracy": accuracy})
    return point, speed, heading, accuracy


@dataclass(frozen=True)
class Target:
    """The unit a fix is for, and its previous fix: what the checks compare with."""

    unit_id: int
    call_sign: str
    last: "LastFix | None"


@dataclass(frozen=True)
class LastFix:
    report_id: int
    at: datetime
    lon: float
    lat: float


# One round trip for the unit and its previous fix: the newest history row at or before this
# fix's time. Not the unit's stored position: a unit's first position is its station, set when
# it was created, and a vehicle driven away before its tracker was switched on must not be
# refused for minutes. Raw SQL because this runs 200 times a second (ops/bench/avl).
TARGET_SQL = """
    SELECT u.id, u.call_sign, p.id, p.at, ST_X(p.position::geometry), ST_Y(p.position::geometry)
    FROM fleet_unit u
    LEFT JOIN LATERAL (
        SELECT r.id, r.at, r.position FROM fleet_positionreport r
        WHERE r.unit_id = u.id AND r.at <= %s ORDER BY r.at DESC LIMIT 1
    ) p ON true
    WHERE {where}
"""


def find_target(where: str, value: str | int | None, at: datetime) -> Target | None:
    if timezone.is_aware(at):
        at = at.astimezone(UTC)  # a device may send any offset; PostgreSQL takes up to ±15:59
    with connection.cursor() as cursor:
        cursor.execute(TARGET_SQL.format(where=where), [at, value])
        row = cursor.fetchone()
    if row is None:
        return None
    unit_id, call_sign, report_id, last_at, lon, lat = row
    return Target(unit_id, call_sign, LastFix(report_id, last_at, lon, lat) if report_id else None)


def check_jump(last: LastFix | None, lon: float, lat: float, at: datetime) -> None:
    """Refuse a fix the unit could only reach from its previous fix faster than any ambulance."""
    if last is None:
        return
    metres = geodesic_m(last.lon, last.lat, lon, lat)
    if metres <= JUMP_SLACK_M:
        return
    seconds = max((at - last.at).total_seconds(), 1.0)
    kmh = metres / seconds * 3.6
    if kmh > MAX_SPEED_KMH:
        raise refuse(
            "jump",
            _(
                "The fix is %(km).1f km from the last one %(seconds).0f s earlier: that would be "
                "%(kmh).0f km/h, faster than any ambulance (limit %(max).0f km/h), so it is a GPS fault."
            )
            % {"km": metres / 1000, "seconds": seconds, "kmh": kmh, "max": MAX_SPEED_KMH},
        )


def geodesic_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine; well under 0.5 % off at city scale)."""
    lon1, lat1, lon2, lat2 = map(math.radians, (lon1, lat1, lon2, lat2))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def count_rejected_fix(device: str, error: ActionError, unit_id: int | None = None) -> None:
    """Count one refused fix against its device and reason (an upsert in its own statement, so
    the count survives the refusal)."""
    RejectedFix.objects.count_one(device, error.code, error.message, unit_id)


def unknown_device(device: str) -> ActionError:
    device = (device or "").strip()
    if not device:
        return ActionError(_("The device id is missing (id or deviceid)."), "missing_device", 400)
    error = ActionError(
        _("Unknown device %(device)s: bind it to a unit (tracker id) first.") % {"device": device[:64]},
        "unknown_device",
        404,
    )
    count_rejected_fix(device, error)
    return error


def tracker_unit(device: str) -> Unit:
    """The unit a tracker is bound to (Unit.tracker_id); an unknown device is counted and refused."""
    unit = Unit.objects.filter(tracker_id=(device or "").strip() or None).first()
    if unit is None:
        raise unknown_device(device)
    return unit


def record_tracker_fix(device: str, fix: Fix, *, received_at: datetime | None = None) -> PositionResult:
    """A tracker's fix, for the unit its device id is bound to (404 when none is)."""
    target = find_target("u.tracker_id = %s", (device or "").strip() or None, fix.at)
    if target is None:
        raise unknown_device(device)
    return store(target, fix, PositionSource.TRACKER, device, received_at)


def record_position(
    unit: Unit,
    fix: Fix,
    *,
    source: str,
    device: str = "",
    received_at: datetime | None = None,
) -> PositionResult:
    """Store one fix of this unit in the history and, when it is the newest, as its position."""
    if source not in PositionSource.values:
        raise ActionError(f"Unknown position source {source!r}.", "bad_source")
    target = find_target("u.id = %s", unit.pk, fix.at) or Target(unit.pk, unit.call_sign, None)
    return store(target, fix, source, device or f"{source}:{unit.call_sign}", received_at)


def store(target: Target, fix: Fix, source: str, device: str, received_at: datetime | None) -> PositionResult:
    received_at = received_at or timezone.now()
    if timezone.is_aware(fix.at):
        fix = replace(fix, at=fix.at.astimezone(UTC))  # see find_target
    try:
        point, speed, heading, accuracy = checked_fix(fix, received_at)
        last = target.last
        if last is not None and last.at == fix.at and (last.lon, last.lat) == (point.x, point.y):
            return repeated(target, last)
        check_jump(last, point.x, point.y, fix.at)
    except ActionError as exc:
        count_rejected_fix(device, exc, target.unit_id)
        raise
    values = {"unit": target.unit_id, "at": fix.at, "received": received_at, "lon": point.x, "lat": point.y}
    values.update(speed=speed, heading=heading, accuracy=accuracy, source=source)
    report_id, moved = insert_and_move(values)
    if moved:
        state = {"id": target.unit_id, "call_sign": target.call_sign, "lon": point.x, "lat": point.y}
        state.update(position_at=fix.at, speed_kmh=speed, heading=heading)
        transaction.on_commit(lambda: note_unit_moved(state))
    return PositionResult(target.unit_id, report_id, moved)


# The history row and the unit's position in one statement, so one round trip and atomic without
# a transaction of its own. The update is conditional: of two fixes racing for one unit, the
# newer wins whatever the order they commit in.
STORE_SQL = """
    WITH report AS (
        INSERT INTO fleet_positionreport
            (unit_id, at, received_at, position, speed_kmh, heading, accuracy_m, source)
        VALUES (%(unit)s, %(at)s, %(received)s,
                ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography,
                %(speed)s, %(heading)s, %(accuracy)s, %(source)s)
        -- a copy of a fix already stored (two resends racing): keep the first, but still write,
        -- so this answer too waits for the synchronous standby (NOTES: Patroni)
        ON CONFLICT (unit_id, at) DO UPDATE SET received_at = fleet_positionreport.received_at
        RETURNING id
    ), moved AS (
        UPDATE fleet_unit
        SET position = ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography,
            position_at = %(at)s, speed_kmh = %(speed)s, heading = %(heading)s
        WHERE id = %(unit)s AND (position_at IS NULL OR position_at < %(at)s)
        RETURNING id
    )
    SELECT (SELECT id FROM report), EXISTS (SELECT 1 FROM moved)
"""


def repeated(target: Target, last: LastFix) -> PositionResult:
    """The same fix again: a tracker retrying after a lost response (or the failover retry of
    dispatch.core.failover). Stored once; but the answer "stored" waits for a write of its own, whose
    commit waits for the synchronous standby, so a first copy seen on a primary that had not yet
    replicated it is never acknowledged on its word alone (NOTES: Patroni)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE fleet_positionreport SET received_at = received_at WHERE id = %s", [last.report_id]
        )
    return PositionResult(target.unit_id, last.report_id, False)


def insert_and_move(values: dict) -> tuple[int, bool]:
    with connection.cursor() as cursor:
        cursor.execute(STORE_SQL, values)
        report_id, moved = cursor.fetchone()
    return report_id, moved
