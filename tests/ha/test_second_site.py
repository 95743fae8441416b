"""The second site (ops/ha/second_site.py): the standby cluster's Patroni configuration (streaming
from site A's database front, the pgBackRest archive at site B as the fallback), the fronts, and
the promote command's logic against a Patroni REST API played here (its GET /config, PATCH
/config and GET /cluster, as Patroni 4 answers them).

The whole site loss under load is `make site-drill`'s job (ops/ha/site_drill.py).
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "ops" / "ha"))
import backup  # noqa: E402
import cluster  # noqa: E402
import second_site  # noqa: E402

from tests.support.ports import free_ports  # noqa: E402


@pytest.fixture
def sites(tmp_path: Path, monkeypatch) -> tuple[Any, Any]:
    """Site A planned in tmp_path, site B planned beside it; nothing is started."""
    monkeypatch.setattr(cluster, "spawn", lambda *args, **kwargs: 0)
    a = cluster.plan(tmp_path, apps=1)
    a.save()
    b = second_site.plan_site_b(a)
    b.path.mkdir(parents=True)
    return a, b


def settings(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and line[0] != "#")
    return {key.strip(): value.strip() for key, value in pairs}


def test_site_b_is_a_standby_cluster_of_its_own_streaming_from_site_as_front_with_the_archive_behind(sites):
    a, b = sites
    node = b.pg[0]
    second_site.start_standby_node(a, b, node, upstream_port=54321)
    config = yaml.safe_load((b.path / node["name"] / "patroni.yml").read_text())
    # Its own namespace and its own etcd: nothing of site A's DCS.
    assert config["namespace"] == "/site-b/"
    assert config["etcd3"]["hosts"] == f"127.0.0.1:{b.etcd[0]['client_port']}"
    standby = config["bootstrap"]["dcs"]["standby_cluster"]
    assert (standby["host"], standby["port"]) == ("127.0.0.1", 54321)
    assert standby["create_replica_methods"] == ["basebackup", "pgbackrest"]
    node_config = backup.node_config(b, node["name"])
    assert standby["restore_command"].endswith(f'--config={node_config} --stanza=d120 archive-get %f "%p"')
    # The methods it names: pg_basebackup from site A, or a delta restore from the archive.
    assert config["postgresql"]["basebackup"] == {"checkpoint": "fast"}
    method = config["postgresql"]["pgbackrest"]
    assert method["command"].endswith(f"--config={node_config} --stanza=d120 --delta restore")
    assert method["keep_data"] is True and method["no_params"] is True
    # The archive it reads (and pushes to once promoted) is site A's repository at site B.
    values = settings(node_config)
    assert values["repo1-path"] == str(Path(a.dir) / "site-b" / "backrest")
    assert values["repo1-cipher-pass"] == backup.cipher_pass(a)
    assert values["pg1-path"] == str(b.path / node["name"] / "data")
    assert config["postgresql"]["parameters"]["archive_command"] == backup.archive_command(node_config)
    # A copy of site A's data: site A's roles and passwords.
    auth = config["postgresql"]["authentication"]
    assert auth["superuser"]["password"] == a.password
    assert auth["replication"]["password"] == a.replication_password
    # After promotion it is an ordinary cluster with site A's rules (strict synchronous mode).
    assert config["bootstrap"]["dcs"]["synchronous_mode_strict"] is True


def test_site_a_stays_an_ordinary_cluster_in_its_own_namespace(sites):
    a, _ = sites
    cluster.start_patroni(a, a.pg[0])
    config = yaml.safe_load((a.path / "pg1" / "patroni.yml").read_text())
    assert config["namespace"] == "/service/"
    assert "standby_cluster" not in config["bootstrap"]["dcs"]
    assert "pgbackrest" not in config["postgresql"]
    assert config["etcd3"]["hosts"] == ",".join(f"127.0.0.1:{m['client_port']}" for m in a.etcd)


def test_site_b_has_its_own_ports_and_names_and_site_as_keys(sites):
    a, b = sites
    ports = lambda t: {  # noqa: E731
        *(m[k] for m in t.etcd for k in ("client_port", "peer_port")),
        *(n[k] for n in t.pg for k in ("api_port", "pg_port")),
        *(r["port"] for r in [*t.redis, *t.sentinels, *t.apps]),
        t.haproxy_port,
    }
    assert not ports(a) & ports(b)
    names = lambda t: {x["name"] for group in (t.etcd, t.pg, t.redis, t.sentinels, t.apps) for x in group}  # noqa: E731
    assert not names(a) & names(b)
    assert (b.secret_key, b.data_key, b.password) == (a.secret_key, a.data_key, a.password)
    assert b.prefix != a.prefix
    assert b.path == Path(a.dir) / "site-b" / "cluster"


def test_the_database_front_follows_site_as_primary_and_the_global_front_uses_site_b_as_backup(sites):
    a, b = sites
    second_site.start_pg_front(a, 54321)
    front = (a.path / "haproxy-pg.cfg").read_text()
    assert "bind 127.0.0.1:54321" in front
    assert "option httpchk GET /primary" in front
    for node in a.pg:
        assert f"server {node['name']} 127.0.0.1:{node['pg_port']} check port {node['api_port']}" in front
    second_site.start_front(a, b, 54322)
    glob = (b.path / "haproxy-front.cfg").read_text()
    assert f"server site-a 127.0.0.1:{a.haproxy_port} check on-marked-down shutdown-sessions\n" in glob
    assert f"server site-b 127.0.0.1:{b.haproxy_port} check backup\n" in glob
    # A loaded site A answering a check 502 now and then must not send clients to site B.
    assert "fall 6" in glob
    assert "hdr Host 127.0.0.1" in glob


# ---------------------------------------------------------------------------------------------
# the promote command, against a Patroni REST API played here


class FakePatroni:
    """GET /config, PATCH /config (null removes a key) and GET /cluster; once standby_cluster is
    removed, the standby leader becomes leader after `promotes_after` seconds."""

    def __init__(self, promotes_after: float = 0.3, standby: bool = True, never: bool = False) -> None:
        self.config: dict[str, Any] = {"ttl": 20, "synchronous_mode": True}
        if standby:
            self.config["standby_cluster"] = {"host": "127.0.0.1", "port": 54321}
        self.patches: list[dict[str, Any]] = []
        self.patched_at: float | None = None
        self.promotes_after = promotes_after
        self.never = never
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def answer(self, body: Any) -> None:
                raw = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                self.answer(fake.config if self.path == "/config" else {"members": fake.members()})

            def do_PATCH(self) -> None:
                patch = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.patches.append(patch)
                for key, value in patch.items():
                    if value is None:
                        fake.config.pop(key, None)
                    else:
                        fake.config[key] = value
                fake.patched_at = time.monotonic()
                self.answer(fake.config)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def members(self) -> list[dict[str, Any]]:
        promoted = (
            not self.never
            and self.patched_at is not None
            and time.monotonic() - self.patched_at >= self.promotes_after
        )
        first = {"name": "pgb1", "host": "127.0.0.1", "port": 5433}
        first.update(role="leader", state="running") if promoted else first.update(
            role="standby_leader", state="streaming"
        )
        return [
            first,
            {"name": "pgb2", "host": "127.0.0.1", "port": 5434, "role": "replica", "state": "streaming"},
        ]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def patroni():
    fakes: list[FakePatroni] = []

    def make(**kwargs: Any) -> FakePatroni:
        fakes.append(FakePatroni(**kwargs))
        return fakes[-1]

    yield make
    for fake in fakes:
        fake.close()


def test_promote_removes_standby_cluster_and_waits_until_the_new_leader_takes_writes(patroni):
    fake = patroni(promotes_after=0.5)
    checked: list[tuple[str, int]] = []
    tries: list[str] = []

    def writable(member: dict[str, Any]) -> bool:
        tries.append(member["name"])
        return len(tries) >= 3  # strict synchronous mode: the first commits wait for a standby

    said: list[str] = []
    result = second_site.promote(
        [fake.url], lambda h, p: checked.append((h, p)) or False, writable, say=said.append
    )
    assert fake.patches == [{"standby_cluster": None}]
    assert "standby_cluster" not in fake.config
    assert checked == [("127.0.0.1", 54321)]  # site A's primary was asked first
    assert tries == ["pgb1"] * 3
    assert result["promoted"] is True and result["leader"] == "pgb1"
    assert result["leader_s"] >= 0.5 and result["took_s"] >= result["leader_s"] >= result["patched_s"]
    assert any("removed standby_cluster" in line for line in said)
    assert said[-1].startswith("pgb1 takes writes")


def test_promote_refuses_while_site_as_primary_still_takes_writes(patroni):
    fake = patroni()
    with pytest.raises(second_site.PromoteRefused, match="still takes writes at 127.0.0.1:54321"):
        second_site.promote([fake.url], lambda h, p: True, lambda m: True, say=lambda _: None)
    assert fake.patches == []
    assert "standby_cluster" in fake.config


def test_promote_with_force_goes_on_although_site_a_answers(patroni):
    fake = patroni(promotes_after=0)
    result = second_site.promote(
        [fake.url], lambda h, p: True, lambda m: True, force=True, say=lambda _: None
    )
    assert fake.patches == [{"standby_cluster": None}]
    assert result["forced"] is True


def test_promote_does_nothing_on_a_cluster_that_is_no_standby(patroni):
    fake = patroni(standby=False)
    result = second_site.promote([fake.url], lambda h, p: False, lambda m: True, say=lambda _: None)
    assert result == {"promoted": False, "already": True, "took_s": 0.0}
    assert fake.patches == []


def test_promote_asks_the_next_api_when_the_first_does_not_answer(patroni):
    fake = patroni(promotes_after=0)
    (dead,) = free_ports(1)
    result = second_site.promote(
        [f"http://127.0.0.1:{dead}", fake.url], lambda h, p: False, lambda m: True, say=lambda _: None
    )
    assert result["leader"] == "pgb1"
    assert fake.patches == [{"standby_cluster": None}]


def test_promote_fails_when_no_leader_appears_in_time(patroni):
    fake = patroni(never=True)
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="no leader within 1 s"):
        second_site.promote([fake.url], lambda h, p: False, lambda m: True, timeout=1, say=lambda _: None)
    assert time.monotonic() - started < 5


def test_the_upstream_check_calls_a_refused_port_not_writable():
    (dead,) = free_ports(1)
    assert second_site.upstream_writable("127.0.0.1", dead, "x") is False
