#!/usr/bin/env python3
"""The restore drill: a careless DELETE is replicated faithfully to every standby, so only the
backups bring it back. Start the whole topology (ops/ha/cluster.py), run the failover drill's
load through HAProxy (ops/ha/drill.py: every acknowledged write recorded with its time), take a
full backup and an incremental one (pgBackRest, read from a standby, into the second site's
repository), kill the primary (the promoted standby must go on archiving), then a "mistake"
deletes the drill's incidents and everything hanging off them with plain SQL. Restore to the
moment before it onto a fresh data directory (not any running node), start it, and prove that
every write acknowledged before that moment is there and the deleted incidents are back.

  make restore-drill     (or: .venv/bin/python ops/ha/restore_drill.py [--keep])

Prints one JSON line: the backups taken (and how long each took), the repository's verify
verdict, acknowledged writes before and after the target, lost_acked_writes (before the target:
must be 0), duplicates, the deleted incidents and how many came back, rpo_s (from the last
restored commit to the target), rto_s (from the decision to restore until the restored
database answers queries, read-write) with its steps. Exit status 1 unless nothing
acknowledged before the target is missing, no write was applied twice, every deleted incident
that was acknowledged before the target is back and the repository verifies. Progress goes to
stderr. Everything lives in a temporary directory, removed at the end (kept with --keep or on
failure); every process is stopped by its pid.
"""

import argparse
import json
import re
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import backup  # noqa: E402  (ops/ha/backup.py, beside this file)
import cluster  # noqa: E402
import drill  # noqa: E402  (the load, the seed, the check of every acknowledged write)
from cluster import HOST, Topology  # noqa: E402

LOAD_S = 6  # load between the steps (backups, failover, mistake), so each has writes around it
AFTER_MISTAKE_S = 3  # the centre goes on working until someone notices
LIMIT_S = 600  # the whole drill, start to stop (about 200 s on a quiet 2-core machine)
# The careless admin's cleanup: the drill's incidents "looked like test data".
# FOR UPDATE: a row a background loop is adding for one of them (an escalation's event) waits,
# and fails on the missing incident, instead of failing our commit.
DOOMED = "SELECT id FROM dispatch_incident WHERE notes LIKE 'drill:%' FOR UPDATE"
REFERENCES = """
SELECT c.conrelid::regclass::text, a.attname
FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f' AND c.confrelid = 'dispatch_incident'::regclass
"""


def log(message: str) -> None:
    print(f"restore-drill: {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def connect(url: str) -> Any:
    import psycopg

    return psycopg.connect(url, connect_timeout=3, autocommit=True)


def mistake(topo: Topology) -> list[int]:
    """DELETE the drill's incidents and every row referencing them, in one transaction, as an
    admin at a psql prompt would; returns the incident ids deleted."""
    with connect(topo.database_url()) as conn, conn.transaction():
        ids = [r[0] for r in conn.execute(DOOMED).fetchall()]
        for table, column in conn.execute(REFERENCES).fetchall():
            conn.execute(f'DELETE FROM {table} WHERE "{column}" = ANY(%s)', (ids,))
        conn.execute("DELETE FROM dispatch_incident WHERE id = ANY(%s)", (ids,))
    return ids


def count_incidents(url: str, ids: list[int]) -> int:
    with connect(url) as conn:
        return conn.execute("SELECT count(*) FROM dispatch_incident WHERE id = ANY(%s)", (ids,)).fetchone()[0]


def timeline(url: str) -> int:
    with connect(url) as conn:
        return conn.execute("SELECT timeline_id FROM pg_control_checkpoint()").fetchone()[0]


def answering(url: str) -> bool:
    """The restored server answers a query on the app's data and takes writes (promoted)."""
    try:
        with connect(url) as conn:
            conn.execute("SELECT count(*) FROM dispatch_incident").fetchone()
            return conn.execute("SELECT NOT pg_is_in_recovery()").fetchone()[0]
    except Exception:  # noqa: BLE001  (starting, in recovery, refusing: not yet)
        return False


def restore_and_start(topo: Topology, target: str, home: Path, port: int) -> tuple[Any, dict[str, Any]]:
    """The operator's steps after deciding to restore, timed: push the WAL written so far to the
    repository, restore to the target into a fresh directory, start the server until it has
    replayed to the target, promoted itself and answers."""
    steps: dict[str, Any] = {}
    started = time.monotonic()
    backup.check(topo)  # the segment holding the mistake goes to the repository now
    steps["archive_push_s"] = round(time.monotonic() - started, 1)
    mark = time.monotonic()
    backup.restore(topo, target, home, port)
    steps["restore_s"] = round(time.monotonic() - mark, 1)
    mark = time.monotonic()
    server = backup.start_restored(home, port)
    url = restored_topology(topo, home, port).database_url()
    cluster.wait_for("the restored server answering", lambda: answering(url), 600, interval=0.2)
    steps["recovery_s"] = round(time.monotonic() - mark, 1)
    log_text = (home / "pgbackrest" / "log" / f"{backup.STANZA}-restore.log").read_text()
    found = re.findall(r"restore backup set (\S+)", log_text)
    steps["restored_from"] = found[-1].rstrip(",") if found else ""
    return server, steps


def restored_topology(topo: Topology, home: Path, port: int) -> Topology:
    """The restored server as a one-node topology, so the failover drill's checks read it."""
    return Topology(dir=str(home), pg=[{"name": "restored", "pg_port": port}], password=topo.password)


def last_restored_commit(url: str) -> datetime:
    with connect(url) as conn:
        return conn.execute("SELECT pg_last_xact_replay_timestamp()").fetchone()[0]


def run(topo: Topology, state: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    hospital = drill.HospitalEndpoint().start()
    seeded = drill.seed(topo, hospital.url)
    backup.check(topo)
    load, threads = drill.start_load(topo, seeded)
    try:
        log("load running; full backup from a standby")
        for kind in ("full", "incr"):
            mark = time.monotonic()
            taken = backup.backup(topo, kind)
            result[f"{kind}_backup"] = taken["label"]
            result[f"{kind}_backup_s"] = round(time.monotonic() - mark, 1)
            log(f"{kind} backup {taken['label']} in {result[f'{kind}_backup_s']} s")
            time.sleep(LOAD_S)
        # A failover between the backups and the mistake: recovery must follow the promoted
        # standby's timeline, from WAL that it archived.
        result["failover"] = drill.scenario_db_primary_kill(topo)
        log(result["failover"])
        cluster.wait_healthy(topo, 180)
        time.sleep(LOAD_S)
        # The mistake. The target is the moment before it: every write acknowledged by now has
        # committed before it.
        target_at = datetime.now(UTC)
        target_mono = time.monotonic()
        deleted = mistake(topo)
        log(f"the mistake: deleted {len(deleted)} incidents and what referenced them")
        result["timeline_at_mistake"] = timeline(topo.database_url())
        time.sleep(AFTER_MISTAKE_S)
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(timeout=drill.GIVE_UP_S + 5)
    hospital.stop()
    result["deleted_incidents"] = len(deleted)
    result["deleted_on_live_cluster"] = len(deleted) - count_incidents(topo.database_url(), deleted)

    # Decide to restore: from here the clock for RTO runs.
    target = target_at.isoformat(sep=" ")
    home = Path(topo.dir) / "restored"
    port = cluster.free_ports(1)[0]
    log(f"restoring to {target} into {home / 'data'} (port {port})")
    decided = time.monotonic()
    state["server"], steps = restore_and_start(topo, target, home, port)
    result["rto_s"] = round(time.monotonic() - decided, 1)
    result["rto_steps"] = steps
    log(f"restored and answering after {result['rto_s']} s: {steps}")

    restored = restored_topology(topo, home, port)
    url = restored.database_url()
    last_commit = last_restored_commit(url)
    result["rpo_s"] = round((target_at - last_commit).total_seconds(), 3)
    result["restored_timeline"] = timeline(url)
    before = [a for a in load.acks if a.at < target_mono]
    result["acked_writes"] = len(load.acks)
    result["acked_before_target"] = len(before)
    result["acked_after_target"] = len(load.acks) - len(before)
    # Every write acknowledged before the target, by kind, checked by the failover drill's own
    # verify() against the restored server (no consoles here).
    checked = drill.verify(
        restored, SimpleNamespace(acks=before), SimpleNamespace(start=0, consoles=[]), seeded
    )
    result["lost_acked_writes"] = checked["lost_acked_writes"]
    result["duplicates"] = checked["duplicates"]
    acked_incidents = {a.value for a in before if a.kind == "incident"}
    deleted_acked = [i for i in deleted if i in acked_incidents]
    result["deleted_back"] = count_incidents(url, deleted)
    result["deleted_acked_before_target_missing"] = len(deleted_acked) - count_incidents(url, deleted_acked)
    result["write_failures"] = len(load.failures)

    mark = time.monotonic()
    verdict = backup.verify(topo)
    result["verify_s"] = round(time.monotonic() - mark, 1)
    # "status: ok", and no backup file or WAL segment missing or damaged.
    damaged = re.search(r"(missing|checksum invalid|size invalid|other): [1-9]", verdict)
    result["verify_ok"] = "status: ok" in verdict and not damaged
    result["backups_in_repository"] = len(backup.backups(topo))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, data)")
    parser.add_argument("--apps", type=int, default=1, help="daphne app nodes (default 1)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("restore-drill: terminated"))
    signal.signal(signal.SIGALRM, lambda *_: sys.exit(f"restore-drill: over {LIMIT_S} s, stopped"))
    signal.alarm(LIMIT_S)
    directory = Path(cluster.tempfile.mkdtemp(prefix="d120-restore-"))
    started = time.monotonic()
    ok = False
    topo = None
    state: dict[str, Any] = {}
    try:
        log(f"starting the topology in {directory}")
        topo = cluster.start(directory, args.apps)
        log(
            f"topology healthy in {time.monotonic() - started:.0f} s; front http://{HOST}:{topo.haproxy_port}/"
        )
        result = {"restore_drill": True, **run(topo, state)}
        result["duration_s"] = round(time.monotonic() - started, 1)
        ok = (
            result["lost_acked_writes"] == 0
            and result["duplicates"] == 0
            and result["deleted_acked_before_target_missing"] == 0
            and result["deleted_incidents"] > 0
            and result["deleted_on_live_cluster"] == result["deleted_incidents"]
            and result["write_failures"] == 0
            and result["verify_ok"]
        )
        print(json.dumps(result), flush=True)
    finally:
        signal.alarm(0)
        if state.get("server") is not None:
            backup.stop_restored(state["server"])
        if topo is None and (directory / "topology.json").exists():
            topo = Topology.load(directory)
        if topo is not None:
            log(f"stopped: {', '.join(cluster.stop(topo))}")
        if ok and not args.keep:
            cluster.shutil.rmtree(directory, ignore_errors=True)
        else:
            log(f"kept {directory} (logs in {directory}/logs, pgBackRest's in site-b/log)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
