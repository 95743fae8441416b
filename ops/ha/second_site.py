#!/usr/bin/env python3
"""The second site (异地容灾): a Patroni standby cluster fed by streaming replication from the
first site's primary, with the pgBackRest archive at the second site as its fallback source, and
the one command that promotes it when the first site is lost.

  .venv/bin/python ops/ha/second_site.py start --dir DIR    (site B beside ops/ha/cluster.py's DIR)
  .venv/bin/python ops/ha/second_site.py status --dir DIR
  .venv/bin/python ops/ha/second_site.py promote --dir DIR [--force]    (make promote-site-b SITE_DIR=DIR)
  .venv/bin/python ops/ha/second_site.py promote --api http://dbb1:8008,http://dbb2:8008  (real machines)
  .venv/bin/python ops/ha/second_site.py stop --dir DIR

On this machine site B is a second set of processes standing for the other site: one etcd member
of its own (a real site runs three), two Patroni nodes under their own namespace (/site-b/: a
standby leader streaming from site A, and a cascading replica streaming from it), one Redis with
a Sentinel, one app node (daphne; its loops start with the promotion), its own HAProxy. Site A gets a
database front (HAProxy checking Patroni's GET /primary), the address the standby leader streams
from, so it follows site A's own failovers. A global front (HAProxy, backup server) stands for
the DNS or load balancer that sends clients to site B once site A's front stops answering.

`promote` removes `standby_cluster` from site B's dynamic configuration (PATCH /config with
null, Patroni's REST API: what `patronictl promote-cluster` sends too), waits until a member is
leader (not standby leader) and PostgreSQL takes writes, and prints what it did with the time
each step took. It refuses while site A's primary still answers as read-write at the standby
cluster's upstream address (two sites taking writes is worse than a few minutes without the
database), unless --force. ops/ha/RUNBOOK.md
"Losing the whole site" says when to run it and how to fail back.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import backup  # noqa: E402  (ops/ha/backup.py, beside this file)
import cluster  # noqa: E402
from cluster import HOST, Topology  # noqa: E402

NAMESPACE_B = "/site-b/"
LINKS = "site.json"  # <dir>/site-b/site.json: site A's database front, the global front
# Site B's Patroni nodes, cascading: pgb1 becomes the standby leader (it streams from site A),
# pgb2 streams from it. Names differ from site A's, so both sites' replication is told apart.
SITE_B_PG = ("pgb1", "pgb2")


def log(message: str) -> None:
    print(f"site: {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def site_b_dir(a: Topology) -> Path:
    """Site B's processes live beside the pgBackRest repository that stands for its storage."""
    return Path(a.dir) / backup.SITE_B / "cluster"


def plan_site_b(a: Topology) -> Topology:
    """Site B's topology: its own ports and prefix; the database passwords and the app's keys are
    site A's (its data is a copy of site A's, and sessions and encrypted fields must open there)."""
    ports = iter(cluster.free_ports(2 + 2 * len(SITE_B_PG) + 4))
    b = Topology(
        dir=str(site_b_dir(a)),
        password=a.password,
        replication_password=a.replication_password,
        # The app's own role (site A made it; the data is a copy). No lease here: site B has no
        # leader watches (lease_module stays empty, cluster.lease_parameters).
        app_password=a.app_password,
        secret_key=a.secret_key,
        data_key=a.data_key,
        redis_password=a.redis_password,
        prefix=f"{a.prefix}b",
    )
    b.etcd = [{"name": "etcdb1", "client_port": next(ports), "peer_port": next(ports)}]
    b.pg = [{"name": name, "api_port": next(ports), "pg_port": next(ports)} for name in SITE_B_PG]
    b.redis = [{"name": "redisb1", "port": next(ports)}]
    b.sentinels = [{"name": "sentinelb1", "port": next(ports)}]
    b.apps = [{"name": "appb1", "port": next(ports)}]
    b.haproxy_port = next(ports)
    return b


# ---------------------------------------------------------------------------------------------
# the standby cluster's configuration (rendered into ops/ha/templates/patroni.yml)


def restore_command(node_config: Path) -> str:
    """WAL the standby could not stream (site A gone, or it fell behind wal_keep_size) comes from
    the archive at site B."""
    program = Path(backup.archive_command(node_config).split()[0])
    return f'{program} --config={node_config} --stanza={backup.STANZA} archive-get %f "%p"'


def standby_cluster_block(host: str, port: int, node_config: Path) -> str:
    """bootstrap.dcs.standby_cluster: stream from site A's database front; a new standby leader
    is made by pg_basebackup from there, or, if site A does not answer, restored from the
    archive's latest backup (pgBackRest)."""
    command = restore_command(node_config).replace('"', '\\"')
    return (
        "    # A standby cluster (ops/ha/second_site.py): removed from the DCS when site B is promoted.\n"
        "    standby_cluster:\n"
        f"      host: {host}\n"
        f"      port: {port}\n"
        "      create_replica_methods:\n"
        "        - basebackup\n"
        "        - pgbackrest\n"
        f'      restore_command: "{command}"\n'
    )


def replica_methods_block(node_config: Path) -> str:
    """postgresql.pgbackrest: the replica-creation method the block above names (a delta restore
    of the latest backup; Patroni then points the node at its upstream)."""
    program = Path(backup.archive_command(node_config).split()[0])
    return (
        "  basebackup:\n"
        "    checkpoint: fast\n"
        "  pgbackrest:\n"
        f'    command: "{program} --config={node_config} --stanza={backup.STANZA} --delta restore"\n'
        "    keep_data: true\n"
        "    no_params: true\n"
    )


def start_standby_node(a: Topology, b: Topology, node: dict[str, Any], upstream_port: int) -> int:
    home = cluster.node_home(b, node)
    # The node's pgBackRest configuration names site A's stanza and repository (the one at site B).
    config = backup.render_node(
        a, backup.node_home(b, node["name"]), node["name"], home / "data", node["pg_port"], home
    )
    return cluster.start_patroni(
        b,
        node,
        namespace=NAMESPACE_B,
        standby_cluster=standby_cluster_block(HOST, upstream_port, config),
        replica_methods=replica_methods_block(config),
        archive_command=backup.archive_command(config),
    )


def start_pg_front(a: Topology, port: int) -> int:
    """Site A's database front: the address of whichever node is site A's primary."""
    servers = "\n".join(
        f"    server {n['name']} {HOST}:{n['pg_port']} check port {n['api_port']}" for n in a.pg
    )
    config = cluster.render(
        "haproxy-pg.cfg", a.path / "haproxy-pg.cfg", dir=a.path, host=HOST, port=port, servers=servers
    )
    return cluster.spawn(a, "haproxy-pg", ["haproxy", "-db", "-f", str(config)])


def start_front(a: Topology, b: Topology, port: int) -> int:
    """The clients' address: site A's HAProxy while it answers, else site B's."""
    config = cluster.render(
        "haproxy-front.cfg",
        b.path / "haproxy-front.cfg",
        dir=b.path,
        host=HOST,
        port=port,
        site_a_port=a.haproxy_port,
        site_b_port=b.haproxy_port,
    )
    return cluster.spawn(b, "haproxy-front", ["haproxy", "-db", "-f", str(config)])


def members(b: Topology) -> list[dict[str, Any]]:
    return cluster.patroni_cluster(b)


def standby_healthy(b: Topology) -> bool:
    """A standby leader streaming from site A and every other member streaming from it."""
    found = {m["name"]: (m["role"], m["state"]) for m in members(b)}
    return found.get(SITE_B_PG[0]) == ("standby_leader", "streaming") and all(
        found.get(name) == ("replica", "streaming") for name in SITE_B_PG[1:]
    )


def start_site_b(a: Topology) -> tuple[Topology, dict[str, Any]]:
    """Site B beside a running site A: its database front, site B's etcd, standby cluster, Redis,
    app node and HAProxy, and the global front. Returns site B and the links (saved as site.json)."""
    b = plan_site_b(a)
    b.path.mkdir(parents=True, exist_ok=True)
    b.path.chmod(0o755)
    pg_front, front = cluster.free_ports(2)
    links = {"site_a": a.dir, "upstream_host": HOST, "upstream_port": pg_front, "front_port": front}
    (b.path / LINKS).write_text(json.dumps(links, indent=1))
    b.save()
    start_pg_front(a, pg_front)
    for member in b.etcd:
        cluster.start_etcd(b, member)
    cluster.wait_for("site B's etcd", lambda: all(cluster.etcd_health(b).values()), 30)
    start_standby_node(a, b, b.pg[0], pg_front)
    cluster.wait_for(
        "site B's standby leader", lambda: any(m["role"] == "standby_leader" for m in members(b)), 180
    )
    for node in b.pg[1:]:
        start_standby_node(a, b, node, pg_front)
    for node in b.redis:
        cluster.start_redis(b, node)
    for node in b.sentinels:
        cluster.start_sentinel(b, node)
    cluster.wait_for("site B's standby cluster streaming", lambda: standby_healthy(b), 180, interval=0.5)
    # Warm: daphne answers /healthz (and refuses writes on the read-only database); its
    # background loops start with the promotion (start_workers), they would only spin on errors.
    for node in b.apps:
        cluster.spawn(
            b, node["name"], cluster.daphne_argv(node["port"]), env=b.app_env(), cwd=str(cluster.ROOT)
        )
    cluster.start_haproxy(b)
    cluster.wait_for("site B's app node", lambda: all(cluster.apps_health(b).values()), 120, interval=0.5)
    start_front(a, b, front)
    cluster.wait_for(
        "the global front", lambda: cluster.http_json(f"http://{HOST}:{front}/healthz")[0] == 200, 30
    )
    cluster.write_env(b)
    return b, links


def start_workers(b: Topology) -> list[str]:
    """Site B's app nodes' background loops (outbox, escalation, notices...), once it takes writes."""
    started = []
    for node in b.apps:
        name = cluster.workers_of(node)
        if not cluster.alive(b.pids.get(name)):
            argv = [str(cluster.APP_PYTHON), "manage.py", "run_workers"]
            cluster.spawn(b, name, argv, env=b.app_env(), cwd=str(cluster.ROOT))
            started.append(name)
    return started


def load_site_b(directory: str | Path) -> tuple[Topology, dict[str, Any]]:
    a = Topology.load(directory)
    path = site_b_dir(a)
    return Topology.load(path), json.loads((path / LINKS).read_text())


# ---------------------------------------------------------------------------------------------
# promotion


class PromoteRefused(RuntimeError):
    """Site A's primary still takes writes: promoting would give the centre two primaries."""


def http(method: str, url: str, body: Any = None, timeout: float = 3) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except (OSError, ValueError):
        return 0, None


def first_answer(apis: list[str], method: str, path: str, body: Any = None) -> tuple[str, Any]:
    """The first Patroni REST API that answers 200: (its URL, the body)."""
    for api in apis:
        status, answer = http(method, api.rstrip("/") + path, body)
        if status == 200:
            return api, answer
    raise ConnectionError(f"no Patroni API answered {method} {path}: {', '.join(apis)}")


def psql_answer(host: str, port: int, sql: str, password: str | None = None) -> str | None:
    """One value from PostgreSQL at host:port as postgres, or None when it does not answer."""
    env = {**os.environ, "PGCONNECT_TIMEOUT": "3"}
    if password:
        env["PGPASSWORD"] = password
    argv = [f"{cluster.pg_bin_dir()}/psql", "-h", host, "-p", str(port), "-U", "postgres", "-d", "postgres"]
    try:
        done = subprocess.run(
            [*argv, "-qtAX", "-c", sql], env=env, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def upstream_writable(host: str, port: int, password: str | None = None) -> bool:
    """Site A's primary answers at the standby cluster's upstream address and is not in recovery."""
    return psql_answer(host, port, "SELECT pg_is_in_recovery()", password) == "f"


def member_writable(member: dict[str, Any], password: str | None = None) -> bool:
    """The promoted member's PostgreSQL takes writes: out of recovery, and a transaction that
    writes WAL commits (strict synchronous mode holds commits until a standby is synchronous)."""
    answer = psql_answer(
        member["host"], int(member["port"]), "SELECT NOT pg_is_in_recovery(), txid_current() > 0", password
    )
    return answer == "t|t"


def promote(
    apis: list[str],
    is_upstream_writable: Callable[[str, int], bool],
    is_member_writable: Callable[[dict[str, Any]], bool],
    force: bool = False,
    timeout: float = 120,
    say: Callable[[str], None] = log,
) -> dict[str, Any]:
    """Promote site B's standby cluster: the steps, each with its time. Raises PromoteRefused
    while site A's primary still takes writes (unless force), RuntimeError on timeout."""
    started = time.monotonic()
    api, config = first_answer(apis, "GET", "/config")
    standby = config.get("standby_cluster") if isinstance(config, dict) else None
    if not standby:
        say(f"{api}: no standby_cluster in the configuration; this cluster already takes writes")
        return {"promoted": False, "already": True, "took_s": 0.0}
    host, port = str(standby.get("host", "")), int(standby.get("port") or 5432)
    if host and is_upstream_writable(host, port):
        if not force:
            raise PromoteRefused(
                f"site A's primary still takes writes at {host}:{port}: not promoting "
                "(two sites writing at once; --force only once site A is fenced)"
            )
        say(f"site A's primary still answers read-write at {host}:{port}; promoting anyway (--force)")
    else:
        say(f"site A's primary does not answer read-write at {host}:{port}")
    status, answer = http("PATCH", api.rstrip("/") + "/config", {"standby_cluster": None})
    if status != 200:
        raise RuntimeError(f"PATCH {api}/config: {status} {answer}")
    patched = time.monotonic()
    say(f"removed standby_cluster through {api}/config ({patched - started:.1f} s)")
    deadline = started + timeout
    leader: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        try:
            _, state = first_answer(apis, "GET", "/cluster")
        except ConnectionError:
            state = {}
        leader = next(
            (
                m
                for m in (state or {}).get("members", [])
                if m.get("role") == "leader" and m.get("state") == "running"
            ),
            None,
        )
        if leader:
            break
        time.sleep(0.25)
    if not leader:
        raise RuntimeError(f"no leader within {timeout:.0f} s after removing standby_cluster")
    led = time.monotonic()
    say(f"{leader['name']} is leader ({led - started:.1f} s)")
    while not is_member_writable(leader):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{leader['name']} leads but took no write within {timeout:.0f} s")
        time.sleep(0.25)
    writable = time.monotonic()
    say(f"{leader['name']} takes writes ({writable - started:.1f} s); site B is the primary site")
    return {
        "promoted": True,
        "leader": leader["name"],
        "upstream": f"{host}:{port}",
        "forced": force,
        "patched_s": round(patched - started, 2),
        "leader_s": round(led - started, 2),
        "took_s": round(writable - started, 2),
    }


def status(b: Topology, links: dict[str, Any]) -> dict[str, Any]:
    front = cluster.http_json(f"http://{HOST}:{links['front_port']}/healthz")[0] == 200
    return {
        "postgres": {m["name"]: f"{m['role']}/{m['state']}/tl{m.get('timeline')}" for m in members(b)},
        "standby_streaming": standby_healthy(b),
        "etcd": cluster.etcd_health(b),
        "apps": cluster.apps_health(b),
        "haproxy": cluster.http_json(f"http://{HOST}:{b.haproxy_port}/healthz")[0] == 200,
        "global_front": front,
        "upstream": f"{links['upstream_host']}:{links['upstream_port']}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "status", "promote", "stop"])
    parser.add_argument("--dir", type=Path, help="site A's directory (ops/ha/cluster.py start)")
    parser.add_argument("--api", help="promote on real machines: site B's Patroni REST APIs, comma-separated")
    parser.add_argument("--force", action="store_true", help="promote although site A's primary answers")
    parser.add_argument("--timeout", type=float, default=120, help="promote: seconds to wait for writes")
    args = parser.parse_args()
    if args.command == "promote" and args.api:
        password = None  # psql reads PGPASSWORD or ~/.pgpass
        apis = args.api.split(",")
    else:
        if not args.dir:
            sys.exit("site: --dir is required")
        if args.command == "start":
            a = Topology.load(args.dir)
            try:
                b, links = start_site_b(a)
            except BaseException:
                if (site_b_dir(a) / "topology.json").exists():
                    log(f"start failed; stopped {cluster.stop(Topology.load(site_b_dir(a)))}")
                raise
            log(f"site B up: front http://{HOST}:{links['front_port']}/  env: {b.dir}/env")
            return
        b, links = load_site_b(args.dir)
        if args.command == "status":
            print(json.dumps(status(b, links), indent=1))
            return
        if args.command == "stop":
            log(f"stopped: {', '.join(cluster.stop(b)) or 'nothing was running'}")
            return
        password = b.password
        apis = [f"http://{HOST}:{n['api_port']}" for n in b.pg]
    try:
        result = promote(
            apis,
            lambda host, port: upstream_writable(host, port, password),
            lambda member: member_writable(member, password),
            force=args.force,
            timeout=args.timeout,
        )
    except PromoteRefused as exc:
        sys.exit(f"site: {exc}")
    if not args.api and result["promoted"]:
        # On this machine the app nodes' loops are ours to start (on real ones: systemd's unit).
        result["workers_started"] = start_workers(b)
        log(f"started site B's background loops: {', '.join(result['workers_started'])}")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
