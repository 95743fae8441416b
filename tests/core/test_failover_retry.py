"""A request whose database connection breaks (a failover) is retried only when that is safe:
a keyed write runs again on a fresh connection and is applied once; a write without a key is
not retried. The connections are really terminated by PostgreSQL (pg_terminate_backend)."""

import contextlib
import os
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from dispatch.core.failover import discard_connection, is_safe_to_retry
from dispatch.models import Incident

NEW = {"caller_number": "+8613800000121", "lon": 119.6, "lat": 24.9}


def own_client_ports() -> set[int]:
    """Local TCP ports of this process's sockets (Linux /proc): our connections to PostgreSQL, so
    the test ends only its own sessions, never another test run's on the same server."""
    inodes = set()
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def terminate_our_connections() -> int:
    """From a new connection, end every other session this process holds on the test database:
    the pool's idle connections now point at a dead backend, as after a primary dies."""
    ports = own_client_ports()
    params = connection.get_connection_params()
    for name in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(name, None)
    with psycopg.connect(**params, autocommit=True) as killer:
        rows = killer.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND client_port = ANY(%s)",
            (list(ports),),
        ).fetchall()
    return len(rows)


def post(client, key: str | None):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post("/api/incidents", NEW, content_type="application/json", headers=headers)


@pytest.mark.django_db(transaction=True)
def test_a_keyed_write_is_retried_on_a_fresh_connection_and_applied_once(client, world, caplog):
    client.force_login(world.alice)
    client.get("/healthz")  # the session is saved; the next request starts on a pool connection
    assert terminate_our_connections() >= 1
    response = post(client, f"drill-{uuid.uuid4()}")
    assert response.status_code == 201, response.content
    assert Incident.objects.count() == 1
    assert any("retrying POST /api/incidents" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_a_write_without_a_key_is_not_retried(client, world):
    client.force_login(world.alice)
    assert terminate_our_connections() >= 1
    response = post(client, None)
    assert response.status_code == 500
    discard_connection()  # the test's own connection and the pool's were terminated too
    assert Incident.objects.count() == 0


def test_what_counts_as_safe(rf):
    key = {"HTTP_IDEMPOTENCY_KEY": "k-12345678"}
    assert is_safe_to_retry(rf.get("/api/incidents"))
    assert is_safe_to_retry(rf.post("/api/incidents", **key))
    assert is_safe_to_retry(
        rf.post("/api/crew/status", {"idempotency_key": "k-1"}, content_type="application/json")
    )
    # A tracker fix writes on GET and its duplicate check is not safe against a concurrent resend.
    assert not is_safe_to_retry(rf.get("/api/osmand?id=x&lat=1&lon=2"))
    assert not is_safe_to_retry(rf.post("/api/incidents"))
    assert not is_safe_to_retry(rf.post("/api/incidents/1/dispatch", **key))  # ignores keys
