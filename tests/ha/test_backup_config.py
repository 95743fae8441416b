"""The pgBackRest configuration the HA topology renders (ops/ha/backup.py, ops/ha/templates/): every
Patroni node archives into one repository at the second site, backups are read from a standby
and kept by a written-down retention, and a restored server never archives into the live
cluster's stanza nor waits for a synchronous standby it does not have.

The backups, the failover and the point-in-time recovery themselves are `make restore-drill`'s job
(ops/ha/restore_drill.py); this checks the files, quickly, in every `make test`.
"""

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "ops" / "ha"))
import backup  # noqa: E402
import cluster  # noqa: E402


def settings(path: Path) -> dict[str, str]:
    """An ini file's key=value lines (pgBackRest's format), sections flattened."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and line[0] != "#")
    return {key.strip(): value.strip() for key, value in pairs}


@pytest.fixture
def topo(tmp_path: Path) -> Any:
    topo = cluster.plan(tmp_path, apps=1)
    topo.save()
    return topo


def test_each_node_archives_with_its_own_data_directory_into_the_second_sites_repository(topo):
    commands = {node["name"]: backup.prepare_node(topo, node) for node in topo.pg}
    for node in topo.pg:
        config = Path(topo.dir) / node["name"] / "pgbackrest" / "pgbackrest.conf"
        assert commands[node["name"]].endswith(f"--config={config} --stanza=d120 archive-push %p")
        values = settings(config)
        assert values["pg1-path"] == str(Path(topo.dir) / node["name"] / "data")
        assert values["pg1-port"] == str(node["pg_port"])
        assert values["repo1-path"] == str(Path(topo.dir) / "site-b" / "backrest")
        assert values["repo1-cipher-type"] == "aes-256-cbc"
        assert len(values["repo1-cipher-pass"]) >= 40
    # One repository for all nodes, on none of the database machines.
    repo = Path(topo.dir) / "site-b" / "backrest"
    assert repo.is_dir()
    assert not any(repo.is_relative_to(Path(topo.dir) / n["name"]) for n in topo.pg)
    assert len({settings(backup.node_config(topo, n["name"]))["repo1-cipher-pass"] for n in topo.pg}) == 1


def test_the_backup_host_knows_every_node_reads_from_a_standby_and_keeps_four_full_backups(topo):
    backup.prepare_node(topo, topo.pg[0])
    values = settings(backup.repo_config(topo))
    for k, node in enumerate(topo.pg, start=1):
        assert values[f"pg{k}-path"] == str(Path(topo.dir) / node["name"] / "data")
        assert values[f"pg{k}-port"] == str(node["pg_port"])
    assert values["backup-standby"] == "y"
    assert values["repo1-retention-full-type"] == "count"
    assert values["repo1-retention-full"] == "4"
    assert values["repo1-retention-diff"] == "7"
    assert values["repo1-retention-archive-type"] == "full"


def test_patroni_turns_archiving_on_for_the_cluster_and_gives_each_node_its_command(topo, monkeypatch):
    monkeypatch.setattr(cluster, "spawn", lambda *args, **kwargs: 0)
    node = topo.pg[1]
    cluster.start_patroni(topo, node)
    rendered = (Path(topo.dir) / node["name"] / "patroni.yml").read_text()
    dcs, local = rendered.split("\npostgresql:\n", 1)
    # archive_mode in the cluster-wide settings, so a promoted standby archives too; "on",
    # since pgBackRest refuses backups with "always".
    assert '        archive_mode: "on"' in dcs
    assert "        archive_timeout: 60" in dcs
    command = backup.archive_command(backup.node_config(topo, node["name"]))
    assert f'    archive_command: "{command}"' in local


def test_a_restored_server_does_not_archive_wait_for_a_standby_or_take_a_nodes_port(tmp_path):
    args = backup.restored_settings(tmp_path, 54329)
    given = dict(arg.split("=", 1) for arg in args[1::2])
    assert args[0::2] == ["-c"] * len(given)
    assert given["archive_mode"] == "off"
    assert given["synchronous_standby_names"] == ""
    assert given["primary_conninfo"] == ""
    assert given["port"] == "54329"
    assert given["unix_socket_directories"] == str(tmp_path)
    assert given["hba_file"] == str(tmp_path / "data" / "pg_hba.conf")
    # No watch touches a heartbeat there: the primary's lease off, its module not loaded.
    assert given["shared_preload_libraries"] == ""
    assert given["dispatch120.lease_s"] == "0"


def test_restore_refuses_a_data_directory_that_is_not_empty(topo, tmp_path):
    home = tmp_path / "restored"
    (home / "data").mkdir(parents=True)
    (home / "data" / "PG_VERSION").write_text("15\n")
    with pytest.raises(RuntimeError, match="not empty"):
        backup.restore(topo, "2026-12-06 07:50:00+00", home, 54329)
    assert (home / "data" / "PG_VERSION").read_text() == "15\n"


def test_the_schedule_is_full_weekly_diff_daily_incr_hourly_and_a_daily_verify():
    lines = [line for line in backup.crontab().splitlines() if not line.startswith("#")]
    command = "postgres pgbackrest --config=/etc/pgbackrest/pgbackrest.conf --stanza=d120"
    assert lines == [
        f"30 1 * * 0 {command} --type=full backup",
        f"30 1 * * 1-6 {command} --type=diff backup",
        f"15 * * * * {command} --type=incr backup",
        f"45 4 * * * {command} verify",
    ]


def test_pgbackrest_reads_the_backup_hosts_file_and_finds_no_stanza_yet(topo):
    binary = shutil.which("pgbackrest")
    if not binary:
        pytest.skip("needs Debian's pgbackrest (ops/local/bootstrap.sh ha installs it)")
    backup.prepare_node(topo, topo.pg[0])
    done = subprocess.run(
        [binary, f"--config={backup.repo_config(topo)}", "--stanza=d120", "info", "--output=json"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert '"message":"missing stanza path"' in done.stdout
