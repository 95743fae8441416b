"""Fencing (ops/ha/leader_watch.py Fence): the watch on the primary's machine stops the local
PostgreSQL when etcd's quorum stops confirming that node leads, and it does so before the other
watches may revoke the lease (the timing budget in ops/ha/RUNBOOK.md)."""

import subprocess
import time
from contextlib import suppress
from pathlib import Path

import leader_watch
import pytest
from leader_watch import Etcd, Fence, Leader, Watch, children

from tests.support.ports import free_ports

from .conftest import PREFIX, dead_urls, make_leader


def running(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def postmaster(tmp_path):
    """A stand-in postmaster with two children, and its postmaster.pid."""
    process = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 60 & wait"])
    deadline = time.monotonic() + 5
    while len(children(process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    pidfile = tmp_path / "postmaster.pid"
    pidfile.write_text(f"{process.pid}\n{tmp_path}\n")
    kids = children(process.pid)
    yield process, kids, str(pidfile)
    for pid in (process.pid, *kids):
        with suppress(ProcessLookupError):
            leader_watch.os.kill(pid, 9)
    process.wait(timeout=5)


def me(name: str = "pg1") -> Leader:
    return Leader(name, "1", "", "")


def test_the_fence_kills_the_postmaster_and_every_child(postmaster):
    process, kids, pidfile = postmaster
    fence = Fence("pg1", pidfile, after=1)
    now = time.monotonic()
    fence.saw(me(), now, is_paused=False)
    assert fence.check(now + 0.5) is None  # confirmed half a second ago: keep serving
    assert "killed postmaster" in fence.check(now + 1.1)
    assert process.wait(timeout=5) == -9
    deadline = time.monotonic() + 5
    while any(running(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert kids and not any(running(k) for k in kids)


def test_no_fence_for_a_replica_or_while_paused(postmaster):
    process, _, pidfile = postmaster
    fence = Fence("pg1", pidfile, after=1)
    old = time.monotonic() - 5
    fence.saw(me("pg2"), old, is_paused=False)  # another node leads: Patroni follows it
    assert fence.check() is None
    fence.saw(me(), old, is_paused=True)  # maintenance: the operator is at work
    assert fence.check() is None
    fence.saw(None, old, is_paused=False)  # no leader at all
    assert fence.check() is None
    assert process.poll() is None


def test_a_read_that_began_before_a_freeze_does_not_renew_the_fence(postmaster):
    """After a freeze the answer that arrives names us leader, but it was asked before: the
    confirmation counts from when it was asked."""
    process, _, pidfile = postmaster
    fence = Fence("pg1", pidfile, after=1)
    asked = time.monotonic() - 3
    fence.saw(me(), asked, is_paused=False)
    assert fence.check()
    assert process.wait(timeout=5) == -9


def test_the_primary_fences_itself_before_anyone_may_revoke(clean, postmaster):
    """A partition of the primary's machine: its watch reaches no etcd member and its Patroni
    refreshes nothing. The two other watches agree quickly, but revoke only after the fence."""
    etcd = clean
    process, _, pidfile = postmaster
    lease = make_leader(etcd, *dead_urls(), name="pg1")
    fence = Fence("pg1", pidfile)
    primary = Watch(Etcd(list(etcd.endpoints)), PREFIX, "w1", fence=fence)
    assert primary.once() is None  # etcd confirms: pg1 leads
    confirmed = fence.confirmed  # when that read began: the fence counts from here
    assert confirmed is not None
    etcd.call("lease/keepalive", {"ID": lease})
    cut = time.monotonic()  # the last refresh, the last confirmation: the partition begins
    primary.etcd = Etcd([f"127.0.0.1:{free_ports(1)[0]}"])
    others = [Watch(etcd, PREFIX, "w2"), Watch(etcd, PREFIX, "w3")]
    fenced_at = revoked_at = None
    while revoked_at is None and time.monotonic() - cut < 15:
        if fenced_at is None and fence.check():
            fenced_at = time.monotonic() - confirmed
        with suppress(ConnectionError):
            primary.once()
        for other in others:
            if other.once():
                revoked_at = time.monotonic() - cut
        time.sleep(0.05)
    assert fenced_at is not None and revoked_at is not None
    assert process.wait(timeout=5) == -9
    # The budget: fenced FENCE_AFTER_S after the last confirmation began (a moment before the
    # cut), revoked after FENCE_AFTER_S + FENCE_MARGIN_S of lease silence from the last refresh
    # (the cut), with the margin still between them.
    assert leader_watch.FENCE_AFTER_S <= fenced_at < leader_watch.FENCE_AFTER_S + 0.5
    assert revoked_at >= leader_watch.FENCE_AFTER_S + leader_watch.FENCE_MARGIN_S
    assert revoked_at - (fenced_at - (cut - confirmed)) >= leader_watch.FENCE_MARGIN_S - 0.5
    assert revoked_at < leader_watch.FENCE_AFTER_S + leader_watch.FENCE_MARGIN_S + 1.5
    assert etcd.get(f"{PREFIX}leader") is None
