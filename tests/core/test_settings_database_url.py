"""DATABASE_URL with several hosts becomes a libpq multi-host connection (failover)."""

import pytest

from dispatch.settings import DB_TCP_TIMEOUTS, database_from_url


def test_several_hosts_and_session_attrs():
    db = database_from_url(
        "postgres://app:s%40cret@db1:5432,db2:6432,db3/dispatch?target_session_attrs=read-write&connect_timeout=2"
    )
    assert db["HOST"] == "db1,db2,db3"
    assert db["PORT"] == "5432,6432,5432"
    assert db["USER"] == "app" and db["PASSWORD"] == "s@cret" and db["NAME"] == "dispatch"
    assert db["OPTIONS"] == {"target_session_attrs": "read-write", "connect_timeout": "2", **DB_TCP_TIMEOUTS}


def test_the_url_may_set_its_own_tcp_timeouts():
    options = database_from_url("postgres://u@h/d?tcp_user_timeout=9000&keepalives_idle=5")["OPTIONS"]
    assert options["tcp_user_timeout"] == "9000" and options["keepalives_idle"] == "5"
    assert options["keepalives_interval"] == DB_TCP_TIMEOUTS["keepalives_interval"]


def test_connect_timeout_defaults_short():
    assert database_from_url("postgres://u@h/d")["OPTIONS"]["connect_timeout"] == "3"


def test_other_schemes_are_refused_with_a_message():
    with pytest.raises(ValueError, match="postgres://"):
        database_from_url("mysql://u@h/d")
