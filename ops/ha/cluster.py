#!/usr/bin/env python3
"""The hot-standby topology on one machine: three etcd members, three Patroni-managed PostgreSQL
+ PostGIS nodes (synchronous replication, strict) each with its leader watch, three Redis (one
master, two replicas) with three Sentinels, N app nodes (daphne and the background loops) and
HAProxy in front of them. Everything binds to 127.0.0.1 on free ports and lives under one
directory; every process is started by us and stopped by the pid we recorded.

  var/ha-venv/bin/python ops/ha/cluster.py start [--dir DIR] [--apps 2]
  var/ha-venv/bin/python ops/ha/cluster.py status --dir DIR
  var/ha-venv/bin/python ops/ha/cluster.py stop --dir DIR

Any Python 3.11 runs it (it needs no package); the drill (ops/ha/drill.py) imports it. The
configuration comes from the templates in ops/ha/templates/ (the same files an operator adapts
for real machines, see ops/ha/RUNBOOK.md). `start` writes DIR/topology.json (ports, pids) and
DIR/env (DATABASE_URL with every database host, REDIS_SENTINELS, the HAProxy address).
"""

import argparse
import base64
import grp
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import ExitStack, suppress
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from string import Template
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from leader_watch import Etcd  # noqa: E402  (ops/ha/leader_watch.py, beside this file)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = Path(__file__).resolve().parent / "templates"
APP_PYTHON = ROOT / ".venv" / "bin" / "python"
DAPHNE = ROOT / ".venv" / "bin" / "daphne"
PATRONI = ROOT / "var" / "ha-venv" / "bin" / "patroni"
HOST = "127.0.0.1"
SCOPE = "d120"
NAMESPACE = "/service/"  # Patroni's keys in etcd: NAMESPACE + SCOPE
MASTER_NAME = "d120"
DATABASE = "dispatch120"
# Patroni refuses ttl < 20 s; loop_wait + 2 * retry_timeout must stay <= ttl (see patroni.yml).
TTL, LOOP_WAIT, RETRY_TIMEOUT = 20, 1, 5
# The leader watch's verdict: a primary silent this long (lease, REST API, PostgreSQL) loses its
# lease, so failover starts after about 2 s instead of TTL.
WATCH_DEAD_AFTER_S = float(os.environ.get("HA_WATCH_DEAD_AFTER_S", "2"))
# The primary's lease, checked by PostgreSQL at the start of every statement of the app's role
# (ops/ha/lease/d120_lease.c): refused once etcd last confirmed this node leads longer ago than
# this. Well under the 4.5 s the other watches wait before revoking (leader_watch.FENCE_AFTER_S +
# FENCE_MARGIN_S); above one etcd election (1 to 2 s), so a healthy primary keeps answering.
LEASE_S = float(os.environ.get("HA_LEASE_S", "2"))
APP_ROLE = "dispatch120"  # the app's login role: not a superuser, so the lease applies to it
LEASE_SOURCE = Path(__file__).resolve().parent / "lease" / "d120_lease.c"
# PostgreSQL's server headers, when `pg_config --includedir-server` has none: Debian's
# postgresql-server-dev-15 unpacked here (`apt-get download` + `dpkg -x`), not installed.
SERVER_DEV = ROOT / "var" / "pg-server-dev"
# libpq's keepalives and tcp_user_timeout on every connection (the app's own defaults,
# dispatch/settings.py DB_TCP_TIMEOUTS): a partitioned or crashed host ends a connection in ~4 s.
TCP_TIMEOUTS = "keepalives=1&keepalives_idle=2&keepalives_interval=1&keepalives_count=2&tcp_user_timeout=4000"


def log(message: str) -> None:
    print(f"ha: {message}", file=sys.stderr, flush=True)


def pg_bin_dir() -> str:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not found:
        sys.exit("ha: no PostgreSQL under /usr/lib/postgresql (run ops/local/bootstrap.sh)")
    return str(found[-1])


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports: every socket is held open until all are chosen."""
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket())
            sock.bind((HOST, 0))
            ports.append(sock.getsockname()[1])
    return ports


@dataclass
class Topology:
    """Where everything is: saved as DIR/topology.json so `status` and `stop` find it."""

    dir: str
    etcd: list[dict[str, Any]] = field(default_factory=list)
    pg: list[dict[str, Any]] = field(default_factory=list)
    redis: list[dict[str, Any]] = field(default_factory=list)
    sentinels: list[dict[str, Any]] = field(default_factory=list)
    apps: list[dict[str, Any]] = field(default_factory=list)
    watches: list[dict[str, Any]] = field(default_factory=list)  # ops/ha/leader_watch.py, one per pg node
    haproxy_port: int = 0
    password: str = ""
    replication_password: str = ""
    # The app's own role (APP_ROLE); empty: the app connects as the superuser (the restored and the
    # second site's topologies, which have no leader watches and so no lease).
    app_password: str = ""
    lease_module: str = ""  # the built d120_lease.so (build_lease_module); empty: no lease
    secret_key: str = ""  # the app nodes' SECRET_KEY: one for all, so sessions work on any node
    data_key: str = ""  # DATA_ENCRYPTION_KEY, one for all nodes
    redis_password: str = ""  # every Redis node's and Sentinel's password
    prefix: str = ""
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return Path(self.dir)

    def save(self) -> None:
        tmp = self.path / "topology.json.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=1))
        tmp.replace(self.path / "topology.json")

    @classmethod
    def load(cls, directory: str | Path) -> "Topology":
        return cls(**json.loads((Path(directory) / "topology.json").read_text()))

    def database_url(self, database: str = DATABASE) -> str:
        hosts = ",".join(f"{HOST}:{n['pg_port']}" for n in self.pg)
        # libpq tries the hosts in order and keeps the writable one; 2 s per dead host
        # (docs/platform-notes.md), about 4 s for a connection to a host that stopped answering.
        query = f"target_session_attrs=read-write&connect_timeout=2&{TCP_TIMEOUTS}"
        return f"postgres://{self.login}@{hosts}/{database}?{query}"

    def node_url(self, node: dict[str, Any], database: str = DATABASE) -> str:
        query = f"connect_timeout=2&{TCP_TIMEOUTS}"
        return f"postgres://{self.login}@{HOST}:{node['pg_port']}/{database}?{query}"

    @property
    def login(self) -> str:
        """user:password the app connects as."""
        return f"{APP_ROLE}:{self.app_password}" if self.app_password else f"postgres:{self.password}"

    def lease_file(self, node: dict[str, Any]) -> Path:
        """The heartbeat of `node`'s lease: beside its data directory, not in it (pg_basebackup
        would copy it to a new replica)."""
        return self.path / node["name"] / "lease"

    def sentinel_list(self) -> str:
        return ",".join(f"{HOST}:{s['port']}" for s in self.sentinels)

    def app_env(self) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url(),
            "REDIS_SENTINELS": self.sentinel_list(),
            "REDIS_SENTINEL_MASTER": MASTER_NAME,
            "REDIS_PASSWORD": self.redis_password,
            "CHANNEL_PREFIX": self.prefix,
            "SECRET_KEY": self.secret_key,
            "DATA_ENCRYPTION_KEY": self.data_key,
            "ALLOWED_HOSTS": f"{HOST},localhost",
            "BEHIND_PROXY": "1",
            "DEMO_MODE": "0",
            "DJANGO_SETTINGS_MODULE": "dispatch.settings",
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
            # No pool on HA nodes: psycopg_pool backs off its reconnects (1, 2, 4, 8, 16 s) while
            # no primary answers and a request waits DB_POOL_TIMEOUT for it, so writes resumed
            # 29 s after a primary kill with the pool and 20 s without (measured, RUNBOOK.md).
            "DB_POOL": os.environ.get("DB_POOL", "0"),
        }


def plan(directory: Path, apps: int) -> Topology:
    ports = iter(free_ports(3 * 2 + 3 * 2 + 3 + 3 + apps + 1))
    topo = Topology(
        dir=str(directory),
        password=secrets.token_urlsafe(18),
        replication_password=secrets.token_urlsafe(18),
        app_password=secrets.token_urlsafe(18),
        secret_key=secrets.token_urlsafe(48),
        data_key=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        redis_password=secrets.token_urlsafe(24),
        prefix=f"d120ha{os.getpid()}",
    )
    topo.etcd = [
        {"name": f"etcd{k}", "client_port": next(ports), "peer_port": next(ports)} for k in (1, 2, 3)
    ]
    topo.pg = [{"name": f"pg{k}", "api_port": next(ports), "pg_port": next(ports)} for k in (1, 2, 3)]
    topo.redis = [{"name": f"redis{k}", "port": next(ports)} for k in (1, 2, 3)]
    topo.sentinels = [{"name": f"sentinel{k}", "port": next(ports)} for k in (1, 2, 3)]
    topo.apps = [{"name": f"app{k}", "port": next(ports)} for k in range(1, apps + 1)]
    topo.watches = [{"name": f"watch{k}"} for k in (1, 2, 3)]
    topo.haproxy_port = next(ports)
    return topo


def render(template: str, target: Path, **values: Any) -> Path:
    text = Template((TEMPLATES / template).read_text()).substitute(**{k: str(v) for k, v in values.items()})
    target.write_text(text)
    return target


# ---------------------------------------------------------------------------------------------
# processes: started in their own session, remembered by pid, stopped by pid


def as_postgres() -> dict[str, Any]:
    """PostgreSQL refuses to run as root: Patroni (and so its postmaster) runs as `postgres`."""
    if os.getuid() != 0:
        return {}
    return {"user": "postgres", "group": "postgres", "extra_groups": []}


def spawn(topo: Topology, name: str, argv: list[str], env: dict[str, str] | None = None, **kw: Any) -> int:
    """`cgroup=` (machine_cgroup): the process starts inside it, before it opens any socket."""
    logs = topo.path / "logs"
    logs.mkdir(exist_ok=True)
    if (cgroup := kw.pop("cgroup", None)) is not None:
        user, group = kw.pop("user", None), kw.pop("group", None)
        kw.pop("extra_groups", None)
        ids = (pwd.getpwnam(user).pw_uid if user else None, grp.getgrnam(group).gr_gid if group else None)
        kw["preexec_fn"] = partial(enter_cgroup, str(cgroup / "cgroup.procs"), *ids)
    with open(logs / f"{name}.log", "ab") as out:
        process = subprocess.Popen(
            argv,
            cwd=kw.pop("cwd", topo.dir),
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # our Ctrl-C does not reach it; we stop it ourselves, in order
            **kw,
        )
    topo.pids[name] = process.pid
    topo.save()
    return process.pid


def enter_cgroup(procs: str, uid: int | None, gid: int | None) -> None:
    """In the child before exec: join the machine's cgroup, then drop to the user (Popen's own
    user= would switch first, and a non-root process may not move itself)."""
    with open(procs, "w") as f:
        f.write(str(os.getpid()))
    if gid is not None:
        os.setgroups([])
        os.setgid(gid)
    if uid is not None:
        os.setuid(uid)


def cgroup2_root() -> Path | None:
    for line in Path("/proc/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) > 2 and fields[2] == "cgroup2":
            return Path(fields[1])
    return None


# The drill sets this: each database machine's processes in a cgroup of their own (for its
# partition); a cluster started otherwise (tests, an operator's trial run) makes none.
MACHINE_CGROUPS = False


def machines_cgroup(topo: Topology) -> Path | None:
    """Where the drill's database machines' cgroups live (cgroup v2, root only), or None."""
    root = cgroup2_root()
    if root is None or os.getuid() != 0:
        return None
    return root / f"d120-{topo.path.name}"


def machine_cgroup(topo: Topology, index: int) -> Path | None:
    """Database machine `index` (etcdN, pgN and its postmaster, watchN): one cgroup, so the drill
    can cut that machine's packets off from the other machines by the sockets' cgroup
    (ops/ha/drill.py, the partition). None where cgroups are not writable: then no partition."""
    parent = machines_cgroup(topo)
    if parent is None or not MACHINE_CGROUPS:
        return None
    path = parent / topo.pg[index]["name"]
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our own child that exited) is not alive.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        stat = Path(f"/proc/{pid}/stat")
        return stat.exists() and stat.read_text().rpartition(")")[2].split()[0] != "Z"


def wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return not alive(pid)


def signal_pid(pid: int | None, sig: int) -> None:
    if pid:
        with suppress(ProcessLookupError):
            os.kill(pid, sig)


def stop_pid(pid: int | None, seconds: float = 15) -> None:
    """SIGCONT (it may be frozen), SIGTERM, then SIGKILL."""
    if not alive(pid):
        return
    signal_pid(pid, signal.SIGCONT)
    signal_pid(pid, signal.SIGTERM)
    if not wait_gone(pid, seconds):
        signal_pid(pid, signal.SIGKILL)
        wait_gone(pid, 5)


def postmaster_pid(topo: Topology, node: dict[str, Any]) -> int | None:
    """Line 1 of postmaster.pid: Patroni starts the postmaster in its own session, so killing
    Patroni alone leaves PostgreSQL running (docs/platform-notes.md)."""
    pidfile = topo.path / node["name"] / "data" / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if alive(pid) else None


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # it exited meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def signal_postgres(topo: Topology, node: dict[str, Any], sig: int) -> int | None:
    """Signal the postmaster first (so it forks nothing new), then every child: each backend
    calls setsid() and leads its own process group, so no single group holds them all."""
    pid = postmaster_pid(topo, node)
    if pid:
        # Listed before the postmaster is signalled: once SIGKILL ends it, its children belong to
        # init and would be missed (stopped ones would then stay stopped for good).
        kids = children(pid)
        signal_pid(pid, sig)
        for child in dict.fromkeys([*kids, *children(pid)]):
            signal_pid(child, sig)
    return pid


# ---------------------------------------------------------------------------------------------
# the parts


def start_etcd(topo: Topology, member: dict[str, Any], state: str = "new") -> int:
    home = topo.path / member["name"]
    home.mkdir(exist_ok=True)
    cluster = ",".join(f"{m['name']}=http://{HOST}:{m['peer_port']}" for m in topo.etcd)
    config = render(
        "etcd.yml",
        home / "etcd.yml",
        name=member["name"],
        data_dir=home / "data",
        host=HOST,
        client_port=member["client_port"],
        peer_port=member["peer_port"],
        initial_cluster=cluster,
        token=f"{SCOPE}-{topo.prefix}",
        state=state,
    )
    cgroup = machine_cgroup(topo, topo.etcd.index(member))
    return spawn(topo, member["name"], ["etcd", "--config-file", str(config)], cgroup=cgroup)


def node_home(topo: Topology, node: dict[str, Any]) -> Path:
    """The node's directory (its data, configuration, socket), the postgres user's own."""
    home = topo.path / node["name"]
    if not home.exists():
        home.mkdir(mode=0o700)
        if os.getuid() == 0:
            shutil.chown(home, "postgres", "postgres")
    return home


def start_patroni(
    topo: Topology,
    node: dict[str, Any],
    namespace: str = NAMESPACE,
    standby_cluster: str = "",
    replica_methods: str = "",
    archive_command: str | None = None,
) -> int:
    """The second site's standby cluster (ops/ha/second_site.py) passes its own namespace, the
    `standby_cluster` and replica-creation blocks of patroni.yml and its archive_command."""
    home = node_home(topo, node)
    if archive_command is None:
        import backup  # ops/ha/backup.py: the node's pgBackRest configuration and archive_command

        archive_command = backup.prepare_node(topo, node)
    config = render(
        "patroni.yml",
        home / "patroni.yml",
        namespace=namespace,
        standby_cluster=standby_cluster,
        replica_methods=replica_methods,
        scope=SCOPE,
        name=node["name"],
        host=HOST,
        api_port=node["api_port"],
        pg_port=node["pg_port"],
        etcd_hosts=",".join(f"{HOST}:{m['client_port']}" for m in topo.etcd),
        ttl=TTL,
        loop_wait=LOOP_WAIT,
        retry_timeout=RETRY_TIMEOUT,
        data_dir=home / "data",
        bin_dir=pg_bin_dir(),
        pgpass=home / "pgpass",
        socket_dir=home,
        superuser_password=topo.password,
        replication_password=topo.replication_password,
        fsync=os.environ.get("HA_PG_FSYNC", "on"),
        archive_command=archive_command,
        lease_parameters=lease_parameters(topo, node),
    )
    if os.getuid() == 0:
        shutil.chown(config, "postgres", "postgres")
    env = {"HOME": str(home), "PATRONI_LOG_LEVEL": "WARNING"}
    cgroup = machine_cgroup(topo, topo.pg.index(node))
    argv = [str(PATRONI), str(config)]
    return spawn(topo, node["name"], argv, env=env, cwd=str(home), cgroup=cgroup, **as_postgres())


def server_include_dir() -> Path | None:
    """Where postgres.h is: HA_PG_SERVER_INCLUDE, pg_config's, or Debian's package unpacked under
    var/ (fetched once with apt-get download; nothing installed, the running server untouched)."""
    found = [Path(p) for p in [os.environ.get("HA_PG_SERVER_INCLUDE", "")] if p]
    with suppress(OSError, subprocess.CalledProcessError):
        found.append(Path(subprocess.check_output(["pg_config", "--includedir-server"], text=True).strip()))
    version = Path(pg_bin_dir()).parent.name
    unpacked = SERVER_DEV / "usr" / "include" / "postgresql" / version / "server"
    found.append(unpacked)
    for candidate in found:
        if (candidate / "postgres.h").exists():
            return candidate
    with suppress(OSError, subprocess.SubprocessError):
        SERVER_DEV.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["apt-get", "download", f"postgresql-server-dev-{version}"],
            cwd=SERVER_DEV,
            check=True,
            capture_output=True,
            timeout=300,
        )
        for deb in SERVER_DEV.glob("postgresql-server-dev-*.deb"):
            subprocess.run(["dpkg", "-x", str(deb), str(SERVER_DEV)], check=True, timeout=120)
    return unpacked if (unpacked / "postgres.h").exists() else None


def build_lease_module(target: Path) -> Path | None:
    """ops/ha/lease/d120_lease.c compiled to `target` (a path the postgres user can read), or None
    when no compiler or no server headers are at hand (then the cluster runs without the lease)."""
    include = server_include_dir()
    compiler = shutil.which("gcc") or shutil.which("cc")
    if include is None or compiler is None:
        log("no PostgreSQL server headers or C compiler: the primary's lease is off")
        return None
    argv = [compiler, "-O2", "-Wall", "-fPIC", "-shared", f"-I{include}", "-o", str(target)]
    argv.append(str(LEASE_SOURCE))
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"building the lease module failed:\n{done.stderr[-3000:]}")
    target.chmod(0o755)
    return target


def lease_parameters(topo: Topology, node: dict[str, Any]) -> str:
    """patroni.yml's lines for the node's lease (ops/ha/lease/d120_lease.c): only where a leader
    watch touches the heartbeat and the app has its own role (site A's topology)."""
    if not (topo.app_password and topo.lease_module):
        return ""
    return (
        f'    shared_preload_libraries: "{topo.lease_module.removesuffix(".so")}"\n'
        f'    dispatch120.lease_file: "{topo.lease_file(node)}"\n'
        f'    dispatch120.lease_s: "{LEASE_S:g}"\n'
    )


def start_watch(topo: Topology, watch: dict[str, Any]) -> int:
    """The leader watch beside a Patroni node: it ends a dead primary's lease after
    WATCH_DEAD_AFTER_S instead of Patroni's 20 s ttl (ops/ha/leader_watch.py says why it is safe)."""
    argv = [
        sys.executable,
        str(Path(__file__).resolve().parent / "leader_watch.py"),
        "--etcd",
        ",".join(f"{HOST}:{m['client_port']}" for m in topo.etcd),
        "--scope",
        SCOPE,
        "--dead-after",
        str(WATCH_DEAD_AFTER_S),
        # Its machine's Patroni member: the watch fences that PostgreSQL when etcd's quorum stops
        # confirming it leads (it runs as root here; as `postgres` it may signal it too).
        "--name",
        watch["name"],
        "--member",
        (node := topo.pg[topo.watches.index(watch)])["name"],
        "--pidfile",
        str(topo.path / node["name"] / "data" / "postmaster.pid"),
        *(["--lease-file", str(topo.lease_file(node))] if topo.lease_module else []),
        # The etcd member in the same machine (cgroup): the partition cuts it off with the rest.
        "--local-etcd",
        f"{HOST}:{topo.etcd[topo.watches.index(watch)]['client_port']}",
    ]
    return spawn(topo, watch["name"], argv, cgroup=machine_cgroup(topo, topo.watches.index(watch)))


def start_redis(topo: Topology, node: dict[str, Any]) -> int:
    home = topo.path / node["name"]
    home.mkdir(exist_ok=True)
    master = topo.redis[0]
    replica = "" if node is master else f"replicaof {HOST} {master['port']}"
    config = render(
        "redis.conf",
        home / "redis.conf",
        name=node["name"],
        host=HOST,
        port=node["port"],
        dir=home,
        replicaof=replica,
        password=topo.redis_password,
    )
    return spawn(topo, node["name"], ["redis-server", str(config)])


def start_sentinel(topo: Topology, node: dict[str, Any]) -> int:
    home = topo.path / node["name"]
    home.mkdir(exist_ok=True)
    config = home / "sentinel.conf"
    if not config.exists():  # Sentinel rewrites its own file with what it learnt: keep it
        render(
            "sentinel.conf",
            config,
            name=node["name"],
            host=HOST,
            port=node["port"],
            dir=home,
            master_name=MASTER_NAME,
            master_port=topo.redis[0]["port"],
            password=topo.redis_password,
        )
    return spawn(topo, node["name"], ["redis-sentinel", str(config)])


def start_app(topo: Topology, node: dict[str, Any]) -> int:
    """daphne, and beside it the node's background loops (`manage.py run_workers`: outbox, call
    escalation, pre-arrival notices), as on every app node: they claim their work with
    conditional updates, so two nodes never do the same piece at once."""
    pid = spawn(topo, node["name"], daphne_argv(node["port"]), env=topo.app_env(), cwd=str(ROOT))
    workers = [str(APP_PYTHON), "manage.py", "run_workers"]
    spawn(topo, workers_of(node), workers, env=topo.app_env(), cwd=str(ROOT))
    return pid


def daphne_argv(port: int) -> list[str]:
    """daphne's own access log is off: it would record location-link tokens, tracker keys and
    phone numbers in paths; the app writes a scrubbed one (dispatch/core/access_log.py)."""
    return [str(DAPHNE), "--access-log", os.devnull, "-b", HOST, "-p", str(port), "dispatch.asgi:application"]


def workers_of(node: dict[str, Any]) -> str:
    return f"{node['name']}-workers"


# Requests a minute per client address on the public paths (ops/ha/templates/haproxy.cfg): the
# app's own per-node defaults (settings.RATE_LIMITS_PER_MINUTE), and for trackers a flood guard
# for a carrier address with up to a thousand trackers sending every five seconds behind it.
HAPROXY_RATES_PER_MINUTE = {
    "sign_in_per_minute": 20,
    "location_link_per_minute": 30,
    "tracker_per_minute": 15_000,
}


def app_server_lines(apps: list[tuple[str, int]]) -> str:
    """The app nodes in HAProxy's backend (ops/ha/templates/haproxy.cfg): each once as a checked
    server, and once more as an unchecked backup (`fallback-<name>`). HAProxy sends to the backups
    only when no checked server is up; then a node too busy to pass its checks still serves,
    slowly, instead of every request getting 503 (the surge bench saw both nodes of an overloaded
    pair taken out together), and a backup that is really dead refuses the connection, which
    HAProxy retries on another (`retry-on conn-failure`, `option redispatch`)."""
    checked = [f"    server {name} {HOST}:{port} check" for name, port in apps]
    fallback = [f"    server fallback-{name} {HOST}:{port} backup" for name, port in apps]
    return "\n".join(checked + fallback)


def start_haproxy(topo: Topology) -> int:
    servers = app_server_lines([(a["name"], a["port"]) for a in topo.apps])
    config = render(
        "haproxy.cfg",
        topo.path / "haproxy.cfg",
        dir=topo.path,
        host=HOST,
        port=topo.haproxy_port,
        servers=servers,
        **HAPROXY_RATES_PER_MINUTE,
    )
    # -db: stay in the foreground, so the pid we hold is HAProxy's own.
    return spawn(topo, "haproxy", ["haproxy", "-db", "-f", str(config)])


def restart(topo: Topology, name: str) -> int:
    """Start one part again after a drill killed it, with its data and configuration kept."""
    for group, start in (
        ("etcd", start_etcd),
        ("pg", start_patroni),
        ("redis", start_redis),
        ("sentinels", start_sentinel),
        ("apps", start_app),
        ("watches", start_watch),
    ):
        for node in getattr(topo, group):
            if node["name"] == name:
                return start(topo, node)
    raise KeyError(name)


# ---------------------------------------------------------------------------------------------
# health


def http_json(url: str, timeout: float = 2) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body or b"null")
        except ValueError:
            return exc.code, None
    except (OSError, ValueError):
        return 0, None


def etcd_health(topo: Topology) -> dict[str, bool]:
    return {m["name"]: http_json(f"http://{HOST}:{m['client_port']}/health")[0] == 200 for m in topo.etcd}


def etcd_leader(topo: Topology) -> str | None:
    """The name of etcd's own leader, from the members' status (v3 maintenance API)."""
    for member in topo.etcd:
        try:  # one member at a time: each says whether it is the leader itself
            status = Etcd([f"{HOST}:{member['client_port']}"]).call("maintenance/status", {})
        except ConnectionError:
            continue
        if status.get("leader") and status["leader"] == status.get("header", {}).get("member_id"):
            return member["name"]
    return None


def patroni_cluster(topo: Topology) -> list[dict[str, Any]]:
    """Members as Patroni's REST API reports them (from any node that answers)."""
    for node in topo.pg:
        status, body = http_json(f"http://{HOST}:{node['api_port']}/cluster")
        if status == 200 and body:
            return body.get("members", [])
    return []


def leader(topo: Topology) -> dict[str, Any] | None:
    members = patroni_cluster(topo)
    name = next((m["name"] for m in members if m["role"] == "leader" and m["state"] == "running"), None)
    return next((n for n in topo.pg if n["name"] == name), None)


def sync_standby(topo: Topology) -> dict[str, Any] | None:
    members = patroni_cluster(topo)
    name = next((m["name"] for m in members if m["role"] == "sync_standby"), None)
    return next((n for n in topo.pg if n["name"] == name), None)


def resp(*args: str) -> bytes:
    return (f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)).encode()


def redis_cmd(port: int, *args: str, password: str = "", timeout: float = 1.0) -> str:
    """One command over RESP, standard library only; '' when the server does not answer. With a
    password, AUTH first (its +OK is read and dropped)."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as sock:
            if password:
                sock.sendall(resp("AUTH", password))
                if not sock.recv(256).startswith(b"+OK"):
                    return ""
            sock.sendall(resp(*args))
            chunks = b""
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                chunks += data
                if reply_complete(chunks):
                    break
            return chunks.decode(errors="replace")
    except OSError:
        return ""


def reply_complete(data: bytes) -> bool:
    if data[:1] in (b"+", b"-", b":"):
        return data.endswith(b"\r\n")
    if data[:1] == b"$":
        head, _, rest = data.partition(b"\r\n")
        return int(head[1:]) < 0 or len(rest) >= int(head[1:]) + 2
    if data[:1] == b"*":
        return data.endswith(b"\r\n") and len(data) > 4  # multi-bulk replies: short ones only
    return False


def redis_master_port(topo: Topology) -> int | None:
    """The master as the Sentinels see it (the first that answers)."""
    for s in topo.sentinels:
        reply = redis_cmd(
            s["port"], "SENTINEL", "get-master-addr-by-name", MASTER_NAME, password=topo.redis_password
        )
        lines = reply.split("\r\n")
        if reply.startswith("*2") and len(lines) >= 5:
            return int(lines[4])
    return None


def redis_health(topo: Topology) -> dict[str, Any]:
    master = redis_master_port(topo)
    info = redis_cmd(master, "INFO", "replication", password=topo.redis_password) if master else ""
    replicas = info.count("state=online")
    sentinels = sum(
        1
        for s in topo.sentinels
        if redis_cmd(s["port"], "PING", password=topo.redis_password).startswith("+PONG")
    )
    return {
        "master_port": master,
        "online_replicas": replicas,
        "sentinels": sentinels,
        "ok": bool(master) and "role:master" in info and replicas == 2 and sentinels == 3,
    }


def apps_health(topo: Topology) -> dict[str, bool]:
    return {a["name"]: http_json(f"http://{HOST}:{a['port']}/healthz")[0] == 200 for a in topo.apps}


def pg_healthy(topo: Topology, members: list[dict[str, Any]] | None = None) -> bool:
    """One running leader, one streaming synchronous standby, one streaming replica."""
    members = patroni_cluster(topo) if members is None else members
    roles = sorted(m["role"] for m in members if m["state"] in ("running", "streaming"))
    replicas_streaming = [m for m in members if m["role"] != "leader" and m["state"] == "streaming"]
    return roles == ["leader", "replica", "sync_standby"] and len(replicas_streaming) == 2


def health(topo: Topology) -> dict[str, Any]:
    members = patroni_cluster(topo)
    pg_ok = pg_healthy(topo, members)
    etcd = etcd_health(topo)
    redis = redis_health(topo)
    apps = apps_health(topo)
    front = http_json(f"http://{HOST}:{topo.haproxy_port}/healthz")[0] == 200
    watches = {w["name"]: alive(topo.pids.get(w["name"])) for w in topo.watches}
    workers = {workers_of(a): alive(topo.pids.get(workers_of(a))) for a in topo.apps}
    return {
        "ok": pg_ok
        and all(etcd.values())
        and redis["ok"]
        and all(apps.values())
        and front
        and all(watches.values())
        and all(workers.values()),
        "postgres": {m["name"]: f"{m['role']}/{m['state']}/tl{m.get('timeline')}" for m in members},
        "etcd": etcd,
        "redis": redis,
        "apps": apps,
        "haproxy": front,
        "leader_watches": watches,
        "workers": workers,
    }


def wait_for(what: str, check, seconds: float, interval: float = 0.25) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise RuntimeError(f"{what}: not within {seconds:.0f} s")


def wait_healthy(topo: Topology, seconds: float = 120) -> dict[str, Any]:
    last: dict[str, Any] = {}

    def check() -> bool:
        nonlocal last
        last = health(topo)
        return last["ok"]

    try:
        wait_for("cluster healthy", check, seconds, interval=0.5)
    except RuntimeError as exc:
        raise RuntimeError(f"{exc}; last health: {json.dumps(last)}") from None
    return last


# ---------------------------------------------------------------------------------------------
# start, stop


def psql(topo: Topology, node: dict[str, Any], database: str, sql: str) -> str:
    env = {**os.environ, "PGPASSWORD": topo.password, "PGCONNECT_TIMEOUT": "3"}
    done = subprocess.run(
        [
            f"{pg_bin_dir()}/psql",
            "-h",
            HOST,
            "-p",
            str(node["pg_port"]),
            "-U",
            "postgres",
            "-d",
            database,
            "-qtAX",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise RuntimeError(f"psql on {node['name']}: {done.stderr.strip()}")
    return done.stdout.strip()


def prepare_database(topo: Topology) -> None:
    """The app's database with PostGIS, on the leader, owned by the app's role (not a superuser:
    the lease applies to it); migrations through the multi-host URL as that role."""
    primary = wait_for("a Patroni leader", lambda: leader(topo), 90)
    if topo.app_password and not psql(
        topo, primary, "postgres", f"select 1 from pg_roles where rolname='{APP_ROLE}'"
    ):
        psql(topo, primary, "postgres", f"create role {APP_ROLE} login password '{topo.app_password}'")
    owner = f" owner {APP_ROLE}" if topo.app_password else ""
    if not psql(topo, primary, "postgres", f"select 1 from pg_database where datname='{DATABASE}'"):
        psql(topo, primary, "postgres", f"create database {DATABASE}{owner}")
    psql(
        topo,
        primary,
        DATABASE,
        "create extension if not exists postgis; create extension if not exists pg_trgm;",
    )
    env = {**os.environ, **topo.app_env()}
    done = subprocess.run(
        [str(APP_PYTHON), "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"migrate failed:\n{done.stderr[-3000:]}")


def start(directory: Path, apps: int) -> Topology:
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)  # the postgres user must reach its node directories inside
    topo = plan(directory, apps)
    if LEASE_S > 0 and (module := build_lease_module(topo.path / "d120_lease.so")):
        topo.lease_module = str(module)
    topo.save()
    for member in topo.etcd:
        start_etcd(topo, member)
    wait_for("etcd quorum", lambda: sum(etcd_health(topo).values()) == 3, 30)
    # The first node bootstraps the cluster; the others clone from it once it leads.
    start_patroni(topo, topo.pg[0])
    wait_for("the first Patroni node leading", lambda: leader(topo), 90)
    import backup  # ops/ha/backup.py: archiving into the second site's repository starts here

    backup.create_stanza(topo)
    for node in topo.pg[1:]:
        start_patroni(topo, node)
    for node in topo.redis:
        start_redis(topo, node)
    # Strict synchronous mode: no write commits until a standby streams and is recorded as sync.
    wait_for("a synchronous standby", lambda: pg_healthy(topo), 120, interval=0.5)
    for watch in topo.watches:
        start_watch(topo, watch)
    for node in topo.sentinels:
        start_sentinel(topo, node)
    prepare_database(topo)
    for node in topo.apps:
        start_app(topo, node)
    start_haproxy(topo)
    write_env(topo)
    wait_healthy(topo)
    return topo


def write_env(topo: Topology) -> None:
    lines = [f"export {k}='{v}'" for k, v in topo.app_env().items()]
    lines.append(f"export HA_FRONT='http://{HOST}:{topo.haproxy_port}'")
    (topo.path / "env").write_text("\n".join(lines) + "\n")


# Stop order: what depends on others first.
STOP_ORDER = ("haproxy", "app", "watch", "sentinel", "redis", "pg", "etcd")


def stop(topo: Topology) -> list[str]:
    """Stop every process we started, by its pid, even frozen ones; then any postmaster that
    outlived its Patroni (it runs in its own session). Returns what was stopped."""
    stopped = []
    names = sorted(topo.pids, key=lambda n: next(k for k, p in enumerate(STOP_ORDER) if n.startswith(p)))
    for name in names:
        pid = topo.pids[name]
        if alive(pid):
            if name.startswith("pg"):
                signal_postgres(topo, next(n for n in topo.pg if n["name"] == name), signal.SIGCONT)
            stop_pid(pid, 30 if name.startswith("pg") else 10)
            stopped.append(name)
    for node in topo.pg:
        pid = postmaster_pid(topo, node)
        if pid:
            signal_postgres(topo, node, signal.SIGCONT)
            signal_pid(pid, signal.SIGQUIT)  # immediate shutdown: the node is being thrown away
            if not wait_gone(pid, 10):
                signal_postgres(topo, node, signal.SIGKILL)
            stopped.append(f"{node['name']}-postmaster")
    remove_cgroups(topo)
    return stopped


def remove_cgroups(topo: Topology) -> None:
    """The machines' cgroups, once their processes are gone (a dying one may hold it a moment)."""
    parent = machines_cgroup(topo)
    if parent is None or not parent.exists():
        return
    for procs in parent.glob("*/cgroup.procs"):  # only ever processes the drill started there
        for pid in procs.read_text().split():
            signal_pid(int(pid), signal.SIGKILL)
            signal_pid(int(pid), signal.SIGCONT)
    for _ in range(50):
        for child in [p for p in parent.iterdir() if p.is_dir()]:
            with suppress(OSError):
                child.rmdir()
        with suppress(OSError):
            parent.rmdir()
        if not parent.exists():
            return
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("--dir", type=Path, help="where everything lives (start: a new temporary directory)")
    parser.add_argument("--apps", type=int, default=2, help="daphne app nodes (default 2)")
    args = parser.parse_args()
    if args.command == "start":
        directory = args.dir or Path(tempfile.mkdtemp(prefix="d120-ha-"))
        try:
            topo = start(directory, args.apps)
        except BaseException:
            if (directory / "topology.json").exists():
                log(f"start failed; stopped {stop(Topology.load(directory))}")
            raise
        log(f"up: front http://{HOST}:{topo.haproxy_port}/  env: {directory}/env")
        print(directory)
        return
    if not args.dir:
        sys.exit("ha: --dir is required")
    topo = Topology.load(args.dir)
    if args.command == "status":
        print(json.dumps(health(topo), indent=1))
    else:
        log(f"stopped: {', '.join(stop(topo)) or 'nothing was running'}")


if __name__ == "__main__":
    main()
