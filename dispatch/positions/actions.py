"""Vehicle positions (AVL): state, not events (decision 5, docs/decisions/).

A fix that passes the checks always goes into the history (PositionReport) and moves the unit
only when it is newer than the unit's stored position, so a tracker emptying its buffer after a
tunnel fills in the track without dragging the unit back. No Event row: a thousand units every
five seconds would bury the incident log. Screens learn of moves through the batcher
(dispatch/positions/batches.py), after commit. A refused fix stores nothing but is counted in
RejectedFix, per device and reason, so a broken tracker shows up in the admin.

A tracker proves which unit it is with the unit's tracker key (Unit.tracker_key), as its device
id or as a segment of the server URL. Its IMEI (Unit.tracker_id) is printed on the box and can be
guessed, so it alone is accepted only from settings.TRACKER_IMEI_NETWORKS (the trackers' APN or
VPN). Fixes from no known tracker are refused all alike (an unknown key, a wrong key, an IMEI from
elsewhere: nothing tells which ids exist), counted together per reason and hour, and limited per
client address (RATE_LIMITS_PER_MINUTE["tracker_unknown"]); a known key is never limited.

A fix costs two round trips and no transaction block: one query reads the unit and its previous
fix, one statement writes the history row and moves the unit (atomic as a single statement).
This is the busiest write in the system: a thousand units every five seconds (ops/bench/avl).
Trackers' fixes are stored in batches (group commit, `store_tracker_fixes`): the same two round
trips for all the fixes that arrived within a few tens of milliseconds, each request answered
only after its batch's statement has committed (dispatch/positions/fast_path.py collects them).
"""

import ipaddress
import logging
import math
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.core.actions import ActionError, checked_point
from dispatch.core.ratelimit import counter
from dispatch.positions.batches import note_unit_moved
from fleet.models import PositionSource, RejectedFix, Unit

log = logging.getLogger(__name__)

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
    tracker_id: str | None = None


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
    SELECT u.id, u.call_sign, u.tracker_id, p.id, p.at,
           ST_X(p.position::geometry), ST_Y(p.position::geometry)
    FROM fleet_unit u
    LEFT JOIN LATERAL (
        SELECT r.id, r.at, r.position FROM fleet_positionreport r
        WHERE r.unit_id = u.id AND r.at <= %s ORDER BY r.at DESC LIMIT 1
    ) p ON true
    WHERE {where}
"""
# A tracker's unit: by its key, or by its IMEI where that may stand alone (None matches nothing).
# Should one unit's key be another's IMEI, the key wins.
TRACKER_WHERE = "u.tracker_key = %s OR u.tracker_id = %s ORDER BY u.tracker_key = %s DESC LIMIT 1"


def find_target(where: str, values: list, at: datetime) -> Target | None:
    if timezone.is_aware(at):
        at = at.astimezone(UTC)  # a device may send any offset; PostgreSQL takes up to ±15:59
    with connection.cursor() as cursor:
        cursor.execute(TARGET_SQL.format(where=where), [at, *values])
        row = cursor.fetchone()
    if row is None:
        return None
    unit_id, call_sign, tracker_id, report_id, last_at, lon, lat = row
    last = LastFix(report_id, last_at, lon, lat) if report_id else None
    return Target(unit_id, call_sign, last, tracker_id)


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


@dataclass(frozen=True)
class Credential:
    """What a tracker presents: a key (the server URL's last segment, else its device id) and
    its device id as an IMEI, when the client's address may use one alone (else None)."""

    key: str
    imei: str | None

    @property
    def given(self) -> bool:
        return bool(self.key or self.imei)

    @property
    def usable_key(self) -> str:
        return self.key if "\x00" not in self.key else ""  # never a key; PostgreSQL text holds no NUL

    def where(self) -> tuple[str, list]:
        return TRACKER_WHERE, [self.usable_key, self.imei, self.usable_key]


def tracker_credential(device: str, address: str, path_key: str = "") -> Credential:
    device, path_key = (device or "").strip(), (path_key or "").strip()
    return Credential(path_key or device, device if device and imei_allowed(address) else None)


@lru_cache(maxsize=8)
def imei_networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def imei_allowed(address: str) -> bool:
    """Whether a client at this address may name its unit by IMEI alone (TRACKER_IMEI_NETWORKS)."""
    networks = imei_networks(tuple(settings.TRACKER_IMEI_NETWORKS))
    if not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def unknown_tracker(credential: Credential, address: str) -> ActionError:
    """The one answer for every fix no unit claims, whatever it named (never repeated back), after
    the per-address limit; counted per reason and hour, not per id."""
    limit = settings.RATE_LIMITS_PER_MINUTE["tracker_unknown"]
    wait = counter("tracker_unknown").seconds_to_wait(address, limit)
    if wait:
        message = _("Too many requests: try again in %(seconds)d seconds.") % {"seconds": wait}
        return ActionError(message, "rate_limited", 429)
    if not credential.given:
        error = ActionError(_("The device id is missing (id or deviceid)."), "missing_device", 400)
    else:
        message = _("Unknown tracker: set it up with its unit's tracker key (see the unit in the admin).")
        error = ActionError(message, "unknown_device", 404)
    RejectedFix.objects.count_unknown(error.code, error.message)
    return error


def tracker_device(unit_tracker_id: str | None, call_sign: str) -> str:
    """How refusals name a tracker in RejectedFix: its IMEI, never its key."""
    return unit_tracker_id or f"{PositionSource.TRACKER}:{call_sign}"


def record_tracker_fix(
    credential: Credential, fix: Fix, *, address: str = "", received_at: datetime | None = None
) -> PositionResult:
    """A tracker's fix, for the unit its credential names (unknown_tracker when none does): a
    batch of one (store_tracker_fixes)."""
    (outcome,) = store_tracker_fixes([TrackerFix(credential, fix, received_at or timezone.now(), address)])
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


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
    target = find_target("u.id = %s", [unit.pk], fix.at) or Target(unit.pk, unit.call_sign, None)
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


# -- trackers' fixes in batches (group commit) -------------------------------------------------


@dataclass(frozen=True)
class TrackerFix:
    """One tracker request waiting to be stored: who it says it is, and its fix, or why its fix
    could not be read (still counted against its unit, when it names one)."""

    credential: Credential
    fix: Fix | ActionError
    received_at: datetime
    address: str = ""


# What each request of a batch gets: its result, a refusal (ActionError), or the error that kept
# it from being stored (a database error: answered 503 or 500, never "stored").
Outcome = PositionResult | Exception

# Every request's unit and that unit's previous fix at or before the request's fix time, in one
# round trip for the whole batch (TARGET_SQL and TRACKER_WHERE, once per row of `req`).
TARGETS_SQL = """
    SELECT req.n, u.id, u.call_sign, u.tracker_id, p.id, p.at,
           ST_X(p.position::geometry), ST_Y(p.position::geometry)
    FROM unnest(%s::int[], %s::text[], %s::text[], %s::timestamptz[]) AS req(n, key, imei, at)
    JOIN LATERAL (
        SELECT u.id, u.call_sign, u.tracker_id FROM fleet_unit u
        WHERE u.tracker_key = req.key OR u.tracker_id = req.imei
        ORDER BY u.tracker_key = req.key DESC LIMIT 1
    ) u ON true
    LEFT JOIN LATERAL (
        SELECT r.id, r.at, r.position FROM fleet_positionreport r
        WHERE r.unit_id = u.id AND r.at <= req.at ORDER BY r.at DESC LIMIT 1
    ) p ON true
"""


def find_targets(items: list[TrackerFix]) -> dict[int, Target]:
    """Each request's unit and previous fix, by the request's index (none: no such tracker)."""
    rows: list[tuple] = []
    for n, item in enumerate(items):
        at = item.fix.at if isinstance(item.fix, Fix) else item.received_at
        if timezone.is_aware(at):
            at = at.astimezone(UTC)  # see find_target
        rows.append((n, item.credential.usable_key, item.credential.imei, at))
    with connection.cursor() as cursor:
        cursor.execute(TARGETS_SQL, columns(rows, 4))
        found = cursor.fetchall()
    targets = {}
    for n, unit_id, call_sign, tracker_id, report_id, last_at, lon, lat in found:
        last = LastFix(report_id, last_at, lon, lat) if report_id else None
        targets[n] = Target(unit_id, call_sign, last, tracker_id)
    return targets


@dataclass
class Row:
    """A history row of the batch, and the requests it answers (copies of one fix share it)."""

    values: dict
    requests: list[int]
    report_id: int | None = None


@dataclass
class BatchPlan:
    """What one batch writes: history rows, each unit's newest fix, refusals counted."""

    rows: dict[tuple[int, datetime], Row] = field(default_factory=dict)
    # (device, reason) -> [unit id, count, last message]
    refused: dict[tuple[str, str], list] = field(default_factory=dict)
    last_row: dict[int, Row] = field(default_factory=dict)  # per unit, the row planned last

    def refuse(self, device: str, error: ActionError, unit_id: int | None) -> None:
        counter = self.refused.setdefault((device[:64], error.code[:40]), [unit_id, 0, ""])
        counter[0] = counter[0] or unit_id
        counter[1] += 1
        counter[2] = error.message[:300]

    def previous(self, target: Target, at: datetime) -> LastFix | None:
        """The newest fix of the unit at or before `at`: stored, or earlier in this batch (the
        batch is planned in time order per unit, so that is the unit's last row planned)."""
        last = target.last
        row = self.last_row.get(target.unit_id)
        if row is not None and row.values["at"] <= at and (last is None or row.values["at"] >= last.at):
            return LastFix(0, row.values["at"], row.values["lon"], row.values["lat"])
        return last

    def add(self, key: tuple[int, datetime], row: Row) -> None:
        self.rows[key] = row
        self.last_row[key[0]] = row

    def newest(self) -> dict[int, Row]:
        """Per unit, the row that may move it: its newest fix in the batch."""
        return dict(self.last_row)  # planned in time order per unit


def plan_fix(plan: BatchPlan, n: int, item: TrackerFix, target: Target) -> None:
    """Check one request's fix against its unit's previous one and add it to the plan (raises
    ActionError for an impossible fix; the caller counts it)."""
    if isinstance(item.fix, ActionError):
        raise item.fix
    fix = item.fix
    if timezone.is_aware(fix.at):
        fix = replace(fix, at=fix.at.astimezone(UTC))  # see find_target
    point, speed, heading, accuracy = checked_fix(fix, item.received_at)
    last = plan.previous(target, fix.at)
    if last is None or last.at != fix.at or (last.lon, last.lat) != (point.x, point.y):
        check_jump(last, point.x, point.y, fix.at)
    key = (target.unit_id, fix.at)
    if key in plan.rows:  # a copy of a fix earlier in this batch: the first one is stored
        plan.rows[key].requests.append(n)
        return
    values = {"unit": target.unit_id, "at": fix.at, "received": item.received_at, "lon": point.x}
    values.update(lat=point.y, speed=speed, heading=heading, accuracy=accuracy, source=PositionSource.TRACKER)
    plan.add(key, Row(values, [n]))


def store_tracker_fixes(items: list[TrackerFix]) -> list[Outcome]:
    """Store a batch of trackers' fixes with the rules of `store`, in two round trips for the
    whole batch: one query for every request's unit and previous fix, one statement that writes
    every history row, moves each unit to its newest fix and counts the refusals. One outcome per
    request, in order. A refused fix refuses that request only; a statement that fails on one
    fix's data is tried again fix by fix, so only that fix fails; a database that cannot be
    reached fails the batch (OperationalError), and nothing of it is acknowledged."""
    if not items:
        return []
    targets = find_targets(items)
    outcomes: list[Outcome | None] = [None] * len(items)
    plan = BatchPlan()
    order = sorted(targets, key=lambda n: (targets[n].unit_id, fix_time(items[n]), n))
    for n in order:
        target, item = targets[n], items[n]
        try:
            plan_fix(plan, n, item, target)
        except ActionError as exc:
            plan.refuse(tracker_device(target.tracker_id, target.call_sign), exc, target.unit_id)
            outcomes[n] = exc
        except Exception as exc:  # noqa: BLE001  (one fix's fault is that fix's answer)
            log.exception("tracker fix not stored")
            outcomes[n] = exc
    if plan.rows or plan.refused:
        try:
            write_with_retry(plan, targets, outcomes)
        except (OperationalError, InterfaceError):
            raise
        except DatabaseError:
            if len(items) == 1:
                raise
            # One fix's data broke the statement: each fix alone, so only that one fails.
            return [alone(item) for item in items]
    for n, item in enumerate(items):
        if n not in targets:
            try:
                outcomes[n] = unknown_tracker(item.credential, item.address)
            except Exception as exc:  # noqa: BLE001
                outcomes[n] = exc
    return [outcome if outcome is not None else RuntimeError("no outcome") for outcome in outcomes]


def alone(item: TrackerFix) -> Outcome:
    try:
        return store_tracker_fixes([item])[0]
    except Exception as exc:  # noqa: BLE001
        return exc


def fix_time(item: TrackerFix) -> datetime:
    return item.fix.at.astimezone(UTC) if isinstance(item.fix, Fix) else item.received_at


# A statement that a concurrent batch deadlocked (two batches touching one unit in another
# order, as two copies of a fix through two app nodes can): tried again, at most this often.
DEADLOCK_RETRIES = 2


def write_with_retry(plan: BatchPlan, targets: dict[int, Target], outcomes: list) -> None:
    attempt = 0
    while True:
        try:
            moved = write_batch(plan)
            break
        except OperationalError as exc:
            if attempt == DEADLOCK_RETRIES or connection.in_atomic_block or not rolled_back(exc.__cause__):
                raise
            attempt += 1
    newest = plan.newest()
    for unit_id, row in newest.items():
        if unit_id in moved:
            target = targets[row.requests[0]]
            values = row.values
            state = {"id": unit_id, "call_sign": target.call_sign, "lon": values["lon"], "lat": values["lat"]}
            state.update(position_at=values["at"], speed_kmh=values["speed"], heading=values["heading"])
            transaction.on_commit(partial(note_unit_moved, state))
    for row in plan.rows.values():
        unit_id = row.values["unit"]
        first, *copies = row.requests
        assert row.report_id is not None
        outcomes[first] = PositionResult(unit_id, row.report_id, unit_id in moved and newest[unit_id] is row)
        for n in copies:
            outcomes[n] = PositionResult(unit_id, row.report_id, False)


def rolled_back(cause: BaseException | None) -> bool:
    """A deadlock or serialization failure: the statement was rolled back and may be run again."""
    import psycopg.errors

    return isinstance(cause, psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure)


# Each statement takes its rows as one array a column (unnest), not as VALUES with a placeholder a
# field: its text is then the same for every batch, so psycopg converts it once and caches it,
# where a text that grew with the batch was parsed again for each (a tenth of an app node's CPU
# at 1,000 units, most of it that parsing).
# The history rows in (unit, time) order, so two batches meeting on one fix wait for each other
# instead of deadlocking; a copy of a fix already stored keeps the first, but is still written, so
# its answer too waits for the synchronous standby (see STORE_SQL and `repeated`).
BATCH_REPORTS = """report AS (
    INSERT INTO fleet_positionreport
        (unit_id, at, received_at, position, speed_kmh, heading, accuracy_m, source)
    SELECT v.unit, v.at, v.received, ST_SetSRID(ST_MakePoint(v.lon, v.lat), 4326)::geography,
           v.speed, v.heading, v.accuracy, v.source
    FROM unnest(%s::int[], %s::timestamptz[], %s::timestamptz[], %s::float8[], %s::float8[],
                %s::float8[], %s::float8[], %s::float8[], %s::text[])
         AS v(unit, at, received, lon, lat, speed, heading, accuracy, source)
    ORDER BY v.unit, v.at
    ON CONFLICT (unit_id, at) DO UPDATE SET received_at = fleet_positionreport.received_at
    RETURNING id, unit_id, at
)"""
# Each unit to its newest fix of the batch, only when that is newer than its stored one.
BATCH_UNITS = """moved AS (
    UPDATE fleet_unit u
    SET position = ST_SetSRID(ST_MakePoint(v.lon, v.lat), 4326)::geography,
        position_at = v.at, speed_kmh = v.speed, heading = v.heading
    FROM unnest(%s::int[], %s::timestamptz[], %s::float8[], %s::float8[], %s::float8[], %s::float8[])
         AS v(unit, at, lon, lat, speed, heading)
    WHERE u.id = v.unit AND (u.position_at IS NULL OR u.position_at < v.at)
    RETURNING u.id
)"""
# RejectedFixQuerySet.count_one for many at once: each (device, reason) once, with its count.
BATCH_REFUSED = """refused AS (
    INSERT INTO fleet_rejectedfix (device, reason, unit_id, count, first_at, last_at, last_message)
    SELECT v.device, v.reason, v.unit, v.count, now(), now(), v.message
    FROM unnest(%s::text[], %s::text[], %s::int[], %s::int[], %s::text[])
         AS v(device, reason, unit, count, message)
    ORDER BY v.device, v.reason
    ON CONFLICT (device, reason) DO UPDATE SET count = fleet_rejectedfix.count + EXCLUDED.count,
        last_at = EXCLUDED.last_at, last_message = EXCLUDED.last_message,
        unit_id = coalesce(EXCLUDED.unit_id, fleet_rejectedfix.unit_id)
    RETURNING id
)"""


REPORT_FIELDS = ("unit", "at", "received", "lon", "lat", "speed", "heading", "accuracy", "source")
UNIT_FIELDS = ("unit", "at", "lon", "lat", "speed", "heading")


def columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows as one list a column, for unnest(): [(1, "a"), (2, "b")] -> [[1, 2], ["a", "b"]]."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def write_batch(plan: BatchPlan) -> set[int]:
    """The whole batch in one statement (atomic without a transaction block, one round trip):
    the history rows, the units moved, the refusals counted. Fills in each row's report id and
    returns the ids of the units moved."""
    parts: list[str] = []
    selects: list[str] = []
    values: list[list] = []
    if plan.rows:
        rows = sorted(plan.rows.values(), key=lambda row: (row.values["unit"], row.values["at"]))
        parts.append(BATCH_REPORTS)
        values += columns([[row.values[k] for k in REPORT_FIELDS] for row in rows], len(REPORT_FIELDS))
        newest = sorted(plan.newest().values(), key=lambda row: row.values["unit"])
        parts.append(BATCH_UNITS)
        values += columns([[row.values[k] for k in UNIT_FIELDS] for row in newest], len(UNIT_FIELDS))
        selects += [
            "SELECT 'report', id, unit_id, at FROM report",
            "SELECT 'moved', id, id, NULL::timestamptz FROM moved",
        ]
    if plan.refused:
        parts.append(BATCH_REFUSED)
        refused = [(*key, *counted) for key, counted in sorted(plan.refused.items())]
        values += columns(refused, 5)  # device, reason, unit, count, message
        selects.append("SELECT 'refused', id, NULL::int, NULL::timestamptz FROM refused")
    sql = "WITH " + ",\n".join(parts) + "\n" + "\nUNION ALL ".join(selects)
    moved: set[int] = set()
    # Inside a transaction (a caller's atomic block), a savepoint: a failed statement must not
    # spoil the caller's transaction before the fix-by-fix retry.
    with transaction.atomic() if connection.in_atomic_block else nullcontext(), connection.cursor() as cursor:
        cursor.execute(sql, values)
        results = cursor.fetchall()
    for kind, row_id, unit_id, at in results:
        if kind == "report":
            plan.rows[(unit_id, at)].report_id = row_id
        elif kind == "moved":
            moved.add(unit_id)
    return moved
