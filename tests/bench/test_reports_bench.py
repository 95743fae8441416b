"""ops/bench/reports in its short mode: the year report page over HTTP against a real daphne,
cold and warm, on a small year (20,000 incidents) in the bench's own PostgreSQL cluster.

Checks the JSON line's shape, that every request of the page answered 200, and that the bench
loads every figure the page's script loads when it opens (so a chart added to the page without
the bench timing it fails here)."""

import importlib.machinery
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "ops" / "bench" / "reports"
API = [
    "summary",
    "units",
    "hospitals",
    "priorities",
    "people",
    "distribution",
    "trend_day",
    "trend_hour",
    "areas",
]


def bench_module():
    loader = importlib.machinery.SourceFileLoader("bench_reports", str(BENCH))
    spec = importlib.util.spec_from_loader("bench_reports", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_the_bench_loads_every_figure_the_page_opens_with():
    """reports.js's start() and selectInterval() fetch these; clicks (drill-down, timeline) do not
    count: they are not part of opening the page."""
    script = (ROOT / "static" / "js" / "reports.js").read_text()
    opened = {
        (path, tuple(sorted(re.findall(r'(\w+): "(\w+)"', extra))))
        for path, extra in re.findall(r'report\("(/api/reports/\w+)"(?:,\s*\{([^}]*)\})?\)', script)
        if path != "/api/reports/incidents"  # the drill-down, on a click
    }
    bench = bench_module()
    timed = {
        (path, tuple(sorted((k, v) for k, v in extra.items() if k != "interval")))
        for _name, path, extra in bench.FIRST_WAVE + bench.SECOND_WAVE
    }
    # The page names the interval by a variable (key), the bench the default one (response).
    opened = {(path, tuple(kv for kv in extra if kv[0] != "interval")) for path, extra in opened}
    assert opened == timed


@pytest.mark.skipif(not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")), reason="no PostgreSQL")
def test_short_bench_prints_cold_and_warm_figures_and_every_request_answers():
    done = subprocess.run(
        [sys.executable, str(BENCH), "--incidents", "20000", "--runs", "1"],
        cwd=ROOT,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.stdout.strip(), done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 0, (result.get("failed"), done.stderr[-3000:])
    assert result["incidents"] == 20000
    assert result["calls"] > result["incidents"]  # abandoned calls on top of every incident's call
    assert result["failed"] == []
    names = ["page", "reports.css", "reports.js", "shared.js", *API]
    assert result["status"] == {name: [200] for name in names}
    for run in ("cold", "warm"):
        assert isinstance(result[run]["page_ms"], float) and result[run]["page_ms"] > 0
        assert set(result[run]["endpoints"]) == set(names)
        assert all(ms > 0 for ms in result[run]["endpoints"].values())
        # the page waits for its slowest figure: never quicker than any one of them
        assert result[run]["page_ms"] >= max(result[run]["endpoints"].values())
    assert result["goal_cold_page_ms"] == 1500
    assert result["cold_met"] == (result["cold"]["page_ms"] <= 1500)
    assert result["postgres_restarted"] is True
    assert result["drop_caches"] == "ok" or result["drop_caches"].startswith("refused")
    assert len(result["load_average"]) == 3
