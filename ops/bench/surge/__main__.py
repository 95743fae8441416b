"""Benchmark: the worst hour, everything at once, on this one machine, against a real daphne.

Run as `cd /work/main && . var/env && .venv/bin/python ops/bench/surge [--units 1000] [--rate 10]
[--seconds 60]` (short: `--seconds 20 --rate 1 --units 200`), the capacity search with
`--search [--rates 1,2,3,4,6,8,10,12,15,20] [--step-seconds 40]` (it stops at the first rate
that fails), two app nodes behind HAProxy with `--apps 2`. `make bench-surge` runs the search at
1,000 and 5,000 units, one and two nodes.

All at once, against one daphne (or two behind HAProxy, its configuration rendered from
ops/ha/templates/haproxy.cfg by ops/ha/cluster.py):
- calls as signed Twilio voice webhooks at --rate a second, taken, located, triaged, given their
  recommendation and dispatched through the API as the console does by --dispatchers concurrent
  dispatcher clients (ops/bench/surge/actors.py, a process of its own);
- each dispatched unit's crew reading, acknowledging and tapping its statuses through the tablet
  API with idempotency keys (the same process);
- positions from every unit every --interval seconds through the OsmAnd endpoint
  (ops/bench/surge/trackers.py, a process of its own);
- --consoles dispatcher consoles, --boards ER boards and --tablets crew tablets on /ws/live/ (this
  process; the consoles ask for incident rows, as the console page does), and an admin loading
  the year report once a minute.

Set-up and clean-up, all by itself, even on failure or Ctrl-C: a database of its own
(bench_surge_<pid>: migrated, the demo city 明湾市 by make_demo_city, units added up to --units on
the city's places with crews on shift, sessions made directly; dropped at the end), daphne on free
loopback ports with its own CHANNEL_PREFIX and a Twilio token of its own (stopped by pid; Redis keys
deleted).

Progress goes to stderr; each step prints a JSON line; the LAST line on stdout is one JSON object:
concurrency used; per action p50/p99 in ms (take, locate, triage, recommendation, dispatch,
crew_tap, webhook, event = an event's commit to the LAST console having it, position_age = a fix's
due time to a console having it or a later fix of that unit, with p95, and its parts: fix_sent_late
= due to sent, osmand = the request, position_stored_to_shown = answered to shown); errors;
events_lost (console, event) pairs never delivered; fixes_lost (sent, not stored) and fixes_unseen
(stored fixes a sampled console never had); row = an event about an incident (but a crew's tap) to
the LAST console having a row of the incident that shows it, rows_late (console, event) pairs with
none within 3 s (each a read the real console would make itself and this bench does not) and
rows_unseen with none; every never-arrived one counts as infinitely late, so its percentile is
null. Percentiles are nearest-rank (ops/bench/stats.py). load_avg is /proc/loadavg at the end of
the step: the machine may be shared, read it beside the figures.
A step passes when recommendation p99 <= 50 ms, event p99 <= 250 ms, position age p95 <= 1,500 ms,
no error, nothing lost and no console's row late; the capacity is the largest --rates step that
passed (steps go up and stop at the first that fails).
"""

import argparse
import asyncio
import bisect
import json
import math
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE.parent))  # ops/bench: stats.py
sys.path.insert(0, str(ROOT / "ops" / "ha"))  # cluster.py: daphne's command line, HAProxy's config

import cluster  # noqa: E402
from actors import CSRF  # noqa: E402  (this folder: the clients' process, its HTTP client)
from client import HttpError, Pool, Session  # noqa: E402
from stats import INF, ms, percentile  # noqa: E402

PYTHON = ROOT / ".venv" / "bin" / "python"
HOST = "127.0.0.1"
TOKEN = "surge-bench-twilio-token-0123456789"
ACCOUNT = "AC" + "5" * 32
GOALS = {"recommendation_p99_ms": 50.0, "event_p99_ms": 250.0, "position_age_p95_ms": 1500.0}
# A console waits this long for an incident's row after an event about it before it reads the
# incident itself (ROW_WAIT_MS in static/js/console.js).
ROW_WAIT_SECONDS = 3.0
ROWS_FRAME = '{"type": "incidents"'
ROWS_SEQ = re.compile(r'"seq": (\d+)')
ROW_ID = re.compile(r'\{"id": (\d+), "number": ')
# event number -> the incident it names, as the consoles received them
EVENT_INCIDENTS: dict[int, int] = {}
# --consoles-read: every console's reads of incidents (seconds each) and their errors, this step
CONSOLE_READS: dict[str, list] = {"times": [], "errors": []}


def log(message: str) -> None:
    print(f"bench/surge: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# set-up and clean-up


def load_env() -> None:
    env_file = ROOT / "var" / "env"
    if env_file.exists():
        for line in env_file.read_text().splitlines():
            name, sep, value = line.removeprefix("export ").partition("=")
            if sep and name.isidentifier() and not line.startswith("#"):
                os.environ.setdefault(name, value.strip().strip("'\""))
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(name):
            sys.exit(f"bench/surge: no {name}; run `make setup` and `. var/env` first")


def admin_sql(server_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def db_last_seq(db_url: str) -> int:
    import psycopg

    with psycopg.connect(db_url, connect_timeout=5) as conn:
        return conn.execute("SELECT coalesce(max(seq), 0) FROM dispatch_event").fetchone()[0]


def run_python(env: dict[str, str], *args: str, timeout: float = 1800) -> str:
    done = subprocess.run(
        [str(PYTHON), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=None,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode})")
    return done.stdout


def free_ports(count: int) -> list[int]:
    socks = [socket.socket() for _ in range(count)]
    try:
        for s in socks:
            s.bind((HOST, 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_until_up(port: int, processes: list[subprocess.Popen], what: str) -> None:
    from http.client import HTTPConnection

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{what} exited ({process.returncode}); see its log")
        try:
            conn = HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{what} did not answer on {port} within 90 s")


def stop_process(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def delete_redis_keys(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@dataclass
class Servers:
    """daphne (one or two) and, for two, HAProxy in front; the port clients use."""

    folder: Path
    processes: list[subprocess.Popen] = field(default_factory=list)
    daphne_pids: list[int] = field(default_factory=list)
    port: int = 0

    def start(self, apps: int, env: dict[str, str], units: int) -> None:
        ports = free_ports(apps + 1)
        env = {**env, "BEHIND_PROXY": "1"} if apps > 1 else env
        for k, port in enumerate(ports[:apps]):
            out = open(self.folder / f"daphne{k + 1}.log", "ab")  # noqa: SIM115  (closed with the process)
            self.processes.append(
                subprocess.Popen(
                    cluster.daphne_argv(port), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )  # fmt: skip
            self.daphne_pids.append(self.processes[-1].pid)
        for port in ports[:apps]:
            wait_until_up(port, self.processes, "daphne")
        if apps == 1:
            self.port = ports[0]
            return
        # HAProxy as the HA topology runs it (ops/ha/cluster.py's template). Its tracker rule is a
        # flood guard per client address sized for a carrier's thousand trackers; here every
        # tracker shares 127.0.0.1, so the guard is raised to the fleet's own pace, twice over.
        rates = {**cluster.HAPROXY_RATES_PER_MINUTE}
        rates["tracker_per_minute"] = max(rates["tracker_per_minute"], units * 12 * 2)
        servers = cluster.app_server_lines([(f"app{k + 1}", p) for k, p in enumerate(ports[:apps])])
        config = cluster.render(
            "haproxy.cfg", self.folder / "haproxy.cfg", dir=self.folder, host=HOST, port=ports[apps],
            servers=servers, **rates,
        )  # fmt: skip
        out = open(self.folder / "haproxy.log", "ab")  # noqa: SIM115
        self.processes.append(
            subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)
        )  # fmt: skip
        wait_until_up(ports[apps], self.processes, "haproxy")
        self.port = ports[apps]

    def check_alive(self) -> None:
        for process in self.processes:
            if process.poll() is not None:
                raise RuntimeError(f"a server process (pid {process.pid}) died; logs in {self.folder}")

    def stop(self) -> None:
        for process in reversed(self.processes):
            stop_process(process)


# ---------------------------------------------------------------------------------------------
# the live sockets: consoles, ER boards, tablets


@dataclass
class Screen:
    kind: str  # console, board, tablet
    index: int
    positions: bool = False  # whether this console's positions frames are kept (a sample)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    events: dict[int, float] = field(default_factory=dict)  # seq -> first receive (wall)
    last_seq: int = 0
    # unit id -> ([fix ms], [receive wall]) in arrival order
    fixes: dict[int, tuple[list[int], list[float]]] = field(default_factory=dict)
    # incident id -> ([row frame's seq], [receive wall]) in arrival order (consoles only)
    rows: dict[int, tuple[list[int], list[float]]] = field(default_factory=dict)
    reader: "IncidentReads | None" = None  # --consoles-read: reads the incidents itself
    frames: int = 0
    resyncs: int = 0
    closed: str | None = None


def fix_ms(iso: str) -> int:
    return round(datetime.fromisoformat(iso).timestamp() * 1000)


async def read_screen(screen: Screen, uri: str, session: str, origin: str) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    try:
        async with connect(
            uri, origin=origin, additional_headers={"Cookie": f"sessionid={session}"}, compression=None,
            proxy=None, open_timeout=60, close_timeout=2, max_size=2**24, ping_interval=None,
        ) as ws:  # fmt: skip
            async for raw in ws:
                received = time.time()  # first, before any parsing
                screen.frames += 1
                if '"positions"' in raw[:40]:
                    if not screen.positions:
                        continue  # not in the sample: received, not parsed
                    message = json.loads(raw)
                    for row in message["units"]:
                        times = screen.fixes.setdefault(row["id"], ([], []))
                        times[0].append(fix_ms(row["position_at"]))
                        times[1].append(received)
                    continue
                if raw.startswith(ROWS_FRAME):  # the incidents' rows: the number and ids only
                    seq = int(ROWS_SEQ.search(raw, 0, 60).group(1))
                    for found in ROW_ID.finditer(raw):
                        times = screen.rows.setdefault(int(found.group(1)), ([], []))
                        times[0].append(seq)
                        times[1].append(received)
                    continue
                message = json.loads(raw)
                kind = message.get("type")
                if kind in ("event", "events"):  # one, or several that came close together
                    for event in message["events"] if kind == "events" else [message["event"]]:
                        screen.events.setdefault(event["seq"], received)
                        if event["incident"] is not None:
                            if event["kind"] != "unit.status":  # a tap brings no row: applied
                                EVENT_INCIDENTS[event["seq"]] = event["incident"]
                            if screen.reader is not None:
                                screen.reader.event_about(event)
                        screen.last_seq = max(screen.last_seq, event["seq"])
                elif kind == "cursor":
                    screen.last_seq = max(screen.last_seq, message.get("seq", 0))
                    screen.ready.set()
                elif kind == "resync":
                    screen.resyncs += 1
                elif kind == "error":
                    screen.closed = f"error frame: {message.get('reason')}"
            screen.closed = screen.closed or f"closed by server ({ws.close_code})"
    except ConnectionClosed as exc:
        screen.closed = f"connection closed: {exc}"
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001  (a screen that cannot connect is reported)
        screen.closed = f"{type(exc).__name__}: {exc}"
    finally:
        screen.ready.set()


class IncidentReads:
    """--consoles-read: a console as it was before incident rows (decision 26): 80 ms after an
    event about an incident (several close together: once), it reads the incident, except for a
    crew's tap, which it applies from the event; one read of an incident at a time, one asked
    meanwhile made once after it (oneReadAtATime in static/js/shared.js). The load the rows take
    away, to measure."""

    def __init__(self, pool: Any, session_key: str, tally: dict[str, list]) -> None:
        self.session = Session(pool, session_key, CSRF)
        self.due: dict[int, asyncio.TimerHandle] = {}
        self.reading: dict[int, bool] = {}  # incident -> whether one more read is asked after this
        self.tally = tally
        self.tasks: set[asyncio.Task] = set()

    def event_about(self, event: dict) -> None:
        if event["kind"] == "unit.status":
            return
        incident = event["incident"]
        if incident in self.due:
            self.due[incident].cancel()
        self.due[incident] = asyncio.get_running_loop().call_later(0.08, self.start_read, incident)

    def start_read(self, incident: int) -> None:
        del self.due[incident]
        if incident in self.reading:
            self.reading[incident] = True
            return
        self.reading[incident] = False
        task = asyncio.ensure_future(self.read(incident))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def read(self, incident: int) -> None:
        again = True
        try:
            while again:
                self.reading[incident] = False
                await self.read_once(incident)
                again = self.reading[incident]
        finally:  # whatever ended it, the next event about the incident starts a read again
            del self.reading[incident]

    async def read_once(self, incident: int) -> None:
        try:
            status, _body, took = await self.session.get(f"/api/incidents/{incident}")
        except HttpError as exc:
            self.tally["errors"].append(str(exc))
            return
        if status != 200:
            self.tally["errors"].append(f"GET /api/incidents/{incident}: {status}")
        self.tally["times"].append(took)


async def open_screens(port: int, people: dict, args: argparse.Namespace, after: int) -> tuple[list, list]:
    uri = f"ws://{HOST}:{port}/ws/live/?after={after}"
    origin = f"http://{HOST}:{port}"
    # A console asks for incident rows (static/js/live.js), the others do not; with
    # --consoles-read it reads the incidents itself instead.
    uris = {"console": uri + ("" if args.consoles_read else "&rows=1"), "board": uri, "tablet": uri}
    sample_every = max(1, args.consoles // max(1, args.position_sample))
    wanted = [("console", people["consoles"][k], k % sample_every == 0) for k in range(args.consoles)]
    wanted += [("board", people["boards"][k], False) for k in range(args.boards)]
    wanted += [
        ("tablet", people["units"][k]["crew"], False) for k in range(min(args.tablets, len(people["units"])))
    ]
    screens = [Screen(kind, k, sample) for k, (kind, _s, sample) in enumerate(wanted)]
    if args.consoles_read:
        pool = Pool(HOST, port, size=args.consoles)
        for screen, (kind, session, _sample) in zip(screens, wanted, strict=True):
            if kind == "console":
                screen.reader = IncidentReads(pool, session, CONSOLE_READS)
    tasks = []
    for start in range(0, len(wanted), 10):
        batch = range(start, min(start + 10, len(wanted)))
        for k in batch:
            kind, session, _sample = wanted[k]
            tasks.append(asyncio.create_task(read_screen(screens[k], uris[kind], session, origin)))
        await asyncio.wait_for(asyncio.gather(*(screens[k].ready.wait() for k in batch)), timeout=120)
    failed = [s for s in screens if s.closed]
    if failed:
        raise RuntimeError(
            f"{len(failed)} screens failed to connect, e.g. {failed[0].kind}: {failed[0].closed}"
        )
    return screens, tasks


# ---------------------------------------------------------------------------------------------
# one step: R calls a second for S seconds, everything else at once


def cpu_seconds(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def start_profile(args: argparse.Namespace, ctx: dict, rate: float, seconds: float) -> tuple | None:
    """py-spy on the (first) daphne for the step, collapsed stacks to --profile's folder. Only the
    thread holding the interpreter lock is sampled (--gil): the process is bound by that lock, and
    sampling every thread counted the threads waiting for it as busy."""
    if not args.profile:
        return None
    spy = shutil.which("py-spy", path=str(PYTHON.parent)) or shutil.which("py-spy")
    if spy is None:
        log("no py-spy: `.venv/bin/pip install -r requirements.txt`; profiling skipped")
        return None
    args.profile.mkdir(parents=True, exist_ok=True)
    out = args.profile / f"daphne-{len(ctx['people']['units'])}u-{rate:g}cps.txt"
    argv = [
        spy,
        "record",
        "--pid",
        str(ctx["daphne_pids"][0]),
        "--duration",
        str(int(seconds)),
        "--rate",
        "50",
    ]
    argv += ["--nonblocking", "--gil", "--format", "raw", "--output", str(out)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), out


def report_profile(path: Path) -> None:
    """The heaviest places of daphne's samples: own frames by inclusive share, and leaves."""
    if not path.exists():
        log(f"py-spy wrote nothing to {path}")
        return
    total, inclusive, leaves = 0, {}, {}
    for line in path.read_text().splitlines():
        stack, _sep, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n, frames = int(count), stack.split(";")
        total += n
        leaves[frames[-1]] = leaves.get(frames[-1], 0) + n
        own = ("(dispatch/", "(fleet/", "(hospitals/", "(channels", "(daphne/", "(psycopg/")
        for frame in {f for f in frames if f.startswith(own, f.find("(")) if "(" in f}:
            inclusive[frame] = inclusive.get(frame, 0) + n
    log(f"profile {path} ({total} samples); inclusive:")
    ranked = [kv for kv in sorted(inclusive.items(), key=lambda kv: -kv[1]) if kv[1] < 0.9 * total]
    for frame, n in ranked[:30]:
        log(f"  {100 * n / total:5.1f}%  {frame[:150]}")
    log("leaves:")
    for frame, n in sorted(leaves.items(), key=lambda kv: -kv[1])[:15]:
        log(f"  {100 * n / total:5.1f}%  {frame[:150]}")


def own_cpu() -> float:
    """This process and its finished children (the trackers and actors processes, once waited for)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


async def step(
    rate: float, seconds: float, args: argparse.Namespace, ctx: dict, screens: list[Screen]
) -> dict[str, Any]:
    env, port, people, folder = ctx["env"], ctx["port"], ctx["people"], ctx["folder"]
    after = await asyncio.to_thread(db_last_seq, ctx["db_url"])
    start_wall = time.time() + 3
    ctx["tag"] += 1
    common = {"host": HOST, "port": port, "seconds": seconds, "start_wall": start_wall}
    tracker_spec = {
        **common,
        "units": [{k: u[k] for k in ("id", "key", "lon", "lat")} for u in people["units"]],
        "interval": args.interval,
        "connections": args.tracker_connections,
    }
    actor_spec = {
        **common,
        "rate": rate,
        "token": TOKEN,
        "account": ACCOUNT,
        "after": after,
        "dispatchers": people["consoles"][: args.dispatchers],
        "dispatcher_count": args.dispatchers,
        "crews": {str(u["id"]): u["crew"] for u in people["units"]},
        "admin": people["admin"],
        "points": people["points"],
        "tap_gap": args.tap_gap,
        "finish_within": args.finish_within,
        "tag": ctx["tag"] % 1000,
    }
    paths = {}
    for name, spec in (("trackers", tracker_spec), ("actors", actor_spec)):
        paths[name] = (folder / f"{name}-spec.json", folder / f"{name}-out.json")
        paths[name][0].write_text(json.dumps(spec))
        paths[name][1].unlink(missing_ok=True)
    children = {
        name: subprocess.Popen([str(PYTHON), str(HERE / f"{name}.py"), str(a), str(b)], cwd=HERE, env=env)
        for name, (a, b) in paths.items()
    }
    pg = postgres_pids()
    await asyncio.sleep(max(0.0, start_wall - time.time()))
    pg0 = {pid: cpu_seconds([pid]) for pid in pg}
    cpu0 = (time.monotonic(), cpu_seconds(ctx["daphne_pids"]), own_cpu(), 0.0)
    log(f"step R={rate:g}/s for {seconds:g} s: load started")
    spy = start_profile(args, ctx, rate, seconds)
    try:
        while any(c.poll() is None for c in children.values()):
            await asyncio.sleep(0.5)
            ctx["servers"].check_alive()
    finally:
        for child in children.values():
            stop_process(child)
    if spy is not None:
        stop_process(spy[0])
        report_profile(spy[1])
    # PostgreSQL backends alive at both ends (the others' share is lost: a floor, not the total)
    pg_used = sum(
        max(0.0, cpu_seconds([pid]) - used) for pid, used in pg0.items() if Path(f"/proc/{pid}").exists()
    )
    cpu1 = (time.monotonic(), cpu_seconds(ctx["daphne_pids"]), own_cpu(), pg_used)
    load_avg = Path("/proc/loadavg").read_text().split()[:3]
    for name, child in children.items():
        if child.returncode != 0:
            raise RuntimeError(f"the {name} process failed ({child.returncode})")
    actors = json.loads(paths["actors"][1].read_text())
    fixes = json.loads(paths["trackers"][1].read_text())
    # the events of the step: every console must reach the last one
    final = await asyncio.to_thread(db_last_seq, ctx["db_url"])
    consoles = [s for s in screens if s.kind == "console"]
    deadline = time.monotonic() + args.drain
    while time.monotonic() < deadline and any(c.last_seq < final for c in consoles):
        await asyncio.sleep(0.1)
    await drain_positions(fixes, [c for c in consoles if c.positions], deadline)
    out = run_python(env, str(HERE / "db.py"), "events", "--after", str(after), timeout=120)
    owed = {seq: at for seq, at in json.loads(out)["events"] if seq <= final}
    wall = cpu1[0] - cpu0[0]
    result = {
        "rate": rate,
        "seconds": seconds,
        **summarize_actions(actors),
        **summarize_events(consoles, owed),
        **(summarize_console_reads() if args.consoles_read else summarize_rows(consoles, owed)),
        **summarize_fixes(fixes, [c for c in consoles if c.positions]),
        "screens_closed": sum(1 for s in screens if s.closed),
        "resyncs": sum(s.resyncs for s in screens),
        "board_frames": sum(s.frames for s in screens if s.kind == "board"),
        "tablet_frames": sum(s.frames for s in screens if s.kind == "tablet"),
        "cpu_daphne_pct": round(100 * (cpu1[1] - cpu0[1]) / wall),
        "cpu_bench_pct": round(100 * (cpu1[2] - cpu0[2]) / wall),
        "cpu_postgres_pct": round(100 * (cpu1[3] - cpu0[3]) / wall),
        "load_avg": " ".join(load_avg),
    }
    result["errors"] = len(actors["errors"]) + result["screens_closed"] + result.get("console_read_errors", 0)
    result["passed"] = passed(result)
    for error in actors["errors"][:8]:
        log(f"error: {error}")
    return result


async def drain_positions(rows: list, consoles: list[Screen], deadline: float) -> None:
    """Until every sampled console has each unit's last stored fix (or a later one), or the
    drain's deadline (at least 2 s from now: the last batch)."""
    last: dict[int, int] = {}
    for unit, due, _status, stored, moved, *_rest in rows:
        if stored and moved:
            last[unit] = max(last.get(unit, 0), due)
    deadline = max(deadline, time.monotonic() + 2)

    def behind() -> int:
        return sum(
            1
            for c in consoles
            for unit, due in last.items()
            if not c.fixes.get(unit) or c.fixes[unit][0][-1] < due
        )

    while time.monotonic() < deadline and behind():
        await asyncio.sleep(0.2)


def summarize_actions(actors: dict) -> dict[str, Any]:
    out: dict[str, Any] = {
        k: actors[k]
        for k in (
            "calls_sent",
            "calls_taken",
            "dispatched",
            "conflicts",
            "jobs_done",
            "replays_same",
            "unfinished_calls",
            "unfinished_jobs",
        )  # fmt: skip
    }
    for name in (
        "take",
        "locate",
        "triage",
        "recommendation",
        "dispatch",
        "crew_tap",
        "webhook",
        "answer_wait",
    ):
        values = actors[name]
        out[f"{name}_p50_ms"] = ms(percentile(values, 50))
        out[f"{name}_p99_ms"] = ms(percentile(values, 99))
    out["crew_read_p99_ms"] = ms(percentile(actors["crew_read"], 99))
    out["year_report_loads"] = len(actors["report"])
    out["year_report_max_ms"] = ms(max(actors["report"], default=0.0))
    out["action_errors"] = len(actors["errors"])
    return out


def summarize_events(consoles: list[Screen], owed: dict[int, float]) -> dict[str, Any]:
    """Per event: commit (`at`) to the LAST console having it; a console that never got it makes
    it infinitely late. events_lost counts the (console, event) pairs never delivered."""
    last, first, lost = [], [], 0
    for seq, at in owed.items():
        times = [c.events.get(seq, INF) for c in consoles]
        lost += sum(1 for t in times if t == INF)
        last.append(max(times) - at)
        first.append(min(times) - at)
    return {
        "events": len(owed),
        "events_lost": lost,
        "event_p50_ms": ms(percentile(last, 50)),
        "event_p99_ms": ms(percentile(last, 99)),
        "event_max_ms": ms(max(last, default=0.0)),
        "event_first_p99_ms": ms(percentile(first, 99)),
    }


def summarize_rows(consoles: list[Screen], owed: dict[int, float]) -> dict[str, Any]:
    """Per event naming an incident (but a crew's tap, which the console applies itself and
    which brings no row): commit to the LAST console having a row of that incident
    that shows it (a rows frame of the same or a later number). rows_late counts the (console,
    event) pairs with no such row within ROW_WAIT_SECONDS of the commit: each is a read of the
    incident the real console makes itself, which this bench does not make (its load would be
    missing from the figures, so a step with any fails); rows_unseen those with none at all."""
    last, late, unseen = [], 0, 0
    for seq, at in owed.items():
        incident = EVENT_INCIDENTS.get(seq)
        if incident is None:
            continue
        times = []
        for console in consoles:
            seqs, received = console.rows.get(incident, ([], []))
            i = bisect.bisect_left(seqs, seq)
            times.append(received[i] if i < len(seqs) else INF)
        late += sum(1 for t in times if t - at > ROW_WAIT_SECONDS)
        unseen += sum(1 for t in times if t == INF)
        last.append(max(times) - at)
    return {
        "row_events": len(last),
        "rows_late": late,
        "rows_unseen": unseen,
        "row_p50_ms": ms(percentile(last, 50)),
        "row_p99_ms": ms(percentile(last, 99)),
    }


def summarize_console_reads() -> dict[str, Any]:
    """--consoles-read: the consoles' own reads of incidents this step (then emptied)."""
    times, errors = CONSOLE_READS["times"], CONSOLE_READS["errors"]
    for error in errors[:3]:
        log(f"console read: {error}")
    out = {
        "console_reads": len(times),
        "console_read_errors": len(errors),
        "console_read_p50_ms": ms(percentile(times, 50)),
        "console_read_p99_ms": ms(percentile(times, 99)),
        "rows_late": 0,  # no rows asked for: the consoles read instead
        "rows_unseen": 0,
    }
    CONSOLE_READS["times"], CONSOLE_READS["errors"] = [], []
    return out


def summarize_fixes(rows: list, consoles: list[Screen]) -> dict[str, Any]:
    """Per (sampled console, stored fix that moved its unit): due time to the first positions
    frame with that fix or a later one of the unit; never: infinitely late. The age in three
    parts: due to sent (the trackers' own backlog), the request (osmand), and stored to shown (the
    batch, the fan-out and the console's socket)."""
    sent = len(rows)
    stored = [(r[0], r[1]) for r in rows if r[3]]
    moved = [(r[0], r[1], r[1] / 1000 + r[7] + r[5]) for r in rows if r[3] and r[4]]
    ages, after_store, unseen = [], [], 0
    for console in consoles:
        for unit, due, answered in moved:
            times = console.fixes.get(unit)
            i = bisect.bisect_left(times[0], due) if times else 0
            if not times or i == len(times[0]):
                unseen += 1
                ages.append(INF)
                after_store.append(INF)
            else:
                ages.append(times[1][i] - due / 1000)
                after_store.append(times[1][i] - answered)
    http = [r[5] for r in rows if r[2]]
    late = [r[7] for r in rows]
    problems = [r[6] for r in rows if r[6]]
    for problem in problems[:3]:
        log(f"fix not stored: {problem}")
    return {
        "fixes_sent": sent,
        "fixes_lost": sent - len(stored),
        "fixes_unseen": unseen,
        "position_consoles": len(consoles),
        "position_age_p50_ms": ms(percentile(ages, 50)),
        "position_age_p95_ms": ms(percentile(ages, 95)),
        "position_age_p99_ms": ms(percentile(ages, 99)),
        "position_stored_to_shown_p95_ms": ms(percentile(after_store, 95)),
        "osmand_p99_ms": ms(percentile(http, 99)),
        "fix_sent_late_p95_ms": ms(percentile(late, 95)),
    }


def passed(result: dict[str, Any]) -> bool:
    for key, goal in GOALS.items():
        if result[key] is None or result[key] > goal:
            return False
    lost = result["events_lost"] + result["fixes_lost"] + result["fixes_unseen"] + result["rows_late"]
    undone = result["unfinished_calls"] + result["unfinished_jobs"]
    return result["errors"] == 0 and lost == 0 and undone == 0 and result["dispatched"] > 0


# ---------------------------------------------------------------------------------------------
# the run


async def measure(args: argparse.Namespace, ctx: dict) -> dict[str, Any]:
    after = await asyncio.to_thread(db_last_seq, ctx["db_url"])
    screens, tasks = await open_screens(ctx["port"], ctx["people"], args, after)
    log(f"{len(screens)} screens on the live socket ({args.consoles} consoles, {args.boards} ER boards, "
        f"{min(args.tablets, len(ctx['people']['units']))} tablets)")  # fmt: skip
    steps = []
    try:
        rates = [float(r) for r in args.rates.split(",")] if args.search else [args.rate]
        seconds = args.step_seconds if args.search else args.seconds
        for rate in rates:
            result = await step(rate, seconds, args, ctx, screens)
            steps.append(result)
            print(json.dumps({"step": True, **result}), flush=True)
            r = result
            log(
                f"R={rate:g}: {'PASS' if r['passed'] else 'FAIL'} rec p99 {r['recommendation_p99_ms']} ms,"
                f" event p99 {r['event_p99_ms']} ms, position p95 {r['position_age_p95_ms']} ms,"
                f" errors {r['errors']}, lost {r['events_lost']}+{r['fixes_lost']}+{r['fixes_unseen']},"
                f" load {r['load_avg']}"
            )
            if not result["passed"] and args.search:
                break
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    good = [s for s in steps if s["passed"]]
    shown = good[-1] if good and args.search else steps[-1]
    return {
        "bench": "surge",
        "units": len(ctx["people"]["units"]),
        "apps": args.apps,
        "concurrency": {
            "dispatchers": args.dispatchers,
            "consoles": args.consoles,
            "er_boards": args.boards,
            "tablets": min(args.tablets, len(ctx["people"]["units"])),
            "trackers": len(ctx["people"]["units"]),
            "fix_interval_s": args.interval,
            "tracker_connections": args.tracker_connections,
            "admins": 1,
        },
        "capacity_rate": max((s["rate"] for s in good), default=0.0) if args.search else None,
        "goals": GOALS,
        "steps": [{k: s[k] for k in STEP_KEYS} for s in steps] if args.search else None,
        **shown,
        "cpu_cores": os.cpu_count(),
        "load_avg_end": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


STEP_KEYS = (
    "rate", "passed", "recommendation_p99_ms", "event_p99_ms", "position_age_p95_ms", "dispatch_p99_ms",
    "errors", "events_lost", "fixes_lost", "fixes_unseen", "unfinished_calls", "unfinished_jobs",
    "cpu_daphne_pct", "load_avg",
)  # fmt: skip


def bench(args: argparse.Namespace) -> dict[str, Any]:
    load_env()
    server_url = os.environ["DATABASE_URL"]
    name = f"bench_surge_{os.getpid()}"
    prefix = f"benchsurge{os.getpid()}"
    db_url = urlunsplit(urlsplit(server_url)._replace(path="/" + name))
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "CHANNEL_PREFIX": prefix,
        "DEMO_MODE": "0",
        "DJANGO_SETTINGS_MODULE": "dispatch.settings",
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": "",
    }
    folder = Path(tempfile.mkdtemp(prefix="bench-surge-"))
    servers = Servers(folder)
    admin_sql(server_url, f"CREATE DATABASE {name} TEMPLATE template1")
    log(f"database {name} created; logs in {folder}")
    try:
        started = time.perf_counter()
        run_python(env, "manage.py", "migrate", "--noinput", "-v", "0")
        out = run_python(
            env, str(HERE / "db.py"), "populate", "--units", str(args.units),
            "--consoles", str(args.consoles), "--boards", str(args.boards),
        )  # fmt: skip
        people = json.loads(out.strip().splitlines()[-1])
        log(f"{len(people['units'])} units, set up in {time.perf_counter() - started:.0f} s")
        servers.start(args.apps, env, len(people["units"]))
        log(f"{args.apps} daphne (pids {servers.daphne_pids}) behind port {servers.port}")
        ctx = {
            "env": env, "port": servers.port, "people": people, "folder": folder, "db_url": db_url,
            "servers": servers, "daphne_pids": servers.daphne_pids, "tag": 0,
        }  # fmt: skip
        result = asyncio.run(measure(args, ctx))
        servers.check_alive()
        return result
    finally:
        steps = [
            ("servers stopped", servers.stop),
            (
                f"database {name} dropped",
                lambda: admin_sql(server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            ),
            ("Redis keys deleted", lambda: delete_redis_keys(os.environ["REDIS_URL"], prefix)),
        ]
        for what, undo in steps:
            try:
                undo()
                log(what)
            except Exception as exc:  # noqa: BLE001  (reported; the next step still runs)
                log(f"clean-up step failed ({what}): {exc}")
        if not args.keep_logs:
            shutil.rmtree(folder, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--units", type=int, default=1000, help="the fleet (the demo city's 40, generated up to N)"
    )
    parser.add_argument("--rate", type=float, default=10.0, help="calls a second (one run)")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of load (one run)")
    parser.add_argument("--search", action="store_true", help="step the rate up to find the capacity")
    parser.add_argument(
        "--rates", default="1,2,3,4,6,8,10,12,15,20", help="the search's steps, calls a second"
    )
    parser.add_argument("--step-seconds", type=float, default=40.0)
    parser.add_argument(
        "--apps", type=int, default=1, choices=(1, 2), help="daphne nodes (2: behind HAProxy)"
    )
    parser.add_argument("--dispatchers", type=int, default=20, help="concurrent dispatcher clients")
    parser.add_argument("--consoles", type=int, default=100)
    parser.add_argument("--boards", type=int, default=20)
    parser.add_argument("--tablets", type=int, default=50)
    parser.add_argument("--position-sample", type=int, default=20, help="consoles whose positions are timed")
    parser.add_argument(
        "--consoles-read",
        action="store_true",
        help="consoles read each incident on the events about it, as before incident rows (decision 26)",
    )
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between a unit's fixes")
    parser.add_argument("--tracker-connections", type=int, default=200)
    parser.add_argument("--tap-gap", type=float, default=2.0, help="seconds between a crew's taps")
    parser.add_argument("--finish-within", type=float, default=30.0, help="for the last jobs after the calls")
    parser.add_argument("--drain", type=float, default=15.0, help="seconds for the consoles to catch up")
    parser.add_argument("--keep-logs", action="store_true")
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy on daphne each step, into this folder: the thread holding the interpreter lock "
        "(where the process's CPU goes; waits are not in it)",
    )
    args = parser.parse_args(argv)
    args.dispatchers = min(args.dispatchers, args.consoles)
    return args


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up on kill as on Ctrl-C
    result = bench(args)
    print(json.dumps(result), flush=True)
    if math.isfinite(result.get("events_lost", 0)) and (result["events_lost"] or result["fixes_lost"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
