#!/usr/bin/env python3
"""The site-loss drill: site A (ops/ha/cluster.py) and site B's standby cluster
(ops/ha/second_site.py) on this machine, the failover drill's keyed writes (ops/ha/drill.py)
through the global front, then every process of site A killed at once (PostgreSQL, Patroni,
etcd, the leader watches, Redis, Sentinels, the app nodes, both HAProxies), site B promoted with the one
command (`ops/ha/second_site.py promote`), and writes resume through site B. Then the failback
(RUNBOOK "Failing back", --no-failback skips it): site A's old data wiped, site A rebuilt as a
standby cluster of site B, site A's app node and front started, site B demoted to a standby
cluster of site A, site A promoted once it has replayed all of site B's WAL; every acknowledged
write is then checked on site A.

  make site-drill     (or: .venv/bin/python ops/ha/site_drill.py [--keep] [--load-s 20])

Before the kill it measures the synchronous cross-site option (RUNBOOK "Losing the whole
site"): acknowledged-write latency (the load's own writes, p50 and p99) and single-row commit
latency on site A's primary, first with site A's one synchronous standby as always, then with a
fourth member of site A's cluster whose data lives at site B and every standby synchronous
(synchronous_node_count 3), so that each commit waits for site B too; then back as it was
(--no-sync-option skips it).

Prints one JSON line last: acknowledged writes (before the kill, after the promotion),
lost_acked_writes (the RPO in writes: acknowledged by site A, not at site B; cross-site
replication is asynchronous, so this may be above 0, and it is the honest number),
lost_by_kind, duplicates, sync_option, site B's replay lag sampled on site A's primary just
before the kill, rto_s (from the kill to the first write acknowledged by site B) and its steps
(the promote command's own time; no human decision time is included), write_failures. Exit
status 1 if a write was applied twice, a write was given up, or no write was acknowledged after
the promotion. Everything lives in a temporary directory, removed at the end (kept with --keep
or on failure); every process is stopped by its pid.
"""

import argparse
import dataclasses
import json
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import backup  # noqa: E402
import cluster  # noqa: E402
import drill  # noqa: E402  (the load, the seed, the check of every acknowledged write)
import second_site  # noqa: E402
from cluster import HOST, Topology  # noqa: E402

LIMIT_S = 1200  # the whole drill (about 6 minutes on a quiet 2-core machine, failback included: see RUNBOOK)
COMMITS = 200  # single-row commits per setting for the latency figures
KINDS = ("incident", "status", "fix", "vitals", "notice")


def log(message: str) -> None:
    print(f"site-drill: {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def connect(url: str) -> Any:
    import psycopg

    return psycopg.connect(url, connect_timeout=3, autocommit=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def commit_latencies(a: Topology) -> dict[str, float]:
    """Single-row commits on site A's primary, each its own transaction, waiting for whatever
    synchronous standbys Patroni has named (ms)."""
    times = []
    with connect(a.database_url()) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS drill_commit_latency (id bigserial PRIMARY KEY, at timestamptz)"
        )
        for _ in range(COMMITS):
            started = time.perf_counter()
            conn.execute("INSERT INTO drill_commit_latency (at) VALUES (now())")
            times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(times), 2), "p99_ms": round(percentile(times, 0.99), 2)}


def acked_latencies(load: Any, start: float, end: float) -> dict[str, Any]:
    """The load's writes first sent and acknowledged inside [start, end]: from the first attempt
    to the 2xx, through the global front, site A's HAProxy and app node (ms)."""
    times = [(x.at - x.sent) * 1000 for x in load.acks if start <= x.sent and x.at <= end]
    if not times:
        return {"writes": 0}
    return {
        "writes": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p99_ms": round(percentile(times, 0.99), 1),
    }


def first_ack_after(load: Any, moment: float, site: str) -> float:
    """When the load's first write after `moment` was acknowledged (by `site`, for the log)."""
    return cluster.wait_for(
        f"a write acknowledged by {site}",
        lambda: next((x.at for x in sorted(load.acks, key=lambda x: x.at) if x.at > moment), None),
        120,
        interval=0.1,
    )


def sync_members(a: Topology) -> list[str]:
    return sorted(m["name"] for m in cluster.patroni_cluster(a) if m["role"] == "sync_standby")


def set_sync_count(a: Topology, count: int) -> None:
    api = f"http://{HOST}:{(cluster.leader(a) or a.pg[0])['api_port']}"
    status, answer = second_site.http("PATCH", f"{api}/config", {"synchronous_node_count": count})
    if status != 200:
        raise RuntimeError(f"PATCH synchronous_node_count={count}: {status} {answer}")


def start_stretched_member(a: Topology, b: Topology) -> tuple[Topology, dict[str, Any]]:
    """The synchronous cross-site option (RUNBOOK): a fourth member of site A's own cluster
    (site A's etcd and scope) whose data lives at site B. Its own topology file, beside site B's."""
    member = dataclasses.replace(a, dir=str(b.path / "stretched"), pids={})
    member.path.mkdir(mode=0o755, exist_ok=True)
    api_port, pg_port = cluster.free_ports(2)
    node: dict[str, Any] = {"name": "pgx1", "api_port": api_port, "pg_port": pg_port}
    member.pg = [node]
    home = cluster.node_home(member, node)
    config = backup.render_node(
        a, backup.node_home(member, node["name"]), node["name"], home / "data", pg_port, home
    )
    # pg_basebackup with an immediate checkpoint (by default it waits for the next one, 5 min).
    methods = "  basebackup:\n    checkpoint: fast\n"
    cluster.start_patroni(
        member, node, replica_methods=methods, archive_command=backup.archive_command(config)
    )
    return member, node


def measure_sync_option(a: Topology, b: Topology, load: Any, phase_s: float) -> dict[str, Any]:
    """Acknowledged-write and commit latencies with site A's one synchronous standby (today), then
    with every standby synchronous, the member at site B among them; then back as it was."""
    result: dict[str, Any] = {}
    mark = time.monotonic()
    time.sleep(phase_s)
    result["in_site_sync_only"] = {
        "acked": acked_latencies(load, mark, time.monotonic()),
        "commit": commit_latencies(a),
    }
    member, node = start_stretched_member(a, b)
    try:
        cluster.wait_for(
            "the member at site B streaming",
            lambda: any(
                m["name"] == node["name"] and m["state"] == "streaming" for m in cluster.patroni_cluster(a)
            ),
            240,
            interval=0.5,
        )
        set_sync_count(a, 3)
        # Both of site A's standbys and the one at site B: every commit waits for site B too.
        cluster.wait_for("three synchronous standbys", lambda: len(sync_members(a)) == 3, 60, interval=0.5)
        result["sync_standbys"] = sync_members(a)
        mark = time.monotonic()
        time.sleep(phase_s)
        result["with_site_b_sync"] = {
            "acked": acked_latencies(load, mark, time.monotonic()),
            "commit": commit_latencies(a),
        }
    finally:
        set_sync_count(a, 1)
        cluster.stop(member)
    cluster.wait_for("site A as before", lambda: cluster.pg_healthy(a), 120, interval=0.5)
    with connect(a.database_url()) as conn:
        conn.execute("DROP TABLE IF EXISTS drill_commit_latency")
    return result


def replay_lag(a: Topology) -> dict[str, Any]:
    """Site B's standby leader as site A's primary sees it: bytes not yet replayed there. As the
    superuser: pg_stat_replication hides its columns from the app's role."""
    answer = pg_value(
        a,
        leader_of(a),
        "SELECT state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), "
        "extract(epoch FROM replay_lag) FROM pg_stat_replication "
        f"WHERE application_name = '{second_site.SITE_B_PG[0]}'",
    )
    if not answer:
        return {"state": "not connected"}
    state, lag_bytes, lag_s = answer.split("|")
    return {"state": state, "bytes": int(float(lag_bytes or 0)), "seconds": float(lag_s or 0)}


def kill_site(a: Topology) -> list[str]:
    """Every process of site A at once, SIGKILL: the site's power is gone. PostgreSQL's
    postmasters and their children too (they live in sessions of their own)."""
    killed = []
    for node in a.pg:
        if cluster.signal_postgres(a, node, signal.SIGKILL):
            killed.append(f"{node['name']}-postmaster")
    for name, pid in a.pids.items():
        if cluster.alive(pid):
            cluster.signal_pid(pid, signal.SIGKILL)
            killed.append(name)
    for node in a.pg:  # a child forked in the instant before
        cluster.signal_postgres(a, node, signal.SIGKILL)
    return killed


def lost_by_kind(b: Topology, load: Any, seeded: dict[str, Any]) -> dict[str, int]:
    """drill.verify() one kind at a time: which acknowledged writes site B does not have."""
    nobody: Any = SimpleNamespace(start=0, consoles=[])  # no consoles in this drill
    found = {}
    for kind in KINDS:
        only: Any = SimpleNamespace(acks=[x for x in load.acks if x.kind == kind])
        found[kind] = drill.verify(b, only, nobody, seeded)["lost_acked_writes"]
    return found


def pg_value(topo: Topology, node: dict[str, Any], sql: str) -> str:
    """One value as postgres on that node; "" while it does not answer (restarting)."""
    try:
        return cluster.psql(topo, node, "postgres", sql)
    except (RuntimeError, subprocess.TimeoutExpired):
        return ""


def leader_of(topo: Topology, role: str = "leader") -> dict[str, Any]:
    """The node (of topo.pg) whose Patroni member has this role."""
    names = {m["name"] for m in cluster.patroni_cluster(topo) if m["role"] == role}
    found = next((n for n in topo.pg if n["name"] in names), None)
    if found is None:
        raise RuntimeError(f"no {role} in {topo.dir}")
    return found


def fail_back(a: Topology, b: Topology, load: Any) -> dict[str, Any]:
    """RUNBOOK "Failing back", while the load writes on through the global front: site A's old
    data wiped, site A rebuilt as a standby cluster of site B (fresh etcd, its nodes cloned from
    site B's primary, its leader watches), then the planned switch: site A's app node and front
    started, site B demoted to a standby cluster of site A (its leader becomes a standby leader:
    no site takes writes), site A's standby leader waited for until it has replayed all of site B's
    WAL, site A promoted with the same promote function as site B was. Returns each step's time."""
    steps: dict[str, float] = {}
    mark = time.monotonic()

    def step(name: str) -> None:
        nonlocal mark
        now = time.monotonic()
        steps[name] = round(now - mark, 2)
        mark = now

    # 1. What survived at site A is discarded (the RUNBOOK's step 1; the check at the end proves
    #    every acknowledged write is at site A again), and a fresh DCS, as after a real site loss.
    for node in a.pg:
        cluster.shutil.rmtree(a.path / node["name"] / "data", ignore_errors=True)
        (a.path / node["name"] / "lease").unlink(missing_ok=True)
    for member in a.etcd:
        cluster.shutil.rmtree(a.path / member["name"] / "data", ignore_errors=True)
        cluster.start_etcd(a, member)
    cluster.wait_for("site A's etcd", lambda: sum(cluster.etcd_health(a).values()) == 3, 60)
    # 2. Site A as a standby cluster of site B: stream from site B's primary.
    b_primary = leader_of(b)
    for node in a.pg:
        home = cluster.node_home(a, node)
        config = backup.render_node(
            a, backup.node_home(a, node["name"]), node["name"], home / "data", node["pg_port"], home
        )
        cluster.start_patroni(
            a,
            node,
            standby_cluster=second_site.standby_cluster_block(HOST, b_primary["pg_port"], config),
            replica_methods=second_site.replica_methods_block(config),
            archive_command=backup.archive_command(config),
        )
        if node is a.pg[0]:
            cluster.wait_for(
                "site A's standby leader",
                lambda: any(m["role"] == "standby_leader" for m in cluster.patroni_cluster(a)),
                240,
                interval=0.5,
            )
    for watch in a.watches:
        cluster.start_watch(a, watch)
    cluster.wait_for(
        "site A's standby cluster streaming",
        lambda: sum(m["state"] == "streaming" for m in cluster.patroni_cluster(a)) == len(a.pg),
        240,
        interval=0.5,
    )
    step("site_a_rebuilt_as_standby_s")
    # 3. The planned switch. Site A's Redis, app node and front first (the global front prefers
    #    site A once its front answers: writes wait, retried with their keys, until it leads).
    for node in a.redis:
        cluster.start_redis(a, node)
    for node in a.sentinels:
        cluster.start_sentinel(a, node)
    for node in a.apps:
        cluster.start_app(a, node)
    cluster.start_haproxy(a)
    cluster.wait_for("site A's app node", lambda: all(cluster.apps_health(a).values()), 120, interval=0.5)
    step("site_a_apps_started_s")
    switch_started = time.monotonic()
    a_standby = leader_of(a, "standby_leader")
    api_b = f"http://{HOST}:{b_primary['api_port']}"
    demote = {
        "standby_cluster": {
            "host": HOST,
            "port": a_standby["pg_port"],
            "create_replica_methods": ["basebackup"],
        }
    }
    status, answer = second_site.http("PATCH", f"{api_b}/config", demote)
    if status != 200:
        raise RuntimeError(f"demoting site B: PATCH {api_b}/config: {status} {answer}")
    cluster.wait_for(
        "site B demoted (no leader taking writes)",
        lambda: pg_value(b, b_primary, "SELECT pg_is_in_recovery()") == "t",
        120,
        interval=0.25,
    )
    b_end = pg_value(b, b_primary, "SELECT pg_last_wal_replay_lsn()")
    step("site_b_demoted_s")
    cluster.wait_for(
        "site A replayed all of site B's WAL",
        lambda: (
            pg_value(a, a_standby, f"SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '{b_end}') >= 0") == "t"
        ),
        120,
        interval=0.1,
    )
    step("site_a_caught_up_s")
    apis = [f"http://{HOST}:{n['api_port']}" for n in a.pg]
    promoted = second_site.promote(
        apis,
        lambda host, port: second_site.upstream_writable(host, port, a.password),
        lambda member: second_site.member_writable(member, a.password),
        say=log,
    )
    step("site_a_promoted_s")
    promoted_at = time.monotonic()
    first = first_ack_after(load, promoted_at, "site A")
    steps["first_write_after_promotion_s"] = round(first - promoted_at, 2)
    return {
        "steps": steps,
        "b_end_lsn": b_end,
        "switch_without_writes_s": round(first - switch_started, 2),
        "promote": promoted,
        "switched_at": switch_started,
        "promoted_at": promoted_at,
    }


def start_load(front: Topology, seeded: dict[str, Any]) -> tuple[Any, list[Any]]:
    """drill.start_load() once the app answers a page: the first requests after start-up are slow
    on a loaded machine, and site A's HAProxy, marking its one app node down for a moment, cuts
    them (shutdown-sessions); a sign-in cut so is tried again (no writer has started yet)."""
    for attempt in range(1, 6):
        try:
            drill.Session(front.haproxy_port).request("GET", "/login/")
            return drill.start_load(front, seeded)
        except (OSError, KeyError, RuntimeError) as exc:
            log(f"signing the load's users in, attempt {attempt}: {type(exc).__name__}: {exc}")
            time.sleep(2)
    raise RuntimeError("the load's users could not sign in through the global front")


def run(
    a: Topology, load_s: float, sync_option: bool, state: dict[str, Any], failback: bool = True
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    log("starting site B: standby cluster, app node, fronts")
    mark = time.monotonic()
    b, links = second_site.start_site_b(a)
    state["b"] = b
    result["site_b_start_s"] = round(time.monotonic() - mark, 1)
    log(f"site B streaming after {result['site_b_start_s']} s; global front {HOST}:{links['front_port']}")
    hospital = drill.HospitalEndpoint().start()
    seeded = drill.seed(a, hospital.url)
    # Every client goes through the global front, as through the centre's DNS name.
    front = dataclasses.replace(a, haproxy_port=links["front_port"])
    load, threads = start_load(front, seeded)
    try:
        if sync_option:
            log("measuring the synchronous cross-site option (a member of site A's cluster at site B)")
            try:
                result["sync_option"] = measure_sync_option(a, b, load, load_s / 2)
            except RuntimeError as exc:  # the measurement is not the drill: say why, go on
                result["sync_option"] = {"error": str(exc)}
            log(f"sync option: {result['sync_option']}")
        time.sleep(load_s)
        result["replay_lag_before_kill"] = replay_lag(a)
        killed_at = time.monotonic()
        killed = kill_site(a)
        acked_before = len(load.acks)
        log(f"site A killed: {', '.join(killed)}; {acked_before} writes acknowledged so far")
        # The operator's one command (no decision time: the drill decides at once).
        mark = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve().parent / "second_site.py"),
                "promote",
                "--dir",
                a.dir,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        promote_s = time.monotonic() - mark
        sys.stderr.write(done.stderr)
        if done.returncode != 0:
            raise RuntimeError(f"promote failed ({done.returncode}): {done.stderr[-2000:]}")
        result["promote"] = json.loads(done.stdout.strip().splitlines()[-1])
        promoted_at = time.monotonic()
        first = first_ack_after(load, promoted_at, "site B")
        result["rto_s"] = round(first - killed_at, 2)
        result["rto_steps"] = {
            "kill_to_promote_command_s": round(mark - killed_at, 2),
            "promote_command_s": round(promote_s, 2),
            "first_write_after_promotion_s": round(first - promoted_at, 2),
        }
        log(f"writes resumed at site B {result['rto_s']} s after the kill: {result['rto_steps']}")
        time.sleep(load_s / 2)
        (timeline,) = drill.primary_query(b, "SELECT timeline_id FROM pg_control_checkpoint()")[0]
        result["site_b_timeline"] = timeline
        if failback:
            log("failing back to site A: rebuilt as site B's standby cluster, then a planned switch")
            back = fail_back(a, b, load)
            log(f"failed back: {back['steps']}")
            time.sleep(load_s / 2)
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(timeout=drill.GIVE_UP_S + 5)
        hospital.stop()
    nobody: Any = SimpleNamespace(start=0, consoles=[])  # no consoles in this drill
    # After the failback site A leads again: every write acknowledged by either site must be
    # there, once (site B, a standby now, has them too).
    now_primary = a if failback else b
    checked = drill.verify(now_primary, load, nobody, seeded)
    if failback:
        result["failback"] = {
            **{k: v for k, v in back.items() if k not in ("switched_at", "promoted_at")},
            "acked_after_switch_began": sum(1 for x in load.acks if x.at > back["switched_at"]),
            "acked_after_promotion": sum(1 for x in load.acks if x.at > back["promoted_at"]),
            "lost_acked_writes": checked["lost_acked_writes"],
            "duplicates": checked["duplicates"],
        }
        log(f"failback: {result['failback']}")
    result["acked_writes"] = checked["acked_writes"]
    result["acked_before_kill"] = acked_before
    result["acked_after_promotion"] = sum(1 for x in load.acks if x.at > promoted_at)
    result["lost_acked_writes"] = checked["lost_acked_writes"]
    result["lost_by_kind"] = lost_by_kind(now_primary, load, seeded) if checked["lost_acked_writes"] else {}
    result["duplicates"] = checked["duplicates"]
    result["duplicates_by_kind"] = checked["duplicates_by_kind"]
    result["write_failures"] = len(load.failures)
    result["write_retries"] = load.retries
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, data)")
    parser.add_argument("--load-s", type=float, default=20, help="seconds of load before the kill")
    parser.add_argument(
        "--no-sync-option", action="store_true", help="skip measuring the synchronous cross-site option"
    )
    parser.add_argument("--no-failback", action="store_true", help="skip failing back to site A")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("site-drill: terminated"))
    signal.signal(signal.SIGALRM, lambda *_: sys.exit(f"site-drill: over {LIMIT_S} s, stopped"))
    signal.alarm(LIMIT_S)
    directory = Path(cluster.tempfile.mkdtemp(prefix="d120-site-"))
    started = time.monotonic()
    ok = False
    a = None
    state: dict[str, Any] = {}
    try:
        log(f"starting site A in {directory}")
        a = cluster.start(directory, 1)
        log(f"site A healthy in {time.monotonic() - started:.0f} s")
        result = {
            "site_drill": True,
            **run(a, args.load_s, not args.no_sync_option, state, not args.no_failback),
        }
        result["duration_s"] = round(time.monotonic() - started, 1)
        ok = (
            result["duplicates"] == 0
            and result["write_failures"] == 0
            and result["acked_after_promotion"] > 0
            and (args.no_failback or result["failback"]["lost_acked_writes"] == 0)
        )
        print(json.dumps(result), flush=True)
    finally:
        signal.alarm(0)
        if a is None and (directory / "topology.json").exists():
            a = Topology.load(directory)
        # Site B as recorded on disk: the promote command (another process) starts site B's
        # background loops and records them only there, not in the copy this process holds.
        b = state.get("b")
        if a is not None and (second_site.site_b_dir(a) / "topology.json").exists():
            b = Topology.load(second_site.site_b_dir(a))
        stretched = b.path / "stretched" / "topology.json" if b is not None else None
        if stretched is not None and stretched.exists():  # the sync option's member, if left running
            log(f"stopped: {', '.join(cluster.stop(Topology.load(stretched.parent)))}")
        for topo in (b, a):
            if topo is not None:
                log(f"stopped: {', '.join(cluster.stop(topo))}")
        if ok and not args.keep:
            cluster.shutil.rmtree(directory, ignore_errors=True)
        else:
            log(f"kept {directory} (site A's logs in logs/, site B's in site-b/cluster/logs)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
