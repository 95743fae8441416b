#!/usr/bin/env python3
"""The failover drill: start the whole topology (ops/ha/cluster.py) on this machine, keep a
steady load of keyed writes and several console sockets going through HAProxy, break one part
at a time, restore it, and prove that nothing acknowledged was lost or applied twice.

  make drill            (or: .venv/bin/python ops/ha/drill.py [--keep] [--only 1,4])

The load, all through HAProxy and each write retried with the same key until it is answered:
- incident creations: POST /api/incidents with an Idempotency-Key (a dispatcher's session);
- crew status changes: POST /api/crew/status with an Idempotency-Key (one crew per unit,
  toggling available / out of service);
- GPS fixes: the OsmAnd endpoint (/api/osmand), each tracker naming its unit by the unit's tracker
  key; a fix's identity is the device and the fix time;
- a crew on the way to hospital: vital signs and the pre-arrival notice, each POST keyed. Every
  send queues a FHIR Bundle that the app nodes' outbox workers deliver to a hospital endpoint
  played by this script, which records when each delivery started and ended.
An acknowledged write is a 2xx with the created id (stored: true for a fix). Console sockets on
/ws/live/ reconnect with backoff and resume from the last sequence number they saw, as
static/js/live.js does.

Scenarios, each from a healthy cluster, each restored and checked healthy afterwards:
1 db_primary_kill: the primary's Patroni, its postmaster and every postgres child, its leader
  watch and its etcd member, SIGKILL; 2 db_sync_standby_kill: the synchronous standby's Patroni,
  postgres and watch; 3 db_primary_freeze: SIGSTOP the primary's Patroni, postgres processes and
  watch until another node is promoted, and 2 s more, then SIGCONT; 4 redis_master_kill;
  5 app_node_kill (daphne and its workers), then app_node_freeze (both, SIGSTOP for 8 s);
  6 db_primary_partition: the primary's machine (its etcd member, Patroni, PostgreSQL, watch) cut
  off from the other two database machines, packets dropped (nftables rules matching each
  machine's cgroup, in a table of the drill's own), while app nodes still reach it; healed
  HOLD_AFTER_PROMOTION_S after the promotion; 7 db_primary_hung: the primary's Patroni, PostgreSQL
  and watch SIGSTOPped and never resumed: killed and restarted HOLD_AFTER_PROMOTION_S after the
  promotion. Scenarios 1, 3, 6 and 7 run DRILL_REPEATS times (default 1).
Readers record which server answered each read (inet_server_port(), pg_is_in_recovery(), and a
read of the units and incidents tables as the app's role, which a primary whose lease lapsed
refuses, ops/ha/lease/d120_lease.c): two through the app's multi-host URL, one probe per node on its own
address.

One line per scenario on stdout, then one JSON line: scenarios, acked_writes (and by kind),
lost_acked_writes, duplicates (and by kind), missing_console_events (summed over consoles, of the
events numbered up to the log's end once the outbox has drained; missing_console_detail names the
events, at most 20), the pre-arrival notice sends (each
acknowledged send received by the hospital once, or its outbox row recorded as sent), split_brain_s
per scenario (how long two nodes answered as primary at once), stale_reads_after_promotion per
scenario (reads through the app's URL answered by the old primary after the new one first answered
as primary), max_write_gap_s per scenario and write_gaps_s (every repeat) (the longest stretch from
the fault to the healthy cluster with no write acknowledged), max_write_latency_s per scenario (the
slowest single write, from its first attempt to its answer), console_lag_s per scenario (after the
cluster was healthy again, until every console had every event), the FHIR deliveries (queued,
received, resent after a lost outcome, sent by two workers at once, undelivered), primary_lease_s
(the lease PostgreSQL checks, ops/ha/lease/d120_lease.c; 0: off), and the Patroni timings used.
Exit status 1 unless lost, duplicates, missing console events, writes given up, FHIR rows
undelivered, Bundles sent twice at once and notice sends missing are all 0.
Progress goes to stderr.
The load is bounded (MAX_WRITES, MAX_LOAD_S) and the whole drill stops itself after
DRILL_LIMIT_S. Everything lives in a temporary directory that is removed at the end (kept with
--keep or on failure); every process is stopped by its pid, even on failure or SIGTERM.
"""

import argparse
import asyncio
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from functools import partial
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cluster  # noqa: E402  (ops/ha/cluster.py, beside this file)
from cluster import HOST, Topology  # noqa: E402

ROOT = cluster.ROOT
DISPATCHER = ("drill-dispatcher", "drill-dispatcher-120-pw")
CREWS = 3
TRACKERS = 3
CONSOLES = 4
# Four dispatchers' worth of incident writers (two before issue 19): more writes in flight when
# the primary fails, so more chances to lose or double one.
INCIDENT_WRITERS = 4
ATTEMPT_TIMEOUT_S = 15  # longer than the app's own failover retries (FAILOVER_RETRY_SECONDS)
# Trackers resend as impatiently as the screens: a resend racing an attempt still queued or
# running must still store the fix once (it stored it twice before the unique index on unit and
# fix time; this is the drill's check of that).
TRACKER_TIMEOUT_S = 15
GIVE_UP_S = 90  # one write that cannot be answered in this long fails the drill
# An outbox row whose worker died mid-send waits out its lease (dispatch/core/outbox.py LEASE, 60 s).
OUTBOX_DRAIN_S = 90
FREEZE_APP_S = 8
# A partition is healed, a hung primary killed, this long after the new primary took over: long
# enough to see whether the old one still serves anyone.
HOLD_AFTER_PROMOTION_S = 5
# The database-primary scenarios run DRILL_REPEATS times (the others once); CI runs 2 (about
# 7 minutes on a 2-core machine, well inside DRILL_LIMIT_S).
REPEATS = int(os.environ.get("DRILL_REPEATS", "1"))
READ_INTERVAL_S = 0.1
# The load is bounded in count and in time, and the whole drill in time: 18 minutes (8 before
# issue 19 added the partition, the hung primary and twice the incident writers; a run takes 4 to 5
# minutes on a 2-core machine to itself, and the load must outlast the last scenario).
MAX_WRITES = 12000
# DRILL_LIMIT_S may be raised from the environment on a machine shared with other work.
DRILL_LIMIT_S = int(os.environ.get("DRILL_LIMIT_S", "1080"))
MAX_LOAD_S = DRILL_LIMIT_S - 60
BOX = (119.55, 24.85, 119.65, 24.95)

SEED = """
import json, os
from django.contrib.gis.geos import Point
from dispatch.core.events import last_seq
from dispatch.crew.actions import start_shift
from dispatch.roster.actions import roster_now
from dispatch.incidents.actions import create_incident, dispatch_unit
from dispatch.registry.actions import create_hospital, create_unit
from dispatch.units.actions import set_unit_status
from dispatch.models import Role, User
from fleet.models import Unit
name, pw = os.environ["DRILL_DISPATCHER"].split(":")
User.objects.create_user(name, password=pw, role=Role.DISPATCHER)
crews, trackers = [], []
for k in range(int(os.environ["DRILL_CREWS"])):
    unit = create_unit(f"DR-C{k}", "als", position=Point(119.6, 24.9, srid=4326))
    user = User.objects.create_user(f"drill-crew{k}", password=pw, role=Role.CREW)
    roster_now(user, unit)  # rostered first, as every crew (decision 17)
    start_shift(user, unit)
    crews.append({"user": user.username, "unit": unit.pk})
for k in range(int(os.environ["DRILL_TRACKERS"])):
    unit = create_unit(f"DR-T{k}", "bls", tracker_id=f"drill-dev{k}")
    trackers.append({"device": f"drill-dev{k}", "key": unit.tracker_key, "unit": unit.pk})
# A patient on the way to a hospital whose FHIR endpoint is the drill's own HTTP server.
hospital = create_hospital(
    "演练医院", Point(119.62, 24.92, srid=4326), fhir_endpoint=os.environ["DRILL_FHIR_URL"], has_board=False
)
unit = create_unit("DR-N0", "als", position=Point(119.6, 24.9, srid=4326))
medic = User.objects.create_user("drill-medic", password=pw, role=Role.CREW)
roster_now(medic, unit)
start_shift(medic, unit)
dispatcher = User.objects.get(username=name)
incident = create_incident(
    actor=dispatcher, caller_number="+8613900000000", location=Point(119.61, 24.91, srid=4326),
    location_source="pin", address="drill", priority=1, chief_complaint="胸痛",
)
assignment = dispatch_unit(incident, unit, actor=dispatcher, hospital=hospital)
for status in ("en_route", "on_scene", "transporting"):
    set_unit_status(unit, status, actor=medic)
patient = {"user": medic.username, "unit": unit.pk, "assignment": assignment.pk}
seeded = {"crews": crews, "trackers": trackers, "patient": patient, "seq": last_seq()}
print("DRILL_SEED=" + json.dumps(seeded))
"""


MARKS: dict[str, float] = {}  # what happened when (monotonic), for the scenario line


def mark(name: str) -> None:
    MARKS[name] = time.monotonic()


def log(message: str) -> None:
    print(f"drill: {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# HTTP through HAProxy (standard library only)


class Session:
    """A signed-in user: cookies and the CSRF token for unsafe requests."""

    def __init__(self, port: int, timeout: float = ATTEMPT_TIMEOUT_S) -> None:
        self.port = port
        self.timeout = timeout
        self.jar: dict[str, str] = {}

    def remember(self, headers: list[str]) -> None:
        for header in headers:
            cookie = SimpleCookie()
            cookie.load(header)
            self.jar.update({name: morsel.value for name, morsel in cookie.items()})

    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.jar.items())

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        conn = HTTPConnection(HOST, self.port, timeout=self.timeout)
        try:
            base = {"Cookie": self.cookie(), "Origin": f"http://{HOST}:{self.port}"}
            if "csrftoken" in self.jar:
                base["X-CSRFToken"] = self.jar["csrftoken"]
            conn.request(method, path, body=body, headers={**base, **(headers or {})})
            response = conn.getresponse()
            raw = response.read()
            self.remember(response.headers.get_all("Set-Cookie") or [])
        finally:
            conn.close()
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {"raw": raw[:200].decode(errors="replace")}
        return response.status, data if isinstance(data, dict) else {"list": data}

    def sign_in(self, username: str, password: str) -> "Session":
        self.request("GET", "/login/")
        form = urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": self.jar["csrftoken"]}
        )
        status, _ = self.request(
            "POST", "/login/", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 302 or "sessionid" not in self.jar:
            raise RuntimeError(f"sign-in of {username} failed ({status})")
        return self


# ---------------------------------------------------------------------------------------------
# the load: writers that retry each write with its key until it is answered


@dataclass
class Ack:
    kind: str
    at: float  # monotonic time the client got the 2xx
    key: str
    value: Any  # incident id / status / fix (device, ms)
    sent: float  # monotonic time of the first attempt


@dataclass
class Load:
    stop: threading.Event = field(default_factory=threading.Event)
    ends_at: float = field(default_factory=lambda: time.monotonic() + MAX_LOAD_S)
    acks: list[Ack] = field(default_factory=list)
    attempts: int = 0
    retries: int = 0
    failures: list[str] = field(default_factory=list)  # writes given up, answers we did not expect
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ack(self, kind: str, key: str, value: Any, sent: float) -> None:
        with self.lock:
            self.acks.append(Ack(kind, time.monotonic(), key, value, sent))
            if len(self.acks) >= MAX_WRITES or time.monotonic() > self.ends_at:
                self.stop.set()  # bounded: the writers finish the write in hand and stop

    def fail(self, message: str) -> None:
        with self.lock:
            self.failures.append(message)
        log(f"WRITE FAILED: {message}")


def until_answered(load: Load, send: Callable[[], tuple[int, dict[str, Any]]]) -> tuple[int, dict]:
    """Send the same write (same key) until it gets an answer that is not a failover error."""
    deadline = time.monotonic() + GIVE_UP_S
    delay = 0.2
    while True:
        with load.lock:
            load.attempts += 1
        try:
            status, body = send()
            if status < 500:
                return status, body
            problem = f"{status} {str(body)[:120]}"
        except OSError as exc:  # refused, reset, timed out: the request may or may not have run
            problem = f"{type(exc).__name__}: {exc}"
        if time.monotonic() > deadline:
            return 0, {"error": f"gave up after {GIVE_UP_S} s: {problem}"}
        with load.lock:
            load.retries += 1
        time.sleep(delay)
        delay = min(1.0, delay * 1.5)


def incident_writer(load: Load, session: Session, writer: int) -> None:
    k = 0
    while not load.stop.is_set():
        key = f"drill-inc-{writer}-{k}-{uuid.uuid4().hex[:8]}"
        payload = {
            "caller_number": f"+86139{writer:02d}{k:06d}",
            "lon": random.uniform(BOX[0], BOX[2]),
            "lat": random.uniform(BOX[1], BOX[3]),
            "chief_complaint": "drill",
            "notes": f"drill:{key}",
        }
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        sent = time.monotonic()
        status, answer = until_answered(
            load, partial(session.request, "POST", "/api/incidents", body, headers)
        )
        if status == 201 and answer.get("id"):
            load.ack("incident", key, answer["id"], sent)
        else:
            load.fail(f"incident {key}: {status} {str(answer)[:200]}")
        k += 1
        load.stop.wait(0.4)


def crew_writer(load: Load, session: Session, crew: dict[str, Any]) -> None:
    current = "available"
    k = 0
    while not load.stop.is_set():
        wanted = "out_of_service" if current == "available" else "available"
        key = f"drill-st-{crew['unit']}-{k}-{uuid.uuid4().hex[:8]}"
        body = json.dumps({"status": wanted}).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        sent = time.monotonic()
        status, answer = until_answered(
            load, partial(session.request, "POST", "/api/crew/status", body, headers)
        )
        if status == 200 and answer.get("unit", {}).get("status") == wanted:
            load.ack("status", key, wanted, sent)
            current = wanted
        else:
            load.fail(f"status {key} -> {wanted}: {status} {str(answer)[:200]}")
            return  # the unit's state is unknown now; this crew stops
        k += 1
        load.stop.wait(0.5)


def notice_writer(load: Load, session: Session, patient: dict[str, Any]) -> None:
    """A crew on the way to hospital: vital signs, then the pre-arrival notice updated, over and
    over. Each send queues a FHIR delivery that the app nodes' outbox workers make."""
    base = f"/api/crew/assignments/{patient['assignment']}"
    k = 0
    while not load.stop.is_set():
        for kind, path, body in (
            ("vitals", f"{base}/vitals", {"heart_rate": 80 + k % 60, "spo2": 90 + k % 10}),
            ("notice", f"{base}/notice", {}),
        ):
            key = f"drill-{kind}-{k}-{uuid.uuid4().hex[:8]}"
            headers = {"Content-Type": "application/json", "Idempotency-Key": key}
            sent = time.monotonic()
            status, answer = until_answered(
                load, partial(session.request, "POST", path, json.dumps(body).encode(), headers)
            )
            if status in (200, 201):
                value = (answer.get("id"), answer.get("revision")) if kind == "notice" else answer.get("id")
                load.ack(kind, key, value, sent)
            else:
                load.fail(f"{kind} {key}: {status} {str(answer)[:200]}")
                return
        k += 1
        load.stop.wait(1.0)


def tracker_writer(load: Load, port: int, tracker: dict[str, Any], index: int) -> None:
    session = Session(port, TRACKER_TIMEOUT_S)  # trackers carry no session
    lon, lat = 119.6 + index * 0.01, 24.9
    while not load.stop.is_set():
        lon += 0.0001  # about 10 m a fix: a plausible ambulance
        at_ms = int(time.time() * 1000)
        query = urlencode(
            {"id": tracker["key"], "lat": f"{lat:.6f}", "lon": f"{lon:.6f}", "timestamp": at_ms}
        )
        sent = time.monotonic()
        status, answer = until_answered(load, partial(session.request, "GET", f"/api/osmand?{query}"))
        if status == 200 and answer.get("stored"):
            load.ack("fix", f"{tracker['device']}@{at_ms}", (tracker["unit"], at_ms), sent)
        else:
            load.fail(f"fix {tracker['device']}@{at_ms}: {status} {str(answer)[:200]}")
        load.stop.wait(0.5)


# ---------------------------------------------------------------------------------------------
# the hospital: a FHIR endpoint that records every Bundle it is sent, and when


@dataclass
class Delivery:
    identifier: str
    started: float
    ended: float = 0.0
    digest: str = ""  # of the Bundle's bytes: the same row sent twice, or two revisions


@dataclass
class HospitalEndpoint:
    """Plays the receiving hospital's FHIR server (a transaction Bundle in, a
    transaction-response out). It keeps when each delivery started and ended, so two outbox
    workers sending the same row at the same time would show as overlapping deliveries."""

    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: Any = None

    def start(self) -> "HospitalEndpoint":
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                delivery = Delivery("", time.monotonic())
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw or b"{}")
                delivery.identifier = str((body.get("identifier") or {}).get("value", ""))
                delivery.digest = hashlib.sha256(raw).hexdigest()[:12]
                time.sleep(0.05)  # a hospital's server takes a moment: overlaps would show
                answer = json.dumps(
                    {
                        "resourceType": "Bundle",
                        "id": f"drill-{delivery.identifier}",
                        "type": "transaction-response",
                        "entry": [{"response": {"status": "200 OK"}} for _ in body.get("entry", [])],
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
                delivery.ended = time.monotonic()
                with endpoint.lock:
                    endpoint.deliveries.append(delivery)

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{HOST}:{self.server.server_port}/fhir"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def overlapping_pairs(self) -> list[tuple[Delivery, Delivery]]:
        """Deliveries of one Bundle that were in flight at the same time."""
        by_id: dict[str, list[Delivery]] = {}
        for d in self.deliveries:
            by_id.setdefault(d.identifier, []).append(d)
        pairs = []
        for runs in by_id.values():
            runs.sort(key=lambda d: d.started)
            pairs += [(a, b) for a, b in zip(runs, runs[1:], strict=False) if b.started < a.ended]
        return pairs

    def overlapping_detail(self) -> list[dict[str, Any]]:
        """The overlapping deliveries named: the Bundle, when each was in flight (monotonic
        seconds) and whether the bytes were the same (one row sent twice) or not (two rows)."""
        return [
            {
                "identifier": a.identifier,
                "first": [round(a.started, 3), round(a.ended, 3), a.digest],
                "second": [round(b.started, 3), round(b.ended, 3), b.digest],
                "same_bytes": a.digest == b.digest,
            }
            for a, b in self.overlapping_pairs()
        ]


# ---------------------------------------------------------------------------------------------
# consoles: reconnect with backoff, resume from the last sequence number


@dataclass
class Console:
    index: int
    seen: set[int] = field(default_factory=set)
    cursor: int = 0
    connects: int = 0
    last_error: str = ""


async def run_console(console: Console, port: int, session: Session, stop: asyncio.Event) -> None:
    from websockets.asyncio.client import connect

    attempt = 0
    headers = {"Cookie": f"sessionid={session.jar['sessionid']}"}
    while not stop.is_set():
        uri = f"ws://{HOST}:{port}/ws/live/?after={console.cursor}"
        try:
            async with connect(
                uri,
                origin=f"http://{HOST}:{port}",
                additional_headers=headers,
                open_timeout=5,
                close_timeout=1,
                proxy=None,
                max_size=2**22,
            ) as ws:
                console.connects += 1
                attempt = 0
                async for raw in ws:
                    message = json.loads(raw)
                    if message.get("type") in ("event", "events"):  # one, or several close together
                        for event in message.get("events") or [message.get("event")]:
                            console.seen.add(event["seq"])
                            console.cursor = max(console.cursor, event["seq"])
                    elif message.get("type") == "cursor":
                        console.cursor = max(console.cursor, message["seq"])
                    elif message.get("type") == "resync":
                        console.last_error = "resync asked (too far behind)"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001  (closed, refused, 1011 in a Redis failover: reconnect)
            console.last_error = f"{type(exc).__name__}: {exc}"
        # The browser's backoff (live.js) starts at 0.5 s and caps at 10 s; the drill caps at 2 s.
        delay = min(2.0, 0.25 * 2**attempt) * (0.75 + random.random() / 2)
        attempt += 1
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)


class Consoles:
    """The console sockets, on an event loop of their own in a background thread."""

    def __init__(self, port: int, session: Session, after: int, count: int) -> None:
        self.start = after  # events after this number must reach every console
        self.consoles = [Console(k, cursor=after) for k in range(count)]
        self.loop = asyncio.new_event_loop()
        self.stop_event: asyncio.Event | None = None
        self.thread = threading.Thread(target=self.run, args=(port, session), daemon=True)
        self.thread.start()

    def run(self, port: int, session: Session) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            self.stop_event = asyncio.Event()
            await asyncio.gather(*(run_console(c, port, session, self.stop_event) for c in self.consoles))

        self.loop.run_until_complete(main())

    def behind(self, seq: int) -> int:
        return sum(1 for c in self.consoles if c.cursor < seq)

    def close(self) -> None:
        if self.stop_event is not None:
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(timeout=10)


# ---------------------------------------------------------------------------------------------
# readers: which server answered each read


# A read of the app's own tables, as the console's unit list and incident board make, through the
# app's role: a node counts as serving only when it answers this (a primary whose lease lapsed
# refuses it, ops/ha/lease/d120_lease.c), not merely when it says it is not in recovery.
READ_SQL = (
    "SELECT inet_server_port(), pg_is_in_recovery(),"
    " (SELECT count(*) FROM fleet_unit), (SELECT max(id) FROM dispatch_incident)"
)


@dataclass
class Reads:
    """Two readers the way app nodes read (the multi-host read-write URL: one that keeps its
    connection as a pool would, one that connects for every read, as DB_POOL=0 does), and one
    probe per database node on its own address. Each answer is (monotonic time, the port of the
    server that answered, whether it was in recovery). Two nodes answering as primary at the same
    moment is a split brain; a read the app's URL got from the old primary after the new one
    answered as primary is a stale read."""

    topo: Topology
    stop: threading.Event = field(default_factory=threading.Event)
    app: list[tuple[float, int, bool]] = field(default_factory=list)
    nodes: dict[int, list[tuple[float, bool | None]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> "Reads":
        targets: list[tuple[Callable, tuple]] = [
            (self.reader, (True,)),
            (self.reader, (False,)),
            *((self.probe, (node,)) for node in self.topo.pg),
        ]
        for target, args in targets:
            thread = threading.Thread(target=target, args=args, daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def close(self) -> None:
        self.stop.set()

    def reader(self, keep: bool) -> None:
        import psycopg

        conn = None
        while not self.stop.is_set():
            try:
                if conn is None:
                    conn = psycopg.connect(self.topo.database_url(), autocommit=True)
                port, recovering = conn.execute(READ_SQL).fetchone()[:2]
                with self.lock:
                    self.app.append((time.monotonic(), port, recovering))
                if not keep:
                    conn.close()
                    conn = None
            except psycopg.Error:
                if conn is not None:
                    with suppress(Exception):
                        conn.close()
                conn = None
            self.stop.wait(READ_INTERVAL_S)

    def probe(self, node: dict[str, Any]) -> None:
        """One node on its own address: primary (False), standby (True) or no answer (None)."""
        import psycopg

        conn = None
        samples = self.nodes.setdefault(node["pg_port"], [])
        while not self.stop.is_set():
            state: bool | None = None
            try:
                if conn is None:
                    conn = psycopg.connect(self.topo.node_url(node), autocommit=True, connect_timeout=1)
                state = conn.execute(READ_SQL).fetchone()[1]
            except psycopg.Error:
                if conn is not None:
                    with suppress(Exception):
                        conn.close()
                conn = None
            with self.lock:
                samples.append((time.monotonic(), state))
            self.stop.wait(READ_INTERVAL_S)

    def primaries_at(self, moment: float) -> set[int]:
        """Nodes whose last answer before `moment`, at most 0.5 s old, was "primary"."""
        serving = set()
        with self.lock:
            for port, samples in self.nodes.items():
                last = next((s for s in reversed(samples) if s[0] <= moment), None)
                if last and last[1] is False and moment - last[0] <= 0.5:
                    serving.add(port)
        return serving

    def split_brain_s(self, start: float, end: float, step: float = 0.05) -> float:
        moments = [start + k * step for k in range(int((end - start) / step))]
        return round(step * sum(1 for m in moments if len(self.primaries_at(m)) > 1), 2)

    def took_over(self, old_port: int, start: float, end: float) -> float | None:
        """When another node first answered as primary after `start`."""
        with self.lock:
            firsts = [
                next((t for t, state in samples if start < t <= end and state is False), None)
                for port, samples in self.nodes.items()
                if port != old_port
            ]
        found = [t for t in firsts if t is not None]
        return min(found) if found else None

    def stale(self, old_port: int, after: float, end: float) -> int:
        with self.lock:
            return sum(1 for t, port, rec in self.app if after < t <= end and port == old_port and not rec)


# ---------------------------------------------------------------------------------------------
# the database, read through the current primary


def missing_detail(topo: Topology, consoles: Consoles, all_seqs: set[int]) -> list[dict[str, Any]]:
    """The events some console never got (at most 20), to tell a lost doorbell from a number the
    table gave twice: each event's number, kind and commit time, which consoles missed it, and
    the highest number each of them had at the end and its last connection error."""
    missed: dict[int, list[int]] = {}
    for c in consoles.consoles:
        for seq in all_seqs - c.seen:
            missed.setdefault(seq, []).append(c.index)
    seqs = sorted(missed)[:20]
    rows = primary_query(topo, "SELECT seq, kind, at FROM dispatch_event WHERE seq = ANY(%s)", (seqs,))
    return [
        {
            "seq": seq,
            "kind": kind,
            "at": at.isoformat(),
            "consoles": missed[seq],
            "their_cursors": [consoles.consoles[k].cursor for k in missed[seq]],
            "their_last_errors": [consoles.consoles[k].last_error[:120] for k in missed[seq]],
        }
        for seq, kind, at in sorted(rows)
    ]


def primary_query(topo: Topology, sql: str, params: tuple = ()) -> list[tuple]:
    import psycopg

    with psycopg.connect(topo.database_url(), connect_timeout=3) as conn:
        return conn.execute(sql, params).fetchall()


def db_last_seq(topo: Topology) -> int:
    return primary_query(topo, "SELECT coalesce(max(seq), 0) FROM dispatch_event")[0][0]


def seed(topo: Topology, fhir_url: str) -> dict[str, Any]:
    env = {
        **os.environ,
        **topo.app_env(),
        "DRILL_FHIR_URL": fhir_url,
        "DRILL_DISPATCHER": ":".join(DISPATCHER),
        "DRILL_CREWS": str(CREWS),
        "DRILL_TRACKERS": str(TRACKERS),
    }
    done = subprocess.run(
        [str(cluster.APP_PYTHON), "manage.py", "shell", "-c", SEED],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("DRILL_SEED=")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"seeding failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix("DRILL_SEED="))


# ---------------------------------------------------------------------------------------------
# scenarios


def pg_node(topo: Topology, name: str) -> dict[str, Any]:
    return next(n for n in topo.pg if n["name"] == name)


def etcd_of(topo: Topology, node: dict[str, Any]) -> dict[str, Any]:
    """pgN shares a machine with etcdN."""
    return topo.etcd[topo.pg.index(node)]


def watch_of(topo: Topology, node: dict[str, Any]) -> dict[str, Any]:
    """pgN's machine also runs watchN (ops/ha/leader_watch.py)."""
    return topo.watches[topo.pg.index(node)]


def kill_db_node(topo: Topology, node: dict[str, Any], with_etcd: bool) -> list[str]:
    """Everything on the node's machine dies at once."""
    watch = watch_of(topo, node)
    cluster.signal_pid(topo.pids[node["name"]], signal.SIGKILL)
    postmaster = cluster.signal_postgres(topo, node, signal.SIGKILL)
    cluster.signal_pid(topo.pids[watch["name"]], signal.SIGKILL)
    killed = [
        f"{node['name']} patroni {topo.pids[node['name']]}",
        f"postmaster {postmaster}",
        f"{watch['name']} {topo.pids[watch['name']]}",
    ]
    if with_etcd:
        member = etcd_of(topo, node)
        cluster.signal_pid(topo.pids[member["name"]], signal.SIGKILL)
        killed.append(f"{member['name']} {topo.pids[member['name']]}")
    cluster.wait_gone(topo.pids[node["name"]], 5)
    return killed


def restart_db_node(topo: Topology, node: dict[str, Any], with_etcd: bool) -> None:
    if with_etcd:
        cluster.restart(topo, etcd_of(topo, node)["name"])
    # The postmaster's children may outlive it by a moment; a new one needs them gone.
    cluster.wait_for("old postmaster gone", lambda: cluster.postmaster_pid(topo, node) is None, 15)
    cluster.restart(topo, node["name"])
    cluster.restart(topo, watch_of(topo, node)["name"])


def scenario_db_primary_kill(topo: Topology) -> str:
    node = cluster.leader(topo)
    # Whether etcd loses its own leader too: a new one restarts every lease's countdown.
    etcd_leader = cluster.etcd_leader(topo)
    killed = kill_db_node(topo, node, with_etcd=True)
    new = cluster.wait_for(
        "a new leader", lambda: (lead := cluster.leader(topo)) and lead is not node and lead, 90
    )
    mark("promoted")
    restart_db_node(topo, node, with_etcd=True)
    return (
        f"killed {', '.join(killed)} (etcd's leader was {etcd_leader}); {new['name']} promoted; "
        f"{node['name']} restarted"
    )


def scenario_db_sync_standby_kill(topo: Topology) -> str:
    node = cluster.sync_standby(topo)
    killed = kill_db_node(topo, node, with_etcd=False)
    other = cluster.wait_for(
        "another sync standby", lambda: (s := cluster.sync_standby(topo)) and s is not node and s, 60
    )
    restart_db_node(topo, node, with_etcd=False)
    return f"killed {', '.join(killed)}; {other['name']} became sync standby; {node['name']} restarted"


def scenario_db_primary_freeze(topo: Topology) -> str:
    node = cluster.leader(topo)
    patroni = topo.pids[node["name"]]
    watch = topo.pids[watch_of(topo, node)["name"]]
    cluster.signal_pid(patroni, signal.SIGSTOP)
    postmaster = cluster.signal_postgres(topo, node, signal.SIGSTOP)
    cluster.signal_pid(watch, signal.SIGSTOP)  # the whole machine hangs
    frozen_at = time.monotonic()
    try:
        new = cluster.wait_for(
            "a new leader", lambda: (lead := cluster.leader(topo)) and lead is not node and lead, 90
        )
        mark("promoted")
        time.sleep(2)  # past the leader watch's verdict, and a little after the promotion
    finally:
        cluster.signal_postgres(topo, node, signal.SIGCONT)
        cluster.signal_pid(patroni, signal.SIGCONT)
        cluster.signal_pid(watch, signal.SIGCONT)
    held = time.monotonic() - frozen_at
    frozen = f"froze {node['name']} (patroni {patroni}, postmaster {postmaster} and its children, its watch)"
    return f"{frozen} {held:.0f} s; {new['name']} promoted"


def scenario_db_primary_hung(topo: Topology) -> str:
    """The primary's machine hangs for good (Patroni, PostgreSQL, its watch: SIGSTOP, never
    resumed). Its kernel still accepts connections, so clients see silence, not refusal. After
    the failover and HOLD_AFTER_PROMOTION_S more, the machine is "rebooted": killed, restarted."""
    node = cluster.leader(topo)
    patroni = topo.pids[node["name"]]
    watch = topo.pids[watch_of(topo, node)["name"]]
    cluster.signal_pid(patroni, signal.SIGSTOP)
    postmaster = cluster.signal_postgres(topo, node, signal.SIGSTOP)
    cluster.signal_pid(watch, signal.SIGSTOP)
    try:
        new = cluster.wait_for(
            "a new leader", lambda: (lead := cluster.leader(topo)) and lead is not node and lead, 90
        )
        mark("promoted")
        time.sleep(HOLD_AFTER_PROMOTION_S)
    finally:
        kill_db_node(topo, node, with_etcd=False)  # SIGKILL reaches stopped processes too
    restart_db_node(topo, node, with_etcd=False)
    return (
        f"hung {node['name']} (patroni {patroni}, postmaster {postmaster} and its children, its watch) "
        f"for good; {new['name']} promoted; killed and restarted {HOLD_AFTER_PROMOTION_S} s later"
    )


NFT_TABLE = f"d120drill_{os.getpid()}"


def partition_rules(topo: Topology, cut: int) -> str:
    """nftables rules that cut database machine `cut` off from the two other database machines
    and nothing else: a packet is dropped when it leaves a socket of one machine's cgroup and
    arrives at a socket of the other's (each machine's etcd member, Patroni, PostgreSQL and watch
    run in its own cgroup, cluster.machine_cgroup). App nodes, HAProxy and the drill's own readers
    are in no machine's cgroup: they still reach the cut-off primary, the dangerous case."""
    parent = cluster.machines_cgroup(topo)
    root = cluster.cgroup2_root()
    assert parent is not None and root is not None
    relative = parent.relative_to(root)
    groups = {k: f'"{relative}/{node["name"]}"' for k, node in enumerate(topo.pg)}
    marks = {k: 0xD1200 + k for k in groups}
    tag = [f"socket cgroupv2 level 2 {g} meta mark set {marks[k]:#x}" for k, g in groups.items()]
    drop = []
    for other in groups:
        if other != cut:
            drop.append(f"meta mark {marks[cut]:#x} socket cgroupv2 level 2 {groups[other]} drop")
            drop.append(f"meta mark {marks[other]:#x} socket cgroupv2 level 2 {groups[cut]} drop")
    return (
        f"table inet {NFT_TABLE} {{\n"
        "  chain out { type filter hook output priority 0; policy accept;\n    "
        + "\n    ".join(tag)
        + "\n  }\n  chain in { type filter hook input priority 0; policy accept;\n    "
        + "\n    ".join(drop)
        + "\n  }\n}\n"
    )


def nft(topo: Topology, rules: str, check_only: bool = False) -> None:
    """nft names cgroups by their path under /sys/fs/cgroup: where cgroup v2 is mounted elsewhere
    (Debian's hybrid layout: /sys/fs/cgroup/unified) it is mounted there for nft alone, in a
    mount namespace of its own that ends with it."""
    path = topo.path / "partition.nft"
    path.write_text(rules)
    flag = "-c" if check_only else ""  # -c: parse and check only, change nothing
    script = f'mount -t cgroup2 none /sys/fs/cgroup && exec nft {flag} -f "$0"'
    subprocess.run(
        ["unshare", "-m", "sh", "-c", script, str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    )


def heal_partition() -> None:
    """Delete the drill's own table (nothing else): idempotent, also at exit."""
    if os.getuid() == 0 and cluster.shutil.which("nft"):
        subprocess.run(["nft", "delete", "table", "inet", NFT_TABLE], capture_output=True, timeout=30)


def partition_possible(topo: Topology) -> str | None:
    """Why the partition cannot run here, or None."""
    if os.getuid() != 0:
        return "not root"
    for tool in ("nft", "unshare"):
        if not cluster.shutil.which(tool):
            return f"no {tool} (Debian's nftables, util-linux)"
    parent = cluster.machines_cgroup(topo)
    if parent is None or not any((parent / n["name"] / "cgroup.procs").exists() for n in topo.pg):
        return "no writable cgroup v2 for the database machines"
    try:
        nft(topo, partition_rules(topo, 0), check_only=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        return f"nftables refused the rules: {getattr(exc, 'stderr', b'')!r:.200}"
    return None


def other_leader(topo: Topology, node: dict[str, Any]) -> dict[str, Any] | None:
    """The leader as the *other* nodes' Patroni reports it (the cut-off one may still believe it
    leads)."""
    for other in topo.pg:
        if other is node:
            continue
        status, body = cluster.http_json(f"http://{HOST}:{other['api_port']}/cluster")
        if status == 200 and body:
            name = next(
                (
                    m["name"]
                    for m in body.get("members", [])
                    if m["role"] == "leader" and m["state"] == "running"
                ),
                None,
            )
            if name and name != node["name"]:
                return next(n for n in topo.pg if n["name"] == name)
    return None


def scenario_db_primary_partition(topo: Topology) -> str:
    """The primary's machine loses the network to the other database machines (packets dropped,
    nothing refused), while app nodes still reach it: its watch must fence its PostgreSQL before
    the others revoke its lease. Healed HOLD_AFTER_PROMOTION_S after the promotion."""
    node = cluster.leader(topo)
    cut = topo.pg.index(node)
    nft(topo, partition_rules(topo, cut))
    try:
        new = cluster.wait_for("a new leader", lambda: other_leader(topo, node), 90)
        mark("promoted")
        time.sleep(HOLD_AFTER_PROMOTION_S)
    finally:
        heal_partition()
    fenced = [line for line in watch_log(topo, node) if "fenced" in line]
    return (
        f"cut {node['name']}'s machine off (etcd, Patroni, PostgreSQL, watch); {new['name']} promoted; "
        f"its watch fenced it {len(fenced)} time(s); healed {HOLD_AFTER_PROMOTION_S} s later"
    )


def watch_log(topo: Topology, node: dict[str, Any]) -> list[str]:
    path = topo.path / "logs" / f"{watch_of(topo, node)['name']}.log"
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    seen = LOG_SEEN.get(node["name"], 0)
    LOG_SEEN[node["name"]] = len(lines)
    return lines[seen:]


LOG_SEEN: dict[str, int] = {}  # watch log lines already read, per node


def scenario_redis_master_kill(topo: Topology) -> str:
    port = cluster.redis_master_port(topo)
    node = next(n for n in topo.redis if n["port"] == port)
    cluster.signal_pid(topo.pids[node["name"]], signal.SIGKILL)
    cluster.wait_gone(topo.pids[node["name"]], 5)
    new = cluster.wait_for(
        "a new Redis master", lambda: (p := cluster.redis_master_port(topo)) != port and p, 60
    )
    cluster.restart(topo, node["name"])
    return f"killed {node['name']} (port {port}); the Sentinels promoted port {new}; {node['name']} restarted"


def app_node_pids(topo: Topology, node: dict[str, Any]) -> list[int]:
    """daphne and the background loops: the whole app machine."""
    return [topo.pids[node["name"]], topo.pids[cluster.workers_of(node)]]


def scenario_app_node_kill(topo: Topology) -> str:
    node = topo.apps[0]
    pids = app_node_pids(topo, node)
    for pid in pids:
        cluster.signal_pid(pid, signal.SIGKILL)
    for pid in pids:
        cluster.wait_gone(pid, 5)
    time.sleep(3)
    cluster.restart(topo, node["name"])
    return f"killed {node['name']} (daphne and workers); restarted after 3 s"


def scenario_app_node_freeze(topo: Topology) -> str:
    node = topo.apps[-1]
    pids = app_node_pids(topo, node)
    for pid in pids:
        cluster.signal_pid(pid, signal.SIGSTOP)
    time.sleep(FREEZE_APP_S)
    for pid in pids:
        cluster.signal_pid(pid, signal.SIGCONT)
    return f"froze {node['name']} (daphne and workers) for {FREEZE_APP_S} s"


SCENARIOS: list[tuple[int, str, Callable[[Topology], str]]] = [
    (1, "db_primary_kill", scenario_db_primary_kill),
    (2, "db_sync_standby_kill", scenario_db_sync_standby_kill),
    (3, "db_primary_freeze", scenario_db_primary_freeze),
    (4, "redis_master_kill", scenario_redis_master_kill),
    (5, "app_node_kill", scenario_app_node_kill),
    (5, "app_node_freeze", scenario_app_node_freeze),
    (6, "db_primary_partition", scenario_db_primary_partition),
    (7, "db_primary_hung", scenario_db_primary_hung),
]
# Repeated DRILL_REPEATS times: the failures of the primary.
REPEATED = {1, 3, 6, 7}


def max_gap(acks: list[Ack], start: float, end: float) -> float:
    """The longest stretch in [start, end] without any acknowledged write."""
    times = sorted(a.at for a in acks if start < a.at <= end)
    points = [start, *times]
    if not times:
        return round(end - start, 1)
    return round(max(b - a for a, b in zip(points, points[1:], strict=False)), 1)


def console_lag(topo: Topology, consoles: Consoles, seconds: float = 30, target: int | None = None) -> float:
    """From now until every console has every event committed by now (or numbered up to `target`)."""
    started = time.monotonic()
    target = db_last_seq(topo) if target is None else target
    cluster.wait_for("consoles caught up", lambda: consoles.behind(target) == 0, seconds, interval=0.05)
    return round(time.monotonic() - started, 2)


def run_scenario(
    topo: Topology, load: Load, consoles: Consoles, reads: Reads, name: str, act: Callable[[Topology], str]
) -> dict:
    cluster.wait_healthy(topo, 120)
    time.sleep(2)  # a steady load before the fault
    MARKS.clear()
    old_port = (cluster.leader(topo) or {}).get("pg_port", 0)
    started = time.monotonic()
    what = act(topo)
    # A frozen primary, once resumed, sometimes takes about a minute to shut down before it
    # rewinds (its postmaster outlives SIGKILLed children by ~55 s; cause not pinned down):
    # 32 to 106 s to healthy observed.
    cluster.wait_healthy(topo, 180)
    healthy = time.monotonic()
    try:
        lag = console_lag(topo, consoles)
    except RuntimeError:
        lag = -1.0
    time.sleep(1)
    ended = time.monotonic()
    gap = max_gap(load.acks, started, ended)
    latency = max((a.at - a.sent for a in load.acks if started < a.at <= ended), default=0.0)
    resumed = next(
        (a.at for a in sorted(load.acks, key=lambda a: a.at) if a.at > MARKS.get("promoted", 1e18)), None
    )
    if "promoted" in MARKS:
        what += f"; promoted {MARKS['promoted'] - started:.1f} s after the fault"
        if resumed:
            what += f", first write after it acked {resumed - started:.1f} s after the fault"
    # Who answered as primary: the new one from when it first did; the old one after that is stale.
    took_over = reads.took_over(old_port, started, ended)
    stale = reads.stale(old_port, took_over, ended) if took_over else 0
    if took_over:
        what += f"; the new primary answered {took_over - started:.1f} s after the fault"
    return {
        "name": name,
        "what": what,
        "gap": gap,
        "latency": round(latency, 1),
        "healthy_after": round(healthy - started, 1),
        "lag": lag,
        "split_brain_s": reads.split_brain_s(started, ended),
        "stale_reads": stale,
    }


# ---------------------------------------------------------------------------------------------
# verification against the final database


def verify(
    topo: Topology, load: Load, consoles: Consoles, seeded: dict[str, Any], checked_upto: int | None = None
) -> dict[str, Any]:
    """Every acknowledged write there once, and every event after the consoles' start (up to
    `checked_upto`, when given) on every console. The restore and site drills call it too, with
    no consoles."""
    kinds = ("incident", "status", "fix", "vitals", "notice")
    acks = {kind: [a for a in load.acks if a.kind == kind] for kind in kinds}
    lost = 0
    dups: dict[str, int] = {}
    # Incidents: every acknowledged id is there, and no request made two.
    rows = primary_query(topo, "SELECT id, notes FROM dispatch_incident WHERE notes LIKE 'drill:%%'")
    ids = {r[0] for r in rows}
    lost += sum(1 for a in acks["incident"] if a.value not in ids)
    per_key: dict[str, int] = {}
    for _, notes in rows:
        per_key[notes] = per_key.get(notes, 0) + 1
    dups["incident"] = sum(n - 1 for n in per_key.values() if n > 1)
    # Status changes: each acknowledged key is stored as applied; events = applied changes.
    keys = [a.key for a in acks["status"]]
    stored = dict(
        primary_query(
            topo, "SELECT key, status_code FROM dispatch_idempotencykey WHERE key = ANY(%s)", (keys,)
        )
    )
    lost += sum(1 for k in keys if stored.get(k) != 200)
    units = [c["unit"] for c in seeded["crews"]]
    events = primary_query(
        topo,
        "SELECT count(*) FROM dispatch_event WHERE kind = 'unit.status' AND unit_id = ANY(%s) AND seq > %s",
        (units, seeded["seq"]),
    )[0][0]
    applied = primary_query(
        topo,
        "SELECT count(*) FROM dispatch_idempotencykey WHERE key LIKE 'drill-st-%%' AND status_code = 200",
    )[0][0]
    dups["status"] = max(0, events - applied)
    # GPS fixes: each acknowledged (unit, time) is stored exactly once.
    fixes = primary_query(
        topo,
        "SELECT unit_id, (extract(epoch FROM at) * 1000)::bigint, count(*) FROM fleet_positionreport "
        "WHERE unit_id = ANY(%s) GROUP BY 1, 2",
        ([t["unit"] for t in seeded["trackers"]],),
    )
    stored_fixes = {(u, ms): n for u, ms, n in fixes}
    lost += sum(1 for a in acks["fix"] if stored_fixes.get(tuple(a.value), 0) == 0)
    dups["fix"] = sum(n - 1 for n in stored_fixes.values() if n > 1)
    # Vital signs: each acknowledged key applied, and one row per applied key.
    vitals_keys = [a.key for a in acks["vitals"]]
    applied_vitals = dict(
        primary_query(
            topo, "SELECT key, status_code FROM dispatch_idempotencykey WHERE key = ANY(%s)", (vitals_keys,)
        )
    )
    lost += sum(1 for k in vitals_keys if applied_vitals.get(k) not in (200, 201))
    vitals_rows = primary_query(
        topo,
        "SELECT count(*) FROM dispatch_vitalsign WHERE assignment_id = %s",
        (seeded["patient"]["assignment"],),
    )[0][0]
    vitals_applied = primary_query(
        topo,
        "SELECT count(*) FROM dispatch_idempotencykey "
        "WHERE key LIKE 'drill-vitals-%%' AND status_code IN (200, 201)",
    )[0][0]
    dups["vitals"] = max(0, vitals_rows - vitals_applied)
    # Consoles: every event after the start, up to the number they were given time to reach,
    # reached every console, except the audit trail (sign-ins and admin edits, kinds "audit.*"),
    # which only administrators receive.
    all_seqs = {
        r[0]
        for r in primary_query(
            topo,
            "SELECT seq FROM dispatch_event"
            " WHERE seq > %s AND seq <= coalesce(%s, seq) AND kind NOT LIKE 'audit.%%'",
            (consoles.start, checked_upto),
        )
    }
    missing = sum(len(all_seqs - c.seen) for c in consoles.consoles)
    return {
        "missing_console_detail": missing_detail(topo, consoles, all_seqs) if missing else [],
        "acked_writes": len(load.acks),
        "acked_incidents": len(acks["incident"]),
        "acked_status_changes": len(acks["status"]),
        "acked_gps_fixes": len(acks["fix"]),
        "acked_vitals": len(acks["vitals"]),
        "acked_notice_sends": len(acks["notice"]),
        "lost_acked_writes": lost,
        "duplicates": sum(dups.values()),
        "duplicates_by_kind": dups,
        "missing_console_events": missing,
        "console_reconnects": sum(c.connects for c in consoles.consoles) - len(consoles.consoles),
        "console_events": len(all_seqs),
    }


def verify_deliveries(topo: Topology, hospital: HospitalEndpoint, seeded: dict[str, Any]) -> dict[str, Any]:
    """After the load: the outbox drains (a row whose worker died or whose outcome could not be
    recorded is sent again once its lease runs out), the notice's latest revision reached the
    hospital, and no Bundle was ever being sent by two workers at once."""
    waiting_sql = (
        "SELECT count(*) FROM dispatch_outbox WHERE channel = 'fhir' AND status IN ('pending', 'sending')"
    )
    try:
        cluster.wait_for(
            "the FHIR outbox drained",
            lambda: primary_query(topo, waiting_sql)[0][0] == 0,
            OUTBOX_DRAIN_S,
            0.5,
        )
    except RuntimeError as exc:
        log(str(exc))
    by_status = dict(
        primary_query(topo, "SELECT status, count(*) FROM dispatch_outbox WHERE channel = 'fhir' GROUP BY 1")
    )
    notice = primary_query(
        topo,
        "SELECT id, revision FROM dispatch_prearrivalnotice WHERE assignment_id = %s",
        (seeded["patient"]["assignment"],),
    )
    received: dict[str, int] = {}
    for d in hospital.deliveries:
        received[d.identifier] = received.get(d.identifier, 0) + 1
    latest_missing = 0
    if notice:
        latest_missing = int(received.get(f"{notice[0][0]}-{notice[0][1]}", 0) == 0)
    not_sent = sum(n for status, n in by_status.items() if status != "sent")
    concurrent = hospital.overlapping_detail()
    return {
        "fhir_queued": sum(by_status.values()),
        "fhir_bundles_received": len(hospital.deliveries),
        "fhir_distinct_bundles": len(received),
        # Sent again after a lost outcome: the same Bundle identifier, which the hospital's
        # conditional updates absorb (at-least-once delivery, dispatch/core/outbox.py).
        "fhir_resent": sum(n - 1 for n in received.values() if n > 1),
        "fhir_concurrent_sends": len(concurrent),
        "fhir_concurrent_detail": concurrent,
        "fhir_undelivered": not_sent + latest_missing,
    }


def verify_notice_sends(topo: Topology, hospital: HospitalEndpoint, load: Load) -> dict[str, int]:
    """Every acknowledged pre-arrival notice send (its notice and revision) reached the hospital
    exactly once, or its outbox row is recorded as sent (a revision overtaken by a newer queued
    one is not sent: the newer Bundle carries it, dispatch/handoff/delivery.py)."""
    received: dict[str, int] = {}
    for d in hospital.deliveries:
        received[d.identifier] = received.get(d.identifier, 0) + 1
    rows = primary_query(
        topo,
        "SELECT (payload->>'notice')::int, (payload->>'revision')::int, status FROM dispatch_outbox "
        "WHERE channel = 'fhir' AND payload ? 'revision'",
    )
    status = {(n, r): st for n, r, st in rows}
    sends = [a.value for a in load.acks if a.kind == "notice"]
    once = sum(1 for n, r in sends if received.get(f"{n}-{r}", 0) == 1)
    twice = sum(1 for n, r in sends if received.get(f"{n}-{r}", 0) > 1)
    recorded = sum(1 for n, r in sends if not received.get(f"{n}-{r}") and status.get((n, r)) == "sent")
    return {
        "notice_sends_acked": len(sends),
        "notice_sends_received_once": once,
        "notice_sends_received_again": twice,
        "notice_sends_recorded_sent": recorded,
        "notice_sends_missing": len(sends) - once - twice - recorded,
    }


# ---------------------------------------------------------------------------------------------
# the run


def start_load(topo: Topology, seeded: dict[str, Any]) -> tuple[Load, list[threading.Thread]]:
    port = topo.haproxy_port
    load = Load()
    dispatcher = Session(port).sign_in(*DISPATCHER)
    threads = [
        threading.Thread(target=incident_writer, args=(load, dispatcher, w)) for w in range(INCIDENT_WRITERS)
    ]
    for crew in seeded["crews"]:
        session = Session(port).sign_in(crew["user"], DISPATCHER[1])
        threads.append(threading.Thread(target=crew_writer, args=(load, session, crew)))
    for k, tracker in enumerate(seeded["trackers"]):
        threads.append(threading.Thread(target=tracker_writer, args=(load, port, tracker, k)))
    medic = Session(port).sign_in(seeded["patient"]["user"], DISPATCHER[1])
    threads.append(threading.Thread(target=notice_writer, args=(load, medic, seeded["patient"])))
    for thread in threads:
        thread.daemon = True
        thread.start()
    return load, threads


def drill(topo: Topology, only: set[int] | None) -> dict[str, Any]:
    hospital = HospitalEndpoint().start()
    seeded = seed(topo, hospital.url)
    log(f"seeded: {len(seeded['crews'])} crews, {len(seeded['trackers'])} trackers, up to {seeded['seq']}")
    viewer = Session(topo.haproxy_port).sign_in(*DISPATCHER)
    after = db_last_seq(topo)
    consoles = Consoles(topo.haproxy_port, viewer, after, CONSOLES)
    reads = Reads(topo).start()
    load, threads = start_load(topo, seeded)
    results = []
    skipped = {}
    if why := partition_possible(topo):
        skipped["db_primary_partition"] = why
        log(f"no partition scenario here: {why}")
    plan = [(n, name, act) for n, name, act in SCENARIOS if not only or n in only]
    plan += [(n, name, act) for _ in range(REPEATS - 1) for n, name, act in plan if n in REPEATED]
    try:
        cluster.wait_for("consoles connected", lambda: all(c.connects for c in consoles.consoles), 30)
        log(f"{CONSOLES} consoles connected; load running")
        for number, name, act in plan:
            if name in skipped:
                continue
            log(f"scenario {number} {name}: start")
            result = run_scenario(topo, load, consoles, reads, name, act)
            results.append(result)
            print(
                f"scenario {number} {name}: ok, max_write_gap_s={result['gap']}, slowest write "
                f"{result['latency']} s, healthy after "
                f"{result['healthy_after']} s, consoles complete {result['lag']} s later, "
                f"split brain {result['split_brain_s']} s, {result['stale_reads']} stale reads; "
                f"{result['what']}",
                flush=True,
            )
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(timeout=GIVE_UP_S + 5)
        reads.close()
    deliveries = verify_deliveries(topo, hospital, seeded)  # waits for the outbox to drain
    # The consoles are checked for every event numbered up to here. The app's loops go on
    # recording events (an outbox delivery, an alarm) while the consoles catch up and close;
    # those come after this number and are not counted as missed by consoles already closed.
    checked_upto = db_last_seq(topo)
    try:
        lag = console_lag(topo, consoles, 20, checked_upto)
    except RuntimeError:
        lag = -1
    log(f"load stopped, outbox drained; consoles caught up in {lag} s")
    consoles.close()
    counts = verify(topo, load, consoles, seeded, checked_upto)
    notices = verify_notice_sends(topo, hospital, load)
    hospital.stop()

    def per(key: str, pick: Callable[[list], Any]) -> dict[str, Any]:
        names = dict.fromkeys(r["name"] for r in results)
        return {n: pick([r[key] for r in results if r["name"] == n]) for n in names}

    return {
        "scenarios": len(results),
        **counts,
        **deliveries,
        **notices,
        "split_brain_s": per("split_brain_s", max),
        "stale_reads_after_promotion": per("stale_reads", sum),
        "reads": len(reads.app),
        "max_write_gap_s": per("gap", max),
        "write_gaps_s": per("gap", list),  # every repeat of every scenario
        "max_write_latency_s": per("latency", max),
        "console_lag_s": per("lag", max),
        "repeats": REPEATS,
        # The primary's lease checked by PostgreSQL (ops/ha/lease/d120_lease.c); 0: off.
        "primary_lease_s": cluster.LEASE_S if topo.lease_module else 0,
        "skipped": skipped,
        "write_attempts": load.attempts,
        "write_retries": load.retries,
        "write_failures": len(load.failures),
        "patroni": {
            "ttl": cluster.TTL,
            "loop_wait": cluster.LOOP_WAIT,
            "retry_timeout": cluster.RETRY_TIMEOUT,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, data)")
    parser.add_argument("--only", help="scenario numbers to run, e.g. 1,4")
    parser.add_argument("--apps", type=int, default=2, help="daphne app nodes (default 2)")
    args = parser.parse_args()
    only = {int(n) for n in args.only.split(",")} if args.only else None
    # SIGTERM ends like Ctrl-C: through the finally block that stops every process by its pid.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("drill: terminated"))
    signal.signal(signal.SIGALRM, lambda *_: sys.exit(f"drill: over {DRILL_LIMIT_S} s, stopped"))
    signal.alarm(DRILL_LIMIT_S)
    cluster.MACHINE_CGROUPS = True  # each database machine in a cgroup: the partition scenario
    directory = Path(cluster.tempfile.mkdtemp(prefix="d120-drill-"))
    started = time.monotonic()
    ok = False
    topo = None
    try:
        log(f"starting the topology in {directory}")
        topo = cluster.start(directory, args.apps)
        log(
            f"topology healthy in {time.monotonic() - started:.0f} s; front http://{HOST}:{topo.haproxy_port}/"
        )
        result = drill(topo, only)
        result["duration_s"] = round(time.monotonic() - started, 1)
        ok = (
            result["lost_acked_writes"] == 0
            and result["duplicates"] == 0
            and result["missing_console_events"] == 0
        )
        ok = ok and result["write_failures"] == 0
        ok = ok and result["fhir_undelivered"] == 0 and result["fhir_concurrent_sends"] == 0
        ok = ok and result["notice_sends_missing"] == 0
        print(json.dumps(result), flush=True)
    finally:
        signal.alarm(0)  # the clean-up itself must not be cut short
        heal_partition()  # the drill's own nftables table, if a partition was still on
        if topo is None and (directory / "topology.json").exists():
            topo = Topology.load(directory)
        if topo is not None:
            log(f"stopped: {', '.join(cluster.stop(topo))}")
        if ok and not args.keep:
            cluster.shutil.rmtree(directory, ignore_errors=True)
        else:
            log(f"kept {directory} (logs in {directory}/logs)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
