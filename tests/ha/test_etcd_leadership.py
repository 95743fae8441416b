"""The primary's watch keeps etcd's leadership off its own machine (ops/ha/leader_watch.py,
etcd_leadership_off): a new etcd leader restarts every lease's countdown, so losing etcd's leader
together with the primary would hide the primary's silence from the other watches."""

import shutil
import subprocess
import time
from contextlib import suppress

import pytest
from leader_watch import Etcd, Fence, Watch, b64, silence

from tests.support.ports import free_ports

from .conftest import PREFIX, dead_urls, make_leader


@pytest.fixture(scope="module")
def trio(tmp_path_factory):
    """Three etcd members with the HA topology's timings (ops/ha/templates/etcd.yml)."""
    binary = shutil.which("etcd")
    if not binary:
        pytest.skip("needs Debian's etcd-server (ops/local/bootstrap.sh installs it)")
    ports = free_ports(6)
    names = ["e1", "e2", "e3"]
    clients = {n: ports[k] for k, n in enumerate(names)}
    peers = {n: ports[3 + k] for k, n in enumerate(names)}
    cluster = ",".join(f"{n}=http://127.0.0.1:{peers[n]}" for n in names)
    home = tmp_path_factory.mktemp("etcd-trio")
    processes = [
        subprocess.Popen(
            [
                binary,
                f"--name={n}",
                f"--data-dir={home / n}",
                f"--listen-client-urls=http://127.0.0.1:{clients[n]}",
                f"--advertise-client-urls=http://127.0.0.1:{clients[n]}",
                f"--listen-peer-urls=http://127.0.0.1:{peers[n]}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peers[n]}",
                f"--initial-cluster={cluster}",
                "--initial-cluster-state=new",
                "--heartbeat-interval=100",
                "--election-timeout=1000",
                "--pre-vote=true",
                "--log-level=error",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in names
    ]
    endpoints = [f"127.0.0.1:{clients[n]}" for n in names]
    try:
        deadline = time.monotonic() + 30
        while etcd_leader(endpoints) is None:
            if time.monotonic() > deadline:
                pytest.fail("the three etcd members elected no leader")
            time.sleep(0.2)
        yield endpoints
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)


def etcd_leader(endpoints: list[str]) -> str | None:
    """The endpoint of the member that leads etcd, as that member itself says."""
    for endpoint in endpoints:
        with suppress(ConnectionError):
            status = Etcd([endpoint]).call_on(endpoint, "maintenance/status", {})
            if str(status.get("leader")) == str(status["header"]["member_id"]):
                return endpoint
    return None


def clear(etcd: Etcd) -> None:
    end = PREFIX[:-1] + chr(ord(PREFIX[-1]) + 1)
    etcd.call("kv/deleterange", {"key": b64(PREFIX), "range_end": b64(end)})


def primary_watch(etcd: Etcd, member: str, local: str, tmp_path) -> Watch:
    """The watch on `member`'s machine, whose etcd member is `local`."""
    fence = Fence(member, str(tmp_path / "postmaster.pid"))  # no postmaster: nothing to kill
    watch = Watch(etcd, PREFIX, "w1", fence=fence)
    watch.local_etcd = local
    return watch


def test_the_primary_watch_moves_etcd_leadership_off_its_machine(trio, tmp_path):
    etcd = Etcd(list(trio))
    clear(etcd)
    local = etcd_leader(trio)
    lease = make_leader(etcd, *dead_urls(), name="pg1")
    deadline = time.monotonic() + 10
    while (silent := silence(etcd, lease)) is not None and silent < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert silent is not None and silent >= 2, "the lease has gone unrefreshed for 2 s"

    watch = primary_watch(etcd, "pg1", local, tmp_path)
    assert watch.once() is None  # etcd confirms: pg1 leads, its fence armed
    moved = watch.keep_etcd_leader_elsewhere()
    assert moved and local in moved

    deadline = time.monotonic() + 10
    while (now_leading := etcd_leader(trio)) in (None, local) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert now_leading not in (None, local)
    # Why it matters: the new etcd leader restarted the unrefreshed lease's countdown, so the
    # silence the other watches measure began again (etcd_leadership_off's docstring).
    assert silence(etcd, lease) < 1

    assert watch.keep_etcd_leader_elsewhere() is None  # checked again only a second later
    watch.etcd_checked -= 2
    assert watch.keep_etcd_leader_elsewhere() is None  # this machine's member no longer leads
    assert etcd_leader(trio) == now_leading


def test_a_watch_whose_member_does_not_lead_moves_nothing(trio, tmp_path):
    etcd = Etcd(list(trio))
    clear(etcd)
    local = etcd_leader(trio)
    make_leader(etcd, *dead_urls(), name="pg2")  # another machine's member leads the database
    watch = primary_watch(etcd, "pg1", local, tmp_path)
    assert watch.once() is None
    assert watch.fence is not None and watch.fence.confirmed is None
    assert watch.keep_etcd_leader_elsewhere() is None
    without_local = primary_watch(etcd, "pg2", local, tmp_path)
    without_local.local_etcd = None  # a watch not told which member is its machine's
    assert without_local.once() is None
    assert without_local.keep_etcd_leader_elsewhere() is None
    time.sleep(0.5)
    assert etcd_leader(trio) == local
