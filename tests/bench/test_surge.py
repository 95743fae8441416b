"""The surge benchmark's short mode (ops/bench/surge): everything at once against a real daphne,
for 20 s at one call a second with 200 units. Its last line is one JSON object of the documented
shape, with no error, no lost event and no lost fix; and it leaves no database behind."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
sys.path.insert(0, str(ROOT / "ops" / "bench"))
from stats import ms, percentile  # noqa: E402

ACTIONS = ("take", "locate", "triage", "recommendation", "dispatch", "crew_tap", "webhook", "event", "row")


def bench_databases() -> set[str]:
    with psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=5) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'bench_surge_%'").fetchall()
    return {name for (name,) in rows}


def test_percentile_is_nearest_rank_and_a_lost_one_is_infinitely_late():
    assert percentile([5, 1, 4, 2, 3], 50) == 3
    assert percentile([0.01] * 99 + [2.0], 99) == 0.01
    assert percentile([0.01] * 99 + [2.0], 100) == 2.0
    assert percentile([0.01] * 99, 99, missing=1) == 0.01
    assert percentile([0.01] * 98, 99, missing=2) == float("inf")
    assert ms(percentile([], 99)) == 0.0
    assert ms(float("inf")) is None


@pytest.mark.timeout(1200)
def test_short_surge_runs_everything_at_once_and_loses_nothing():
    before = bench_databases()
    done = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            "ops/bench/surge",
            "--seconds",
            "20",
            "--rate",
            "1",
            "--units",
            "200",
            # this checks that nothing is lost, not the speed: a loaded machine gets time to catch up
            "--drain",
            "120",
            "--finish-within",
            "240",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1150,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    print(done.stderr[-3000:], done.stdout[-4000:])  # shown when an assertion fails
    result = json.loads(done.stdout.strip().splitlines()[-1])

    assert result["bench"] == "surge" and result["units"] == 200 and result["rate"] == 1.0
    assert result["concurrency"] == {
        "dispatchers": 20,
        "consoles": 100,
        "er_boards": 20,
        "tablets": 50,
        "trackers": 200,
        "fix_interval_s": 5.0,
        "tracker_connections": 200,
        "admins": 1,
    }
    for action in ACTIONS:
        for q in ("p50", "p99"):
            value = result[f"{action}_{q}_ms"]
            assert isinstance(value, float) and value > 0, (action, q, value)
    for key in ("position_age_p50_ms", "position_age_p95_ms"):
        assert isinstance(result[key], float) and result[key] > 0, key
    # The age's parts: sent after due (never before it), and answered-to-shown within the whole.
    assert isinstance(result["fix_sent_late_p95_ms"], float) and result["fix_sent_late_p95_ms"] > -5
    assert 0 < result["position_stored_to_shown_p95_ms"] <= result["position_age_p95_ms"] + 1
    assert result["calls_sent"] == result["calls_taken"] == result["dispatched"] == 20
    assert result["unfinished_calls"] == result["unfinished_jobs"] == 0 and result["jobs_done"] == 20
    assert result["replays_same"] == 20  # every acknowledgement resent with its key answered the same
    assert result["year_report_loads"] >= 1
    assert result["events"] > 100 and result["fixes_sent"] >= 700
    assert result["errors"] == 0 and result["action_errors"] == 0 and result["screens_closed"] == 0
    assert result["events_lost"] == 0
    # Every event about an incident but a crew's tap (created, located, triaged, dispatched...)
    # reached every console as a row too.
    assert result["row_events"] >= 3 * 20 and result["rows_unseen"] == 0
    assert result["fixes_lost"] == 0 and result["fixes_unseen"] == 0
    assert result["board_frames"] > 0 and result["tablet_frames"] > 0
    assert len(result["load_avg"].split()) == 3 and result["cpu_cores"] >= 1
    assert bench_databases() == before  # its own database, dropped after
