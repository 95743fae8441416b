"""The leader watch (ops/ha/leader_watch.py) against a real etcd member and real sockets: it ends
the lease of a leader that is silent everywhere, and of no leader that shows any sign of life.

The whole failover (Patroni promoting the standby, the app finding it) is `make drill`'s job;
this checks the verdict itself, quickly, in every `make test`.
"""

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

sys.path.insert(0, str(Path(settings.BASE_DIR) / "ops" / "ha"))
import leader_watch  # noqa: E402
from leader_watch import Etcd, b64, postgres_answers, watch_once  # noqa: E402

PREFIX = "/service/test/"


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


@pytest.fixture(scope="module")
def etcd(tmp_path_factory):
    binary = shutil.which("etcd")
    if not binary:
        pytest.skip("needs Debian's etcd-server (ops/local/bootstrap.sh installs it)")
    client, peer = free_ports(2)
    home = tmp_path_factory.mktemp("etcd")
    process = subprocess.Popen(
        [
            binary,
            "--name=t",
            f"--data-dir={home / 'data'}",
            f"--listen-client-urls=http://127.0.0.1:{client}",
            f"--advertise-client-urls=http://127.0.0.1:{client}",
            f"--listen-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-cluster=t=http://127.0.0.1:{peer}",
            "--log-level=error",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api = Etcd([f"127.0.0.1:{client}"])
    deadline = time.monotonic() + 20
    while True:
        try:
            api.call("kv/range", {"key": b64("x")})
            break
        except ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("etcd did not start")
            time.sleep(0.1)
    yield api
    process.terminate()
    process.wait(timeout=10)


def make_leader(etcd: Etcd, api_url: str, conn_url: str, ttl: int = 20) -> str:
    """What Patroni writes: a lease, the leader key and the member key on it."""
    lease = etcd.call("lease/grant", {"TTL": ttl})["ID"]
    member = json.dumps({"api_url": api_url, "conn_url": conn_url})
    etcd.call("kv/put", {"key": b64(f"{PREFIX}members/pg1"), "value": b64(member), "lease": lease})
    etcd.call("kv/put", {"key": b64(f"{PREFIX}leader"), "value": b64("pg1"), "lease": lease})
    return lease


def closed_port() -> int:
    return free_ports(1)[0]


def dead_urls() -> tuple[str, str]:
    return (
        f"http://127.0.0.1:{closed_port()}/patroni",
        f"postgres://postgres@127.0.0.1:{closed_port()}/postgres",
    )


def wait_silent(seconds: float) -> None:
    """The watch reads whole seconds from etcd; wait until it can see this much silence."""
    time.sleep(seconds + 1.2)


@pytest.fixture
def frozen_listener():
    """A port whose owner accepts nothing: the kernel completes the handshake, no byte comes back
    (a SIGSTOPped postmaster looks exactly like this)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def patroni_api():
    """A REST API that answers, as a live Patroni does (even a 503 means alive)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(503)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/patroni"
    server.shutdown()


def test_postgres_probe_needs_an_answer_not_just_a_connect(frozen_listener):
    db = connection.settings_dict
    host, port = db["HOST"].split(",")[0], str(db["PORT"]).split(",")[0]
    assert postgres_answers(f"postgres://x@{host}:{port}/x")
    assert not postgres_answers(f"postgres://x@127.0.0.1:{frozen_listener}/x", timeout=0.3)
    assert not postgres_answers(f"postgres://x@127.0.0.1:{closed_port()}/x")


def test_a_silent_leader_loses_its_lease_and_its_keys(etcd):
    lease = make_leader(etcd, *dead_urls())
    assert watch_once(etcd, PREFIX, dead_after=1) is None  # just refreshed: alive
    wait_silent(1)
    done = watch_once(etcd, PREFIX, dead_after=1)
    assert done and f"lease {lease}" in done and "pg1" in done
    assert etcd.get(f"{PREFIX}leader") is None
    assert etcd.get(f"{PREFIX}members/pg1") is None  # the dead member leaves the cluster view


def test_a_leader_that_keeps_its_lease_alive_keeps_it(etcd):
    lease = make_leader(etcd, *dead_urls())
    for _ in range(3):
        time.sleep(0.9)
        etcd.call("lease/keepalive", {"ID": lease})
        assert watch_once(etcd, PREFIX, dead_after=1) is None
    assert leader_watch.current_leader(etcd, PREFIX).lease == lease


def test_any_answer_from_the_leader_keeps_it(etcd, patroni_api, frozen_listener):
    # Silent in etcd but its REST API answers: Patroni itself is alive and decides.
    lease = make_leader(etcd, patroni_api, f"postgres://postgres@127.0.0.1:{frozen_listener}/postgres")
    wait_silent(1)
    assert watch_once(etcd, PREFIX, dead_after=1) is None
    # Silent in etcd, its API dead, but PostgreSQL answers: still not ours to end.
    db = connection.settings_dict
    pg = f"postgres://x@{db['HOST'].split(',')[0]}:{str(db['PORT']).split(',')[0]}/x"
    etcd.call("lease/revoke", {"ID": lease})
    make_leader(etcd, dead_urls()[0], pg)
    wait_silent(1)
    assert watch_once(etcd, PREFIX, dead_after=1) is None
    assert etcd.get(f"{PREFIX}leader") is not None


def test_a_frozen_leader_is_judged_within_its_probe_timeouts(etcd, frozen_listener):
    make_leader(
        etcd,
        f"http://127.0.0.1:{frozen_listener}/patroni",
        f"postgres://postgres@127.0.0.1:{frozen_listener}/postgres",
    )
    wait_silent(1)
    started = time.monotonic()
    assert watch_once(etcd, PREFIX, dead_after=1)
    assert time.monotonic() - started < leader_watch.PROBE_TIMEOUT_S + 0.9  # the probes run at once
    assert etcd.get(f"{PREFIX}leader") is None
