"""The primary's lease, checked by PostgreSQL itself at the start of every statement
(ops/ha/lease/d120_lease.c), and the heartbeat the leader watch keeps for it
(ops/ha/leader_watch.py Fence): a primary whose heartbeat is older than the lease refuses every
statement of the app's role, even one that would find no row, with an error the app retries
elsewhere."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

sys.path.insert(0, str(Path(settings.BASE_DIR) / "ops" / "ha"))
import cluster  # noqa: E402
from leader_watch import Fence, Leader  # noqa: E402

from tests.support.ports import free_ports  # noqa: E402


def leader(name: str) -> Leader:
    return Leader(name, "7", "", "")


def test_the_watch_touches_the_heartbeat_only_while_etcd_names_its_member(tmp_path):
    path = str(tmp_path / "lease")
    fence = Fence("pg1", str(tmp_path / "postmaster.pid"), lease_file=path)
    fence.saw(leader("pg2"), time.monotonic(), False, time.time())
    assert not os.path.exists(path)  # another node leads: no heartbeat
    began = time.time() - 0.4  # the confirming read began 0.4 s ago
    fence.saw(leader("pg1"), time.monotonic(), False, began)
    assert os.stat(path).st_mtime == pytest.approx(began, abs=1e-3)  # when the read began
    fence.saw(leader("pg1"), time.monotonic(), False, began - 5)
    assert os.stat(path).st_mtime == pytest.approx(began, abs=1e-3)  # never moved backwards
    stale = os.stat(path).st_mtime
    fence.saw(None, time.monotonic(), False, time.time())  # no leader key: not refreshed
    fence.saw(leader("pg2"), time.monotonic(), False, time.time())
    assert os.stat(path).st_mtime == stale


def as_postgres() -> dict:
    return {"user": "postgres", "group": "postgres"} if os.getuid() == 0 else {}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A throwaway PostgreSQL with the module preloaded, the lease at 1 s, a non-superuser `app`."""
    home = Path(tmp_path_factory.mktemp("lease"))
    home.chmod(0o755)
    for parent in home.parents:  # pytest's own directories are 700: the postgres user must pass
        if str(parent).startswith("/tmp/pytest-of-") and os.getuid() == 0:
            parent.chmod(parent.stat().st_mode | 0o011)
    module = cluster.build_lease_module(home / "d120_lease.so")
    if module is None:
        pytest.skip("needs a C compiler and PostgreSQL's server headers (ops/ha/cluster.py)")
    beat = home / "beat"
    beat.touch(mode=0o644)
    data, port = home / "data", free_ports(1)[0]
    if os.getuid() == 0:
        shutil.chown(home, "postgres", "postgres")
    bin_dir = Path(cluster.pg_bin_dir())
    run = {"check": True, "capture_output": True, "timeout": 120, **as_postgres()}
    subprocess.run([bin_dir / "initdb", "-D", data, "-A", "trust", "-U", "postgres"], **run)
    options = (
        f"-p {port} -k {home} -c listen_addresses='' -c shared_preload_libraries={module.with_suffix('')}"
        f" -c dispatch120.lease_file={beat} -c dispatch120.lease_s=1"
    )
    subprocess.run([bin_dir / "pg_ctl", "-D", data, "-l", home / "log", "-o", options, "-w", "start"], **run)
    try:
        with psycopg.connect(host=str(home), port=port, user="postgres", dbname="postgres") as conn:
            conn.autocommit = True
            conn.execute("CREATE ROLE app LOGIN")
            conn.execute("CREATE TABLE assignments (unit int, cleared boolean)")
            conn.execute("INSERT INTO assignments VALUES (1, false)")
            conn.execute("GRANT SELECT, INSERT ON assignments TO app")
        yield {"host": str(home), "port": port, "dbname": "postgres", "beat": beat}
    finally:
        subprocess.run([bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "stop"], **{**run, "check": False})


def ask(server: dict, sql: str, user: str = "app"):
    with psycopg.connect(
        host=server["host"], port=server["port"], dbname=server["dbname"], user=user, autocommit=True
    ) as conn:
        return conn.execute(sql).fetchall()


def beat_at(server: dict, seconds_ago: float) -> None:
    moment = time.time() - seconds_ago
    os.utime(server["beat"], (moment, moment))


def test_a_confirmed_lease_serves(server):
    beat_at(server, 0.2)
    assert ask(server, "SELECT count(*) FROM assignments") == [(1,)]


def test_a_lapsed_lease_refuses_every_statement_with_a_retryable_error(server):
    beat_at(server, 4.5)  # a primary frozen past the other watches' revoke
    for sql in (
        "SELECT count(*) FROM assignments",
        # No row to filter: the "unit has no open assignment" answer a per-row check would let by.
        "SELECT unit FROM assignments WHERE unit = 2 AND NOT cleared",
        "SELECT 1",
        "INSERT INTO assignments VALUES (3, false)",
    ):
        with pytest.raises(psycopg.OperationalError) as refused:
            ask(server, sql)
        assert refused.value.sqlstate == "57L01", sql
        assert "lease as primary has lapsed" in str(refused.value)
    # pytest.raises(psycopg.OperationalError) above: class 57 maps to it, and Django re-raises it as
    # its own OperationalError, which dispatch/core/failover.py retries on a fresh connection.


def test_a_missing_heartbeat_is_a_lapsed_lease(server):
    server["beat"].rename(server["beat"].with_name("gone"))
    try:
        with pytest.raises(psycopg.OperationalError) as refused:
            ask(server, "SELECT 1")
        assert refused.value.sqlstate == "57L01"
    finally:
        server["beat"].with_name("gone").rename(server["beat"])


def test_superusers_pass_and_no_session_can_switch_it_off(server):
    beat_at(server, 10)
    assert ask(server, "SELECT count(*) FROM assignments", user="postgres") == [(1,)]  # Patroni, rewind
    with pytest.raises(psycopg.errors.CantChangeRuntimeParam):
        ask(server, "SET dispatch120.lease_s = 0")


@pytest.fixture
def sites(tmp_path, monkeypatch):
    """Site A planned with a built module (a stand-in file), site B beside it; nothing started."""
    import second_site

    monkeypatch.setattr(cluster, "spawn", lambda *args, **kwargs: 0)
    a = cluster.plan(tmp_path, apps=1)
    a.lease_module = str(tmp_path / "d120_lease.so")
    a.save()
    b = second_site.plan_site_b(a)
    b.path.mkdir(parents=True)
    return a, b


def test_site_as_members_load_the_lease_and_the_app_connects_as_its_own_role(sites):
    import yaml

    a, _ = sites
    cluster.start_patroni(a, a.pg[0])
    parameters = yaml.safe_load((a.path / "pg1" / "patroni.yml").read_text())["postgresql"]["parameters"]
    assert parameters["shared_preload_libraries"] == str(a.path / "d120_lease")
    assert parameters["dispatch120.lease_file"] == str(a.path / "pg1" / "lease")  # outside data/
    assert float(parameters["dispatch120.lease_s"]) == cluster.LEASE_S < 3.0  # under FENCE_AFTER_S
    assert a.database_url().startswith(f"postgres://{cluster.APP_ROLE}:{a.app_password}@")
    assert a.node_url(a.pg[0]).startswith(f"postgres://{cluster.APP_ROLE}:")


def test_site_b_has_no_lease_since_no_watch_touches_its_heartbeat(sites):
    """A lease without a watch would refuse every statement once site B is promoted."""
    import yaml

    a, b = sites
    cluster.start_patroni(b, b.pg[0], namespace="/site-b/", archive_command="true")
    parameters = yaml.safe_load((b.path / "pgb1" / "patroni.yml").read_text())["postgresql"]["parameters"]
    assert not any(key.startswith("dispatch120.") for key in parameters)
    assert "shared_preload_libraries" not in parameters
    assert b.database_url().startswith(f"postgres://{cluster.APP_ROLE}:{a.app_password}@")
