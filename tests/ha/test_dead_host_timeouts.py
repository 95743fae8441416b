"""Dead hosts, not refused ports: with the app's libpq settings (dispatch/settings.py
DB_TCP_TIMEOUTS, connect_timeout), neither a new connection nor an in-flight query to a host that
stopped answering waits longer than the failover budget.

The blackhole is real and private: a network namespace of the test's own (its loopback only), a
PostgreSQL look-alike in it, and an nftables rule in that namespace that drops every packet to
the server's port. Nothing outside the namespace is touched; it is deleted afterwards.
"""

import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest
from django.conf import settings

# The failover budget for one database connection (ops/ha/RUNBOOK.md, "the timing budget").
CONNECT_BUDGET_S = 4.0
IN_FLIGHT_BUDGET_S = 7.0

# Runs inside the namespace: a server that answers libpq's startup and then nothing, a
# connection made while the path is open, then the path dropped.
SCRIPT = r"""
import json, socket, struct, subprocess, sys, threading, time
import psycopg

options = json.loads(sys.argv[1])

def message(kind, payload=b""):
    return kind + struct.pack("!i", len(payload) + 4) + payload

def serve(listener):
    while True:
        conn, _ = listener.accept()
        size = struct.unpack("!i", conn.recv(4))[0]
        conn.recv(size - 4)
        params = b"".join(
            message(b"S", k + b"\0" + v + b"\0")
            for k, v in ((b"server_version", b"15.0"), (b"client_encoding", b"UTF8"),
                         (b"standard_conforming_strings", b"on"), (b"DateStyle", b"ISO, MDY"),
                         (b"integer_datetimes", b"on"), (b"TimeZone", b"UTC"))
        )
        conn.sendall(message(b"R", struct.pack("!i", 0)) + params
                     + message(b"K", struct.pack("!ii", 1, 1)) + message(b"Z", b"I"))
        threading.Thread(target=lambda c=conn: c.recv(1 << 16) and time.sleep(3600), daemon=True).start()

listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(16)
port = listener.getsockname()[1]
threading.Thread(target=serve, args=(listener,), daemon=True).start()

def connect():
    return psycopg.connect(host="127.0.0.1", port=port, user="x", dbname="x", sslmode="disable",
                           gssencmode="disable", **options)

conn = connect()  # the path is open: connected
for rule in ("add table inet blackhole",
             "add chain inet blackhole out { type filter hook output priority 0 ; }",
             f"add rule inet blackhole out tcp dport {port} drop"):
    subprocess.run(["nft", *rule.split()], check=True)
result = {}
started = time.monotonic()
try:
    conn.execute("select 1")
    result["in_flight"] = "answered"
except psycopg.OperationalError as exc:
    result["in_flight"] = str(exc).strip()[:200]
result["in_flight_s"] = round(time.monotonic() - started, 2)
started = time.monotonic()
try:
    connect()
    result["connect"] = "connected"
except psycopg.OperationalError as exc:
    result["connect"] = str(exc).strip()[:200]
result["connect_s"] = round(time.monotonic() - started, 2)
print(json.dumps(result))
"""


@pytest.fixture
def namespace():
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("nft"):
        pytest.skip("needs root, iproute2 and nftables (ops/local/bootstrap.sh installs nftables)")
    name = f"d120ha-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


def app_libpq_options() -> dict[str, str]:
    """The app's own connection options, as settings built them from DATABASE_URL, with the
    multi-host URL's connect_timeout of an HA app node (ops/ha/RUNBOOK.md)."""
    options = {k: v for k, v in settings.DATABASES["default"]["OPTIONS"].items() if k != "pool"}
    return {**options, "connect_timeout": "2"}


def test_the_settings_bound_every_connection_to_a_dead_host():
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["keepalives"] == "1"
    assert int(options["tcp_user_timeout"]) <= IN_FLIGHT_BUDGET_S * 1000
    assert (
        int(options["keepalives_idle"])
        + int(options["keepalives_interval"]) * int(options["keepalives_count"])
        <= IN_FLIGHT_BUDGET_S
    )


def test_a_blackholed_server_fails_fast_in_flight_and_on_connect(namespace):
    done = subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, "-c", SCRIPT, json.dumps(app_libpq_options())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # The query was sent into the void: no answer, no refusal; the kernel gives up on it.
    assert result["in_flight"] != "answered"
    assert 2.0 <= result["in_flight_s"] <= IN_FLIGHT_BUDGET_S, result
    # A new connection: its handshake is dropped; connect_timeout ends the wait.
    assert result["connect"] != "connected"
    assert result["connect_s"] <= CONNECT_BUDGET_S, result
