"""A real single-member etcd for the leader watch's tests, and what Patroni writes into it."""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

sys.path.insert(0, str(Path(settings.BASE_DIR) / "ops" / "ha"))
from leader_watch import Etcd, b64  # noqa: E402

from tests.support.ports import free_ports  # noqa: E402

PREFIX = "/service/test/"


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


@pytest.fixture
def clean(etcd):
    """No leader, verdicts or config left by the test before."""
    for prefix in (PREFIX, PREFIX.rstrip("/") + "-leader-watch/"):
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        etcd.call("kv/deleterange", {"key": b64(prefix), "range_end": b64(end)})
    return etcd


def make_leader(etcd: Etcd, api_url: str, conn_url: str, ttl: int = 20, name: str = "pg1") -> str:
    """What Patroni writes: a lease, the leader key and the member key on it."""
    lease = etcd.grant(ttl)
    member = json.dumps({"api_url": api_url, "conn_url": conn_url})
    etcd.put(f"{PREFIX}members/{name}", member, lease)
    etcd.put(f"{PREFIX}leader", name, lease)
    return lease


def dead_urls() -> tuple[str, str]:
    api, pg = free_ports(2)
    return f"http://127.0.0.1:{api}/patroni", f"postgres://postgres@127.0.0.1:{pg}/postgres"


def wait_silent(seconds: float) -> None:
    """The watch reads whole seconds from etcd; wait until it can see this much silence."""
    time.sleep(seconds + 1.2)
