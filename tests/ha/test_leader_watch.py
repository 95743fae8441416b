"""The leader watch (ops/ha/leader_watch.py) against a real etcd member and real sockets: it ends
the lease of a leader that is silent everywhere, and of no leader that shows any sign of life.

The whole failover (Patroni promoting the standby, the app finding it) is `make drill`'s job;
this checks the verdict itself, quickly, in every `make test`.
"""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import leader_watch
import pytest
from django.db import connection
from leader_watch import postgres_answers, watch_once

from tests.support.ports import free_ports

from .conftest import PREFIX, dead_urls, make_leader, wait_silent

# One watch deciding alone after 1 s: the verdict itself. Quorum, fencing budget and pause are
# tests/ha/test_leader_watch_quorum.py's.
ALONE = {"dead_after": 1, "quorum": 1, "revoke_after": 1}


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
    assert not postgres_answers(f"postgres://x@127.0.0.1:{free_ports(1)[0]}/x")


def test_a_silent_leader_loses_its_lease_and_its_keys(etcd):
    lease = make_leader(etcd, *dead_urls())
    assert watch_once(etcd, PREFIX, **ALONE) is None  # just refreshed: alive
    wait_silent(1)
    done = watch_once(etcd, PREFIX, **ALONE)
    assert done and f"lease {lease}" in done and "pg1" in done
    assert etcd.get(f"{PREFIX}leader") is None
    assert etcd.get(f"{PREFIX}members/pg1") is None  # the dead member leaves the cluster view


def test_a_leader_that_keeps_its_lease_alive_keeps_it(etcd):
    lease = make_leader(etcd, *dead_urls())
    for _ in range(3):
        time.sleep(0.9)
        etcd.call("lease/keepalive", {"ID": lease})
        assert watch_once(etcd, PREFIX, **ALONE) is None
    assert leader_watch.current_leader(etcd, PREFIX).lease == lease


def test_any_answer_from_the_leader_keeps_it(etcd, patroni_api, frozen_listener):
    # Silent in etcd but its REST API answers: Patroni itself is alive and decides.
    lease = make_leader(etcd, patroni_api, f"postgres://postgres@127.0.0.1:{frozen_listener}/postgres")
    wait_silent(1)
    assert watch_once(etcd, PREFIX, **ALONE) is None
    # Silent in etcd, its API dead, but PostgreSQL answers: still not ours to end.
    db = connection.settings_dict
    pg = f"postgres://x@{db['HOST'].split(',')[0]}:{str(db['PORT']).split(',')[0]}/x"
    etcd.call("lease/revoke", {"ID": lease})
    make_leader(etcd, dead_urls()[0], pg)
    wait_silent(1)
    assert watch_once(etcd, PREFIX, **ALONE) is None
    assert etcd.get(f"{PREFIX}leader") is not None


def test_a_frozen_leader_is_judged_within_its_probe_timeouts(etcd, frozen_listener):
    make_leader(
        etcd,
        f"http://127.0.0.1:{frozen_listener}/patroni",
        f"postgres://postgres@127.0.0.1:{frozen_listener}/postgres",
    )
    wait_silent(1)
    started = time.monotonic()
    assert watch_once(etcd, PREFIX, **ALONE)
    assert time.monotonic() - started < leader_watch.PROBE_TIMEOUT_S + 0.9  # the probes run at once
    assert etcd.get(f"{PREFIX}leader") is None
