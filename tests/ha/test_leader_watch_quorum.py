"""The leader watch's safety rules (ops/ha/leader_watch.py) against a real etcd member: two of
three watches must agree, the lease and Patroni's pause flag are read again right before a
revoke, and a revoke waits out the fencing budget."""

import json
import time

import leader_watch
from leader_watch import Watch

from .conftest import PREFIX, dead_urls, make_leader, wait_silent

# What the tests shorten: the revoke waits for 1 s of silence instead of FENCE_AFTER_S + margin.
FAST = {"dead_after": 1, "revoke_after": 1}


def watch(etcd, name: str, **kw) -> Watch:
    return Watch(etcd, PREFIX, name, **{**FAST, **kw})


def test_one_watch_alone_never_revokes_two_do(clean):
    etcd = clean
    lease = make_leader(etcd, *dead_urls())
    wait_silent(1)
    first, second = watch(etcd, "w1"), watch(etcd, "w2")
    assert first.once() is None  # dead by its own probes, but it is only one
    assert etcd.get(f"{PREFIX}leader") is not None
    assert first.agreeing(lease) == ["w1"]  # its verdict is published for the others
    done = second.once()
    assert done and f"lease {lease}" in done and "agreed by w1, w2" in done
    assert etcd.get(f"{PREFIX}leader") is None


def test_a_stale_verdict_does_not_count(clean, monkeypatch):
    etcd = clean
    make_leader(etcd, *dead_urls())
    wait_silent(1)
    monkeypatch.setattr(leader_watch, "VERDICT_FRESH_S", 0.3)
    assert watch(etcd, "w1").once() is None
    time.sleep(0.5)  # w1's verdict is too old now (its key still lives on its 3 s lease)
    assert watch(etcd, "w2").once() is None
    assert etcd.get(f"{PREFIX}leader") is not None


def test_a_watch_whose_leader_answers_withdraws_its_verdict(clean):
    etcd = clean
    lease = make_leader(etcd, *dead_urls())
    wait_silent(1)
    first = watch(etcd, "w1")
    first.once()
    assert first.agreeing(lease) == ["w1"]
    etcd.call("lease/keepalive", {"ID": lease})  # the leader is back
    first.once()
    assert first.agreeing(lease) == []


def test_a_leader_that_refreshes_during_the_probe_keeps_its_lease(clean, monkeypatch):
    etcd = clean
    lease = make_leader(etcd, *dead_urls())
    wait_silent(1)

    def slow_probe_while_the_leader_refreshes(leader):
        etcd.call("lease/keepalive", {"ID": leader.lease})
        return False  # the probes failed, but the lease is fresh again

    monkeypatch.setattr(leader_watch, "leader_answers", slow_probe_while_the_leader_refreshes)
    assert watch(etcd, "w1", quorum=1).once() is None
    assert watch(etcd, "w2").once() is None
    assert leader_watch.current_leader(etcd, PREFIX).lease == lease


def test_nothing_is_revoked_while_patroni_is_paused(clean):
    etcd = clean
    etcd.put(f"{PREFIX}config", json.dumps({"ttl": 20, "pause": True}))
    lease = make_leader(etcd, *dead_urls())
    wait_silent(1)
    first, second = watch(etcd, "w1"), watch(etcd, "w2")
    assert first.once() is None and second.once() is None
    assert first.agreeing(lease) == []  # no verdict published either
    assert etcd.get(f"{PREFIX}leader") is not None
    etcd.put(f"{PREFIX}config", json.dumps({"ttl": 20, "pause": False}))  # maintenance over
    first.once()
    assert second.once()
    assert etcd.get(f"{PREFIX}leader") is None


def test_pause_begun_during_the_probes_stops_the_revoke(clean, monkeypatch):
    etcd = clean
    make_leader(etcd, *dead_urls())
    wait_silent(1)

    def probe_while_an_operator_pauses(leader):
        etcd.put(f"{PREFIX}config", json.dumps({"pause": True}))
        return False

    monkeypatch.setattr(leader_watch, "leader_answers", probe_while_an_operator_pauses)
    assert watch(etcd, "w1", quorum=1).once() is None
    assert etcd.get(f"{PREFIX}leader") is not None


def test_the_revoke_waits_for_the_fencing_budget(clean):
    etcd = clean
    make_leader(etcd, *dead_urls())
    wait_silent(1)
    first = watch(etcd, "w1", revoke_after=3)
    second = watch(etcd, "w2", revoke_after=3)
    first.once()
    assert second.once() is None  # two agree, but the primary may still be fencing itself
    assert etcd.get(f"{PREFIX}leader") is not None
    time.sleep(2)
    first.once()
    assert second.once()
    assert etcd.get(f"{PREFIX}leader") is None


def test_the_defaults_revoke_only_after_the_primary_fenced():
    assert leader_watch.FENCE_AFTER_S + leader_watch.FENCE_MARGIN_S > leader_watch.DEAD_AFTER_S
    # The margin covers the fencing watch's poll, one slow etcd answer and its own check.
    assert leader_watch.FENCE_MARGIN_S >= leader_watch.INTERVAL_S + leader_watch.ETCD_TIMEOUT_S
    assert Watch(None, PREFIX, "w").revoke_after == leader_watch.FENCE_AFTER_S + leader_watch.FENCE_MARGIN_S
