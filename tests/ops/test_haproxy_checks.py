"""HAProxy's checks of the app nodes (ops/ha/templates/haproxy.cfg) in a real HAProxy: a node that
is only slow to answer /healthz stays in the rotation (the surge bench saw a busy node evicted and
its sessions cut), while a killed node is out within about 1 s and a frozen one within about
4.3 s (ops/ha/RUNBOOK.md, "The app nodes behind HAProxy"); and when no node passes its checks,
requests still reach the nodes that answer."""

import shutil
import socket
import subprocess
import sys
import threading
import time
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings

sys.path.insert(0, str(Path(settings.BASE_DIR) / "ops" / "ha"))
from cluster import app_server_lines, render  # noqa: E402

from tests.support.ports import free_ports  # noqa: E402

RATES = {"sign_in_per_minute": 100, "location_link_per_minute": 100, "tracker_per_minute": 100}


class Node(ThreadingHTTPServer):
    """An app node whose /healthz answers after `delay` seconds, or never when `frozen`; any
    other path answers at once with the node's name."""

    daemon_threads = True
    delay = 0.0
    frozen = False
    name = ""


class Health(BaseHTTPRequestHandler):
    server: Node

    def do_GET(self) -> None:
        if self.server.frozen:
            time.sleep(60)  # a stopped process: the kernel took the connection, nobody answers
            return
        body = b"ok"
        if self.path == "/healthz":
            time.sleep(self.server.delay)
        else:
            body = self.server.name.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def states(sock_path: Path) -> dict[str, str]:
    """Each app node's state as HAProxy sees it (UP, DOWN, UP 1/3, ...)."""
    with socket.socket(socket.AF_UNIX) as client:
        client.connect(str(sock_path))
        client.sendall(b"show stat\n")
        data = b""
        while chunk := client.recv(65536):
            data += chunk
    rows = [line.split(",") for line in data.decode().splitlines() if line.startswith("daphne,app")]
    return {row[1]: row[17] for row in rows}


@pytest.fixture
def haproxy_over(tmp_path):
    """HAProxy with the topology's configuration in front of app nodes of the given names:
    (nodes by name, HAProxy's admin socket, its port)."""
    binary = shutil.which("haproxy")
    if not binary:
        pytest.skip("needs Debian's haproxy (ops/local/bootstrap.sh installs it)")
    started: list[tuple[subprocess.Popen, dict[str, Node]]] = []

    def start(*names: str) -> tuple[dict[str, Node], Path, int]:
        nodes = {}
        for name in names:
            node = Node(("127.0.0.1", 0), Health)
            node.name = name
            threading.Thread(target=node.serve_forever, daemon=True).start()
            nodes[name] = node
        (port,) = free_ports(1)
        servers = app_server_lines([(n, node.server_address[1]) for n, node in nodes.items()])
        config = render(
            "haproxy.cfg",
            tmp_path / "haproxy.cfg",
            dir=tmp_path,
            host="127.0.0.1",
            port=port,
            servers=servers,
            **RATES,
        )
        process = subprocess.Popen(
            [binary, "-db", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        started.append((process, nodes))
        sock = tmp_path / "haproxy.sock"
        deadline = time.monotonic() + 20
        while True:
            try:
                if set(states(sock).values()) == {"UP"} and len(states(sock)) == len(names):
                    return nodes, sock, port
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                said = process.stderr.read().decode() if process.stderr else ""
                pytest.fail(f"haproxy did not start: {said}")
            time.sleep(0.1)

    yield start
    for process, nodes in started:
        process.terminate()
        process.wait(timeout=10)
        for node in nodes.values():
            node.shutdown()
            node.server_close()


def down_after(sock: Path, name: str, limit: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if states(sock)[name].startswith("DOWN"):
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def test_a_slow_node_stays_a_killed_one_is_out_in_about_1_s_a_frozen_one_in_about_4_s(haproxy_over):
    nodes, sock, _port = haproxy_over("app1", "app2", "app3")
    # app1 busy: /healthz takes 0.7 s (the old checks gave up after 400 ms, twice, and evicted it).
    nodes["app1"].delay = 0.7
    seen = set()
    until = time.monotonic() + 6
    while time.monotonic() < until:
        seen.add(states(sock)["app1"])
        time.sleep(0.1)
    assert not any(state.startswith("DOWN") for state in seen), seen

    # app2 killed: connections refused at once.
    nodes["app2"].shutdown()
    nodes["app2"].server_close()
    killed = down_after(sock, "app2", 5)
    assert killed is not None and killed < 2.0, killed

    # app3 frozen: connections taken, never answered; out after 3 checks of 1 s each.
    nodes["app3"].frozen = True
    frozen = down_after(sock, "app3", 10)
    assert frozen is not None and 2.5 < frozen < 6.0, frozen
    assert states(sock)["app1"] == "UP"


def served_by(port: int) -> str:
    """Which node answered a request through HAProxy ("503" when HAProxy answered itself)."""
    connection = HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/api/calls")
        response = connection.getresponse()
        body = response.read().decode()
        return body if response.status == 200 else str(response.status)
    finally:
        connection.close()


def test_nodes_failing_every_check_still_serve_and_a_dead_one_is_passed_over(haproxy_over):
    nodes, sock, port = haproxy_over("app1", "app2")
    assert {served_by(port) for _ in range(6)} == {"app1", "app2"}  # the checked servers, in turn
    # Both overloaded: the probe takes longer than the check's 1 s on each, so both are out.
    for node in nodes.values():
        node.delay = 1.5
    assert down_after(sock, "app1", 10) is not None and down_after(sock, "app2", 10) is not None
    # Before the backups, HAProxy answered 503 "No server is available" here.
    assert {served_by(port) for _ in range(6)} == {"app1", "app2"}
    # One of them then dies: its backup refuses the connection, and HAProxy retries elsewhere.
    nodes["app1"].shutdown()
    nodes["app1"].server_close()
    answers = [served_by(port) for _ in range(10)]
    assert answers == ["app2"] * 10, answers
