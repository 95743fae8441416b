#!/usr/bin/env python3
"""The leader watch: end a dead primary's leadership after a few seconds instead of Patroni's ttl,
and only when it is safe to.

Patroni refuses a ttl below 20 s, so on its own a replica is promoted only when the dead
primary's etcd lease runs out: 20 to 25 s without writes. A 120 centre cannot wait that long.
One watch runs on every database machine. Each one, every INTERVAL_S, reads the leader key from
etcd and asks etcd how long ago the leader last refreshed its lease (Patroni refreshes it every
loop_wait, 1 s). (When the etcd member that dies with the primary was etcd's leader, the new etcd
leader restarts every lease's countdown, so the silence the watch sees starts again after that
election, 1 to 2 s later; the primary's watch keeps etcd's leadership on another machine so
that this does not happen: etcd_leadership_off.)

Three rules keep a fast failover safe (ops/ha/RUNBOOK.md, "Fencing and the timing budget"):

1. Quorum. A watch that finds the leader silent for DEAD_AFTER_S *and* unreachable (neither its
   Patroni REST API nor its PostgreSQL port answers) publishes that verdict in etcd, under a key
   of its own on a short lease (VERDICT_TTL_S). It revokes the leader's lease only when QUORUM
   watches (two of three) hold a fresh verdict against that same lease: one machine with a bad
   network path to the primary decides nothing alone.
2. Fencing first. The watch on the primary's own machine (`--member`, `--pidfile`) stops the local
   PostgreSQL (SIGKILL to the postmaster and every child: a crash, which PostgreSQL recovers
   from) once etcd's quorum has not confirmed for FENCE_AFTER_S that this node still leads. The
   other watches revoke only when the lease has been silent for FENCE_AFTER_S + FENCE_MARGIN_S,
   so a primary cut off from etcd has stopped serving before anyone else may be promoted.
   The same confirmations also touch a heartbeat file (`--lease-file`) that PostgreSQL itself
   checks at the start of every statement (ops/ha/lease/d120_lease.c): a primary that resumes after a
   freeze refuses those queries at once, before this watch (resuming with it) can kill it.
3. Last look. Right before revoking, the watch reads the leader key, the lease's time to live
   and Patroni's pause flag again: a leader that refreshed its lease during the probes keeps it,
   and nothing is revoked or fenced while the cluster is paused (maintenance mode).

Revoking is exactly "the lease ran out early": etcd deletes the leader key and the dead member's
key together, the synchronous standby's Patroni sees the key go (it watches it) and promotes, and
a leader that was only frozen finds, when it wakes, that its lease is gone and demotes itself.
With synchronous_mode_strict nothing committed on the old primary after the revoke is ever
acknowledged to a client (its synchronous standby is the one promoted).

Standard library only, like cluster.py. One line on stdout for every verdict it acts on.

  python3 ops/ha/leader_watch.py --etcd 127.0.0.1:2379,127.0.0.1:2381 --scope d120 \
      --name db1 --member pg1 --pidfile /var/lib/postgresql/15/main/postmaster.pid \
      --local-etcd 127.0.0.1:2379
"""

import argparse
import base64
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

INTERVAL_S = 0.25
# Two missed Patroni heartbeats (loop_wait 1 s): a watch publishes its verdict after this much
# silence. A leader that is only slow still answers on its REST API (a thread of its own), so the
# probes, not this number, keep a live leader safe.
DEAD_AFTER_S = 2
# The primary's own watch fences the local PostgreSQL after this long without etcd's quorum
# confirming that this node leads. Longer than an etcd leader election (election-timeout 1 s plus
# a round), so losing an etcd member does not fence a healthy primary.
FENCE_AFTER_S = 3.0
# The other watches wait this much longer (counted from the lease's last refresh) before they
# revoke: the fencing watch's polling (INTERVAL_S), one slow etcd answer and the kill itself.
FENCE_MARGIN_S = 1.5
QUORUM = 2  # of the three watches
# etcd refuses leases shorter than 3 s with its default timings; a verdict older than
# VERDICT_FRESH_S does not count even while its lease lives.
VERDICT_TTL_S = 3
VERDICT_FRESH_S = 1.5
PROBE_TIMEOUT_S = 1.0
ETCD_TIMEOUT_S = 1.0
FENCE_CHECK_S = 0.05
# How often the primary's watch checks whether its own machine's etcd member leads etcd.
ETCD_LEADER_CHECK_S = 1.0
SSL_REQUEST = struct.pack("!ii", 8, 80877103)  # PostgreSQL answers it with one byte, S or N


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def unb64(text: str) -> str:
    return base64.b64decode(text).decode()


class Etcd:
    """etcd's v3 API over its JSON gateway, trying each member in turn. Reads are linearizable
    (etcd's default): an answer means a quorum of members was reachable."""

    def __init__(self, endpoints: list[str], timeout: float = ETCD_TIMEOUT_S) -> None:
        self.endpoints = endpoints
        self.timeout = timeout

    def call(self, path: str, body: dict) -> dict:
        error: Exception | None = None
        for endpoint in list(self.endpoints):
            try:
                return self.call_on(endpoint, path, body)
            except ConnectionError as exc:
                error = exc
                # Ask a live member first next time.
                self.endpoints.remove(endpoint)
                self.endpoints.append(endpoint)
        raise ConnectionError(f"no etcd member answered: {error}")

    def call_on(self, endpoint: str, path: str, body: dict) -> dict:
        """One member only (etcd's maintenance calls are about the member asked)."""
        request = urllib.request.Request(
            f"http://{endpoint}/v3/{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise ConnectionError(f"{endpoint}: {exc.code} {exc.read()[:200]!r}") from exc
        except (OSError, ValueError) as exc:
            raise ConnectionError(f"{endpoint}: {exc}") from exc
        if isinstance(answer, dict) and answer.get("error"):
            # e.g. a member without quorum timing out
            raise ConnectionError(f"{endpoint}: {answer['error']}")
        return answer

    def get(self, key: str) -> dict | None:
        kvs = self.call("kv/range", {"key": b64(key)}).get("kvs") or []
        return kvs[0] if kvs else None

    def get_prefix(self, prefix: str) -> list[dict]:
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return self.call("kv/range", {"key": b64(prefix), "range_end": b64(end)}).get("kvs") or []

    def put(self, key: str, value: str, lease: str | None = None) -> None:
        body = {"key": b64(key), "value": b64(value)}
        if lease:
            body["lease"] = lease
        self.call("kv/put", body)

    def delete(self, key: str) -> None:
        self.call("kv/deleterange", {"key": b64(key)})

    def grant(self, ttl: int) -> str:
        return str(self.call("lease/grant", {"TTL": ttl})["ID"])

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
    return Leader(name, str(key["lease"]), data.get("api_url", ""), data.get("conn_url", ""))


def paused(etcd: Etcd, prefix: str) -> bool:
    """Patroni's maintenance mode (`patronictl pause`): "pause": true in the cluster's config key."""
    config = etcd.get(f"{prefix}config")
    if not config:
        return False
    try:
        return bool(json.loads(unb64(config["value"])).get("pause"))
    except (ValueError, AttributeError):
        return False


def silence(etcd: Etcd, lease: str) -> int | None:
    """Whole seconds the lease has certainly gone unrefreshed; None once it is gone. etcd
    truncates the seconds left, so the leader has been silent for more than this."""
    left, granted = etcd.lease_ttl(lease)
    if left < 0:
        return None
    return granted - left - 1


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


def leader_answers(leader: Leader) -> bool:
    """Both probes at once: a frozen leader costs one probe timeout, not two."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        probes = [pool.submit(api_answers, leader.api_url), pool.submit(postgres_answers, leader.conn_url)]
        return any(probe.result() for probe in probes)


def verdict(etcd: Etcd, leader: Leader, dead_after: float) -> str | None:
    """Why this watch finds the leader dead, or None while there is any sign of life."""
    silent = silence(etcd, leader.lease)
    if silent is None or silent < dead_after:
        return None  # refreshed lately, or already expired (Patroni handles that)
    if leader_answers(leader):
        return None
    return f"lease not refreshed for over {silent} s, REST API and PostgreSQL silent"


def etcd_leadership_off(etcd: Etcd, local: str) -> str | None:
    """If `local` (this machine's etcd member) leads etcd, hand that leadership to another member.

    Why: when etcd's leader is lost with the primary's machine (a partition, a crash), the member
    elected next restarts every lease's countdown from its full time to live plus its election
    timeout, so the other watches see the dead primary's lease silent only from that election on:
    the drill's partition promoted 9.7 s after the fault against 7 s when etcd's leader survived.
    Keeping the two leaderships on different machines makes the loss of one machine cost one
    election. Moving it is etcd's own operation (a short election the two members agree on)."""
    status = etcd.call_on(local, "maintenance/status", {})
    me = str(status.get("header", {}).get("member_id", ""))
    if not me or str(status.get("leader", "")) != me:
        return None
    error: Exception | None = None
    for member in etcd.call_on(local, "cluster/member/list", {}).get("members", []):
        if str(member.get("ID")) == me or not member.get("clientURLs"):
            continue
        try:
            etcd.call_on(local, "maintenance/transfer-leadership", {"targetID": member["ID"]})
        except ConnectionError as exc:
            error = exc  # that member may be down: try the next
            continue
        return f"moved etcd's leadership from this machine's member ({local}) to {member.get('name')}"
    raise ConnectionError(f"etcd's leadership stays on {local}: {error or 'no other member'}")


# ---------------------------------------------------------------------------------------------
# fencing: the watch on the primary's own machine


def postmaster_pid(pidfile: str) -> int | None:
    try:
        pid = int(Path(pidfile).read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if running(pid) else None


def running(pid: int) -> bool:
    """Alive and not a zombie (a killed postmaster stays one until Patroni reaps it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def kill_postgres(pidfile: str) -> int | None:
    """SIGKILL the postmaster first (it forks nothing more), then every child: each backend leads
    its own session, so no single process group holds them. Their sockets close at once, so a
    client gets an error instead of a stale answer. PostgreSQL recovers from this like a crash."""
    pid = postmaster_pid(pidfile)
    if pid:
        kids = children(pid)
        for target in (pid, *kids):
            with suppress(ProcessLookupError, PermissionError):
                os.kill(target, signal.SIGKILL)
    return pid


def touch(path: str, moment: float) -> None:
    """The heartbeat: its mtime becomes `moment`, never moved backwards (a slow read that began
    earlier than the last one must not shorten nor lengthen the lease it confirmed)."""
    try:
        if os.stat(path).st_mtime >= moment:
            return
    except FileNotFoundError:
        Path(path).touch(mode=0o644)
    except OSError:
        return
    with suppress(OSError):
        os.utime(path, (moment, moment))


@dataclass
class Fence:
    """Stops the local PostgreSQL while this node may no longer be the leader: armed by every
    quorum read that names `member` the leader, it fires FENCE_AFTER_S after the last such read
    *began* (a read that began before a freeze counts from before it)."""

    member: str
    pidfile: str
    after: float = FENCE_AFTER_S
    lease_file: str | None = None  # the heartbeat ops/ha/lease/d120_lease.c checks
    confirmed: float | None = None  # monotonic start of the last quorum read naming us leader
    paused: bool = False
    fenced: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(
        self, leader: Leader | None, started: float, is_paused: bool, started_wall: float | None = None
    ) -> None:
        """`started_wall`: the wall clock when the read began, the heartbeat's mtime (PostgreSQL
        compares it with clock_timestamp(), on this same machine)."""
        with self.lock:
            self.paused = is_paused
            if leader is not None and leader.name == self.member:
                self.confirmed = started if self.confirmed is None else max(self.confirmed, started)
                if self.lease_file and started_wall is not None:
                    touch(self.lease_file, started_wall)
            else:
                self.confirmed = None  # not ours (any more): Patroni demotes or follows by itself

    def due(self, now: float) -> bool:
        with self.lock:
            return not self.paused and self.confirmed is not None and now - self.confirmed >= self.after

    def check(self, now: float | None = None) -> str | None:
        """Kill the local postmaster if the fence is due and one runs (again: Patroni may restart it)."""
        now = time.monotonic() if now is None else now
        if not self.due(now):
            return None
        pid = kill_postgres(self.pidfile)
        if not pid:
            return None
        self.fenced += 1
        with self.lock:
            waited = now - self.confirmed if self.confirmed is not None else 0.0
        return f"fenced: killed postmaster {pid} ({self.member} unconfirmed as leader {waited:.1f} s)"

    def run(self) -> None:
        while True:
            if done := self.check():
                say(done)
            time.sleep(FENCE_CHECK_S)


# ---------------------------------------------------------------------------------------------
# the watch


@dataclass
class Watch:
    etcd: Etcd
    prefix: str  # Patroni's: /service/<scope>/
    name: str  # this watch's name (its machine)
    dead_after: float = DEAD_AFTER_S
    revoke_after: float = FENCE_AFTER_S + FENCE_MARGIN_S
    quorum: int = QUORUM
    fence: Fence | None = None
    published: bool = False
    local_etcd: str | None = None  # this machine's etcd member (see etcd_leadership_off)
    etcd_checked: float = float("-inf")

    @property
    def verdicts(self) -> str:
        return self.prefix.rstrip("/") + "-leader-watch/"

    def publish(self, leader: Leader | None, why: str | None) -> None:
        key = f"{self.verdicts}{self.name}"
        if leader is None or why is None:
            if self.published:
                self.etcd.delete(key)
                self.published = False
            return
        value = {"watch": self.name, "leader": leader.name, "lease": leader.lease, "why": why}
        value["at"] = time.time()
        self.etcd.put(key, json.dumps(value), self.etcd.grant(VERDICT_TTL_S))
        self.published = True

    def agreeing(self, lease: str) -> list[str]:
        """Watches with a fresh verdict against this lease (their keys live on short leases)."""
        names = []
        for kv in self.etcd.get_prefix(self.verdicts):
            try:
                value = json.loads(unb64(kv["value"]))
            except (ValueError, KeyError):
                continue
            if value.get("lease") == lease and time.time() - float(value.get("at", 0)) <= VERDICT_FRESH_S:
                names.append(str(value.get("watch")))
        return sorted(set(names))

    def once(self) -> str | None:
        """One round: what was done, if anything."""
        started, started_wall = time.monotonic(), time.time()
        leader = current_leader(self.etcd, self.prefix)
        is_paused = paused(self.etcd, self.prefix)
        if self.fence:
            self.fence.saw(leader, started, is_paused, started_wall)
        if is_paused:
            self.publish(None, None)
            return None
        why = verdict(self.etcd, leader, self.dead_after) if leader else None
        self.publish(leader, why)
        if not leader or not why:
            return None
        agree = self.agreeing(leader.lease)
        if len(agree) < self.quorum:
            return None
        # The last look: same leader on the same lease, still silent past the fencing budget,
        # and no maintenance begun meanwhile.
        again = current_leader(self.etcd, self.prefix)
        if again is None or again.lease != leader.lease or paused(self.etcd, self.prefix):
            return None
        silent = silence(self.etcd, leader.lease)
        if silent is None or silent < self.revoke_after:
            return None
        self.etcd.revoke(leader.lease)
        return (
            f"revoked leader {leader.name}'s lease {leader.lease}: {why}; "
            f"silent {silent} s, agreed by {', '.join(agree)}"
        )

    def keep_etcd_leader_elsewhere(self) -> str | None:
        """While this machine's member leads the database cluster (the fence is armed), etcd's
        leader should be another machine's member; checked every ETCD_LEADER_CHECK_S."""
        if not self.local_etcd or not self.fence or self.fence.confirmed is None:
            return None
        now = time.monotonic()
        if now - self.etcd_checked < ETCD_LEADER_CHECK_S:
            return None
        self.etcd_checked = now
        return etcd_leadership_off(self.etcd, self.local_etcd)

    def run(self, interval: float) -> None:
        if self.fence:
            threading.Thread(target=self.fence.run, daemon=True).start()
        while True:
            started = time.monotonic()
            try:
                if done := self.once():
                    say(done)
            except (ConnectionError, KeyError, ValueError) as exc:
                say(f"no verdict this round: {exc}")
            try:
                if moved := self.keep_etcd_leader_elsewhere():
                    say(moved)
            except (ConnectionError, KeyError, ValueError) as exc:
                say(f"etcd's leadership not checked: {exc}")
            time.sleep(max(0.0, interval - (time.monotonic() - started)))


def watch_once(etcd: Etcd, prefix: str, dead_after: float, **kw) -> str | None:
    """One round of a watch named "watch" (tests): see Watch.once."""
    return Watch(etcd, prefix, kw.pop("name", "watch"), dead_after, **kw).once()


def say(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} leader-watch: {message}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--etcd", required=True, help="host:port of each etcd member, comma separated")
    parser.add_argument("--namespace", default="/service/")
    parser.add_argument("--scope", required=True, help="Patroni's scope (the cluster's name)")
    parser.add_argument("--name", default=socket.gethostname(), help="this watch's name (its machine)")
    parser.add_argument("--member", help="the Patroni member on this machine (enables fencing)")
    parser.add_argument("--pidfile", help="that member's DATA/postmaster.pid")
    parser.add_argument(
        "--lease-file", help="the heartbeat PostgreSQL checks (its dispatch120.lease_file, ops/ha/lease/)"
    )
    parser.add_argument(
        "--local-etcd",
        help="host:port of this machine's etcd member: kept from leading etcd while --member leads",
    )
    parser.add_argument("--dead-after", type=float, default=DEAD_AFTER_S)
    parser.add_argument("--fence-after", type=float, default=FENCE_AFTER_S)
    parser.add_argument("--fence-margin", type=float, default=FENCE_MARGIN_S)
    parser.add_argument("--quorum", type=int, default=QUORUM)
    parser.add_argument("--interval", type=float, default=INTERVAL_S)
    args = parser.parse_args()
    prefix = f"{args.namespace.rstrip('/')}/{args.scope}/"
    fence = (
        Fence(args.member, args.pidfile, args.fence_after, args.lease_file)
        if args.member and args.pidfile
        else None
    )
    revoke_after = max(args.dead_after, args.fence_after + args.fence_margin)
    say(
        f"watching {prefix}leader as {args.name}; a verdict after {args.dead_after:g} s of silence, "
        f"a revoke when {args.quorum} watches agree and after {revoke_after:g} s; "
        + (f"fences {args.member} after {args.fence_after:g} s unconfirmed" if fence else "no fencing")
        + (f"; heartbeat {args.lease_file}" if args.lease_file else "")
    )
    etcd = Etcd(args.etcd.split(","))
    watch = Watch(etcd, prefix, args.name, args.dead_after, revoke_after, args.quorum, fence)
    watch.local_etcd = args.local_etcd if fence else None
    try:
        watch.run(args.interval)
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
