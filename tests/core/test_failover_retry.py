"""A request whose database connection breaks (a failover) is retried only when that is safe:
a keyed write runs again on a fresh connection and is applied once; a write without a key is
not retried. A connection found dead before the view (the sign-in checks read first) is replaced
for any request, since nothing was written yet. The connections are really terminated by
PostgreSQL (pg_terminate_backend), at the moment the incident is written."""

import contextlib
import os
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.db.models.signals import pre_save

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


@contextlib.contextmanager
def connection_dies_at_the_write():
    """The first time an incident is about to be written, PostgreSQL ends this process's sessions:
    the INSERT meets a dead connection, as a write caught by the primary's death would."""
    killed = []
    # A pool of its own for the test: the one the earlier tests' threads filled with idle
    # connections would hand out one dead connection per attempt until the retries run out.
    with contextlib.suppress(AttributeError):
        connection.close_pool()

    def kill(sender, **kwargs) -> None:
        if not killed:
            killed.append(terminate_our_connections())

    pre_save.connect(kill, sender=Incident, dispatch_uid="test-failover-kill")
    try:
        yield killed
    finally:
        pre_save.disconnect(dispatch_uid="test-failover-kill", sender=Incident)


@pytest.mark.django_db(transaction=True)
def test_a_keyed_write_is_retried_on_a_fresh_connection_and_applied_once(client, world, caplog):
    client.force_login(world.alice)
    with connection_dies_at_the_write() as killed:
        response = post(client, f"drill-{uuid.uuid4()}")
    assert killed and killed[0] >= 1
    assert response.status_code == 201, response.content
    assert Incident.objects.count() == 1
    assert any("retrying POST /api/incidents" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_a_write_without_a_key_is_not_retried(client, world):
    client.force_login(world.alice)
    with connection_dies_at_the_write() as killed:
        response = post(client, None)
    assert killed and killed[0] >= 1
    assert response.status_code == 500
    discard_connection()  # the test's own connection and the pool's were terminated too
    assert Incident.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("key", [None, "drill-before-the-view"])
def test_a_connection_dead_before_the_view_is_replaced_for_any_request(client, world, caplog, key):
    client.force_login(world.alice)
    client.get("/healthz")  # the session is saved; the next request starts on a pool connection
    assert terminate_our_connections() >= 1
    response = post(client, key)
    assert response.status_code == 201, response.content
    assert Incident.objects.count() == 1
    assert any("retrying a read before the view" in r.getMessage() for r in caplog.records)


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
