#!/usr/bin/env python3
"""The leader watch: end a dead primary's leadership after a few seconds instead of Patroni's ttl.

Patroni refuses a ttl below 20 s, so on its own a replica is promoted only when the dead
primary's etcd lease runs out: 20 to 25 s without writes. (When the etcd member that dies with
the primary was etcd's leader, the new etcd leader restarts every lease's countdown, so the
silence the watch sees starts again after that election, 1 to 2 s later.) A 120 centre cannot wait that long.
One watch runs on every database machine. Each one, every INTERVAL_S, reads the leader key from
etcd and asks etcd how long ago the leader last refreshed its lease (Patroni refreshes it every
loop_wait, 1 s). When the lease has not been refreshed for DEAD_AFTER_S *and* the leader answers
neither on its Patroni REST API nor on its PostgreSQL port, the watch revokes the lease.

Revoking is exactly "the lease ran out early": etcd deletes the leader key and the dead member's
key together, the synchronous standby's Patroni sees the key go (it watches it) and promotes,
and a leader that was only frozen finds, when it wakes, that its lease is gone and demotes
itself, as it would after a real expiry. Why this loses no acknowledged commit: with
synchronous_mode_strict every commit on the old primary waits for the recorded synchronous
standby, and that standby is the only node Patroni lets promote; once it is promoted it no
longer confirms anything to the old primary, so nothing committed there after the revoke is
ever acknowledged to a client. The worst a wrong verdict can cause (a live leader that was slow
and unreachable for DEAD_AFTER_S) is an unnecessary switchover, never a split brain that loses
data.

Standard library only, like cluster.py. One line on stdout for every verdict it acts on.

  python3 ops/ha/leader_watch.py --etcd 127.0.0.1:2379,127.0.0.1:2381 --scope d120
"""

import argparse
import base64
import json
import socket
import struct
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

INTERVAL_S = 0.25
# Two missed Patroni heartbeats (loop_wait 1 s). A leader that is only slow still answers on its
# REST API (a thread of its own), so the probes, not this number, keep a live leader safe.
DEAD_AFTER_S = 2
PROBE_TIMEOUT_S = 1.0
SSL_REQUEST = struct.pack("!ii", 8, 80877103)  # PostgreSQL answers it with one byte, S or N


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def unb64(text: str) -> str:
    return base64.b64decode(text).decode()


class Etcd:
    """etcd's v3 API over its JSON gateway, trying each member in turn."""

    def __init__(self, endpoints: list[str], timeout: float = 1.0) -> None:
        self.endpoints = endpoints
        self.timeout = timeout

    def call(self, path: str, body: dict) -> dict:
        error: Exception | None = None
        for endpoint in list(self.endpoints):
            request = urllib.request.Request(
                f"http://{endpoint}/v3/{path}",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read())
            except (OSError, ValueError) as exc:
                error = exc
                # Ask a live member first next time.
                self.endpoints.remove(endpoint)
                self.endpoints.append(endpoint)
        raise ConnectionError(f"no etcd member answered: {error}")

    def get(self, key: str) -> dict | None:
        kvs = self.call("kv/range", {"key": b64(key)}).get("kvs") or []
        return kvs[0] if kvs else None

    def lease_ttl(self, lease: str) -> tuple[int, int]:
        """(seconds left, seconds granted); left is -1 when the lease is already gone."""
        answer = self.call("lease/timetolive", {"ID": lease})
        return int(answer.get("TTL", -1)), int(answer.get("grantedTTL", 0))

    def revoke(self, lease: str) -> None:
        self.call("lease/revoke", {"ID": lease})


@dataclass
class Leader:
    name: str
    lease: str
    api_url: str
    conn_url: str


def current_leader(etcd: Etcd, prefix: str) -> Leader | None:
    key = etcd.get(f"{prefix}leader")
    if not key or not key.get("lease"):
        return None
    name = unb64(key["value"])
    member = etcd.get(f"{prefix}members/{name}")
    data = json.loads(unb64(member["value"])) if member else {}
    return Leader(name, key["lease"], data.get("api_url", ""), data.get("conn_url", ""))


def api_answers(api_url: str, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Any HTTP answer, even an error status, means Patroni is alive and will judge for itself."""
    if not api_url:
        return False
    try:
        with urllib.request.urlopen(f"{api_url.rsplit('/patroni', 1)[0]}/liveness", timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


def postgres_answers(conn_url: str, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """The postmaster answers an SSLRequest with one byte. A TCP connect alone is not enough: the
    kernel accepts connections for a frozen (SIGSTOP) process."""
    parts = urlsplit(conn_url)
    if not parts.hostname or not parts.port:
        return False
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(SSL_REQUEST)
            return sock.recv(1) in (b"S", b"N")
    except OSError:
        return False


def verdict(etcd: Etcd, leader: Leader, dead_after: float) -> str | None:
    """Why the leader is dead, or None while there is any sign of life."""
    left, granted = etcd.lease_ttl(leader.lease)
    if left < 0:
        return None  # already expired: Patroni handles it
    # etcd truncates the seconds left, so the leader has been silent for more than this:
    silent = granted - left - 1
    if silent < dead_after:
        return None
    if leader_answers(leader):
        return None
    return f"lease not refreshed for over {silent} s, REST API and PostgreSQL silent"


def leader_answers(leader: Leader) -> bool:
    """Both probes at once: a frozen leader costs one probe timeout, not two."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        probes = [pool.submit(api_answers, leader.api_url), pool.submit(postgres_answers, leader.conn_url)]
        return any(probe.result() for probe in probes)


def watch_once(etcd: Etcd, prefix: str, dead_after: float) -> str | None:
    """One round: revoke a dead leader's lease; what was done, if anything."""
    leader = current_leader(etcd, prefix)
    why = verdict(etcd, leader, dead_after) if leader else None
    # Still the same leader on the same lease: a replacement would have a new lease.
    if why and (again := current_leader(etcd, prefix)) and again.lease == leader.lease:
        etcd.revoke(leader.lease)
        return f"revoked leader {leader.name}'s lease {leader.lease}: {why}"
    return None


def watch(etcd: Etcd, prefix: str, dead_after: float, interval: float) -> None:
    while True:
        started = time.monotonic()
        try:
            if done := watch_once(etcd, prefix, dead_after):
                say(done)
        except (ConnectionError, KeyError, ValueError) as exc:
            say(f"no verdict this round: {exc}")
        time.sleep(max(0.0, interval - (time.monotonic() - started)))


def say(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} leader-watch: {message}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--etcd", required=True, help="host:port of each etcd member, comma separated")
    parser.add_argument("--namespace", default="/service/")
    parser.add_argument("--scope", required=True, help="Patroni's scope (the cluster's name)")
    parser.add_argument("--dead-after", type=float, default=DEAD_AFTER_S)
    parser.add_argument("--interval", type=float, default=INTERVAL_S)
    args = parser.parse_args()
    prefix = f"{args.namespace.rstrip('/')}/{args.scope}/"
    say(f"watching {prefix}leader; a leader silent for {args.dead_after:g} s loses its lease")
    try:
        watch(Etcd(args.etcd.split(",")), prefix, args.dead_after, args.interval)
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
