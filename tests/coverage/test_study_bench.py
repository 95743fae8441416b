"""ops/bench/coverage in its quick mode on the real Haikou network (skipped without
../shared/data): one JSON line last, with every policy at both loads and the goal judged."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.shared_data import shared_data

ROOT = Path(__file__).resolve().parents[2]
POLICIES = {"closest_idle", "coverage_dispatch", "move_up", "coverage_and_move_up"}


def test_quick_study_prints_every_policy_at_both_loads():
    roads = shared_data("roads", "Haikou.co.tar.gz").parent
    done = subprocess.run(
        [sys.executable, str(ROOT / "ops" / "bench" / "coverage"), "--quick"],
        cwd=ROOT,
        env={**os.environ, "SHARED_DATA": str(roads.parent)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["network"] == "Haikou"
    assert result["units"] == 96  # 2,873,358 people, one unit per 30,000
    assert result["reps"] == 2
    assert set(result["results"]) == {"normal", "surge"}
    for load in result["results"].values():
        assert set(load) == POLICIES
        for name, row in load.items():
            mean, low, high = row["p1_within_8_pct"]
            assert low <= mean <= high
            assert row["relocations_per_unit_hour"][0] <= 1.0  # one per unit per hour at most
            if not name.endswith("move_up"):
                assert row["relocations_per_unit_hour"][0] == 0.0
            if name == "closest_idle":
                assert row["not_fastest_pct"][0] == 0.0
    assert set(result["goal"]["by_policy"]) == POLICIES - {"closest_idle"}
    assert isinstance(result["goal"]["met"], bool)
