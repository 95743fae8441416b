#!/usr/bin/env python3
"""Backups and point-in-time recovery for the HA topology, with pgBackRest (Debian's
`pgbackrest`): continuous WAL archiving from every Patroni node and full, differential and
incremental backups (read from a standby) into one repository at the second site, which on this
machine is DIR/site-b/backrest.

  var/ha-venv/bin/python ops/ha/backup.py backup --dir DIR [--type full|diff|incr]
  var/ha-venv/bin/python ops/ha/backup.py info|check|verify|expire --dir DIR
  var/ha-venv/bin/python ops/ha/backup.py restore --dir DIR --target '2026-12-06 07:50:00+00' --to NEWDIR
  var/ha-venv/bin/python ops/ha/backup.py schedule           (the crontab lines of the runbook)

ops/ha/cluster.py calls prepare_node() as it starts each Patroni node (the node's configuration
and its archive_command) and create_stanza() once the first node leads. The configuration comes
from ops/ha/templates/pgbackrest-node.conf (on each database machine: archive-push only) and
pgbackrest-repo.conf (on the backup host: backups, expiry, check, verify). Every pgBackRest
command runs as `postgres`, who owns the data directories and the repository.
The restore drill (ops/ha/restore_drill.py) uses restore() and start_restored();
ops/ha/RUNBOOK.md "Backups and point-in-time recovery" says how an operator does the same.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cluster  # noqa: E402  (ops/ha/cluster.py, beside this file)

STANZA = cluster.SCOPE
SITE_B = "site-b"  # the second site's storage; on real machines the backup host or an S3 bucket
# The runbook's schedule (crontab on the backup host, as postgres); `schedule` prints it.
SCHEDULE = (
    ("30 1 * * 0", "--type=full backup", "full every Sunday 01:30"),
    ("30 1 * * 1-6", "--type=diff backup", "differential the other days 01:30"),
    ("15 * * * *", "--type=incr backup", "incremental every hour at :15"),
    ("45 4 * * *", "verify", "every backup's and WAL segment's checksums, daily"),
)


def log(message: str) -> None:
    print(f"backup: {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def binary() -> str:
    found = shutil.which("pgbackrest")
    if not found:
        raise RuntimeError("no pgbackrest (Debian's pgbackrest: bash ops/local/bootstrap.sh ha)")
    return found


def site_b(topo: Any) -> Path:
    return Path(topo.dir) / SITE_B


def repo_path(topo: Any) -> Path:
    return site_b(topo) / "backrest"


def repo_config(topo: Any) -> Path:
    return site_b(topo) / "pgbackrest.conf"


def node_home(topo: Any, name: str) -> Path:
    """pgBackRest's log, lock and spool directories of one database machine."""
    return Path(topo.dir) / name / "pgbackrest"


def node_config(topo: Any, name: str) -> Path:
    return node_home(topo, name) / "pgbackrest.conf"


def owned(path: Path, mode: int = 0o750) -> Path:
    """A directory of the postgres user's (PostgreSQL's archive_command runs as postgres)."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(mode)
    if os.getuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    return path


def cipher_pass(topo: Any) -> str:
    """The repository's encryption key, made once per topology. On real machines it lives in the
    centre's secret store, never beside the repository it opens."""
    key = Path(topo.dir) / "pgbackrest.key"
    if not key.exists():
        key.write_text(secrets.token_urlsafe(48))
        key.chmod(0o600)
    return key.read_text().strip()


def render(template: str, target: Path, **values: Any) -> Path:
    cluster.render(template, target, **values)
    target.chmod(0o640)
    if os.getuid() == 0:
        shutil.chown(target, "postgres", "postgres")
    return target


def render_node(topo: Any, home: Path, name: str, data_dir: Path, pg_port: int, socket_dir: Path) -> Path:
    """A database machine's configuration (archive-push, restore) in `home` with its log, lock
    and spool directories."""
    owned(home)
    for sub in ("log", "lock", "spool"):
        owned(home / sub)
    return render(
        "pgbackrest-node.conf",
        home / "pgbackrest.conf",
        name=name,
        stanza=STANZA,
        repo_path=repo_path(topo),
        cipher_pass=cipher_pass(topo),
        home=home,
        data_dir=data_dir,
        pg_port=pg_port,
        socket_dir=socket_dir,
    )


def pg_hosts(topo: Any) -> str:
    """The backup host's pgN lines: every Patroni node, so pgBackRest finds the primary (to start
    and stop the backup) and a standby (to read the files from)."""
    lines = []
    for k, node in enumerate(topo.pg, start=1):
        home = Path(topo.dir) / node["name"]
        lines += [
            f"pg{k}-path={home / 'data'}",
            f"pg{k}-port={node['pg_port']}",
            f"pg{k}-socket-path={home}",
            f"pg{k}-user=postgres",
        ]
    return "\n".join(lines)


def render_repo(topo: Any) -> Path:
    home = owned(site_b(topo))
    owned(repo_path(topo))
    for sub in ("log", "lock"):
        owned(home / sub)
    return render(
        "pgbackrest-repo.conf",
        repo_config(topo),
        stanza=STANZA,
        repo_path=repo_path(topo),
        cipher_pass=cipher_pass(topo),
        home=home,
        pg_hosts=pg_hosts(topo),
    )


def archive_command(config: Path) -> str:
    """Rendering needs no pgBackRest installed yet (make test runs before bootstrap.sh ha)."""
    program = shutil.which("pgbackrest") or "/usr/bin/pgbackrest"
    return f"{program} --config={config} --stanza={STANZA} archive-push %p"


def prepare_node(topo: Any, node: dict[str, Any]) -> str:
    """cluster.py's hook before a Patroni node starts: the second site's repository and the
    node's own pgBackRest configuration; returns the node's archive_command for patroni.yml."""
    render_repo(topo)
    home = Path(topo.dir) / node["name"]
    config = render_node(
        topo, node_home(topo, node["name"]), node["name"], home / "data", node["pg_port"], home
    )
    return archive_command(config)


def run(config: Path, *args: str, timeout: float = 600) -> str:
    """One pgBackRest command as postgres; its stdout. Raises with pgBackRest's own message."""
    done = subprocess.run(
        [binary(), f"--config={config}", f"--stanza={STANZA}", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd="/",
        **cluster.as_postgres(),
    )
    if done.returncode != 0:
        raise RuntimeError(f"pgbackrest {' '.join(args)}: {(done.stderr or done.stdout).strip()[-2000:]}")
    return done.stdout


def create_stanza(topo: Any) -> None:
    """cluster.py's hook once the first Patroni node leads: the stanza (the repository's record
    of this cluster's system identifier and version). Archiving starts with it."""
    primary = cluster.wait_for("a Patroni leader", lambda: cluster.leader(topo), 90)
    run(node_config(topo, primary["name"]), "stanza-create", timeout=120)


def check(topo: Any) -> None:
    """Switches the primary's WAL segment and waits until the archive has it: archiving works,
    and everything committed until now is in the repository."""
    run(repo_config(topo), "check", timeout=180)


def backup(topo: Any, kind: str = "full") -> dict[str, Any]:
    """A backup of the given type, read from a standby; returns pgBackRest's record of it."""
    before = {b["label"] for b in backups(topo)}
    run(repo_config(topo), f"--type={kind}", "backup", timeout=1800)
    new = [b for b in backups(topo) if b["label"] not in before]
    if not new:
        raise RuntimeError(f"{kind} backup: none recorded")
    return new[-1]


def info(topo: Any) -> list[dict[str, Any]]:
    return json.loads(run(repo_config(topo), "info", "--output=json", timeout=120))


def backups(topo: Any) -> list[dict[str, Any]]:
    stanzas = info(topo)
    return stanzas[0].get("backup", []) if stanzas else []


def verify(topo: Any) -> str:
    """Reads every backup file and WAL segment in the repository and checks its checksum."""
    return run(repo_config(topo), "verify", "--verbose", "--output=text", timeout=1800).strip()


def expire(topo: Any) -> None:
    run(repo_config(topo), "expire", timeout=600)


# ---------------------------------------------------------------------------------------------
# restore onto a fresh machine


def restore(topo: Any, target: str, home: Path, port: int, backup_set: str | None = None) -> Path:
    """Point-in-time recovery to `target` (a timestamp with time zone) into home/data, a new
    data directory that no running server uses. Archiving stays off on the restored server: its
    new timeline must never be pushed into the live cluster's stanza."""
    owned(home, 0o700)
    data = home / "data"
    if data.exists() and any(data.iterdir()):
        raise RuntimeError(f"{data} is not empty: restore only into a fresh directory")
    owned(data, 0o700)
    config = render_node(topo, home / "pgbackrest", "restore", data, port, home)
    args = [
        "--type=time",
        f"--target={target}",
        "--target-action=promote",
        "--archive-mode=off",
        "--process-max=2",
    ]
    if backup_set:
        args.append(f"--set={backup_set}")
    run(config, *args, "restore", timeout=3600)
    return data


def restored_settings(home: Path, port: int) -> list[str]:
    """The restored files carry the Patroni node's settings (its port, socket directory, its
    synchronous standby names): the fresh server gets its own, and no replication role."""
    settings = {
        "listen_addresses": cluster.HOST,
        "port": str(port),
        "unix_socket_directories": str(home),
        "hba_file": str(home / "data" / "pg_hba.conf"),
        "ident_file": str(home / "data" / "pg_ident.conf"),
        "synchronous_standby_names": "",
        "primary_conninfo": "",
        "primary_slot_name": "",
        "archive_mode": "off",
        "cluster_name": "d120-restored",
        # No leader watch touches a heartbeat here: no lease (ops/ha/lease/d120_lease.c), and no
        # module to load from a path that may not exist on the machine restored onto.
        "shared_preload_libraries": "",
        "dispatch120.lease_s": "0",
    }
    return [arg for name, value in settings.items() for arg in ("-c", f"{name}={value}")]


def start_restored(home: Path, port: int) -> subprocess.Popen:
    """The restored server in the foreground of its own session, as postgres: it replays the
    archive up to the target and promotes itself."""
    postgres = f"{cluster.pg_bin_dir()}/postgres"
    with open(home / "postgres.log", "ab") as out:
        return subprocess.Popen(
            [postgres, "-D", str(home / "data"), *restored_settings(home, port)],
            cwd=str(home),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **cluster.as_postgres(),
        )


def stop_restored(process: subprocess.Popen) -> None:
    """Fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL."""
    for sig, seconds in ((signal.SIGINT, 20), (signal.SIGQUIT, 10), (signal.SIGKILL, 5)):
        if process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(seconds)
        except subprocess.TimeoutExpired:
            continue


def crontab(config: str = "/etc/pgbackrest/pgbackrest.conf") -> str:
    lines = ["# /etc/cron.d/pgbackrest on the backup host (ops/ha/RUNBOOK.md)"]
    for when, command, what in SCHEDULE:
        lines.append(f"# {what}")
        lines.append(f"{when} postgres pgbackrest --config={config} --stanza={STANZA} {command}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "command", choices=["backup", "info", "check", "verify", "expire", "restore", "schedule"]
    )
    parser.add_argument("--dir", type=Path, help="the topology's directory (ops/ha/cluster.py start)")
    parser.add_argument("--type", default="full", choices=["full", "diff", "incr"])
    parser.add_argument("--target", help="restore: the moment to recover to, e.g. '2026-12-06 07:50:00+00'")
    parser.add_argument("--set", help="restore: a backup label (default: the latest before the target)")
    parser.add_argument("--to", type=Path, help="restore: a new directory (data goes to TO/data)")
    parser.add_argument("--port", type=int, default=5432, help="restore: the restored server's port")
    args = parser.parse_args()
    if args.command == "schedule":
        print(crontab())
        return
    if not args.dir:
        sys.exit("backup: --dir is required")
    topo = cluster.Topology.load(args.dir)
    if args.command == "backup":
        print(json.dumps(backup(topo, args.type)))
    elif args.command == "info":
        print(json.dumps(info(topo), indent=1))
    elif args.command == "check":
        check(topo)
        log("check: ok, the current WAL segment is archived")
    elif args.command == "verify":
        print(verify(topo))
    elif args.command == "expire":
        expire(topo)
    else:
        if not (args.target and args.to):
            sys.exit("backup: restore needs --target and --to")
        log(f"restored into {restore(topo, args.target, args.to, args.port, args.set)}")


if __name__ == "__main__":
    main()
