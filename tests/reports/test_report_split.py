"""A big report runs in parts (a share of the intervals each, for PostgreSQL to hand to its
parallel workers); the figures are the same as from one pass."""

from datetime import timedelta

from dispatch import reports
from dispatch.reports import figures
from tests.support.report_world import MARCH, Job, make, steady


def test_split_and_single_pass_agree(world, monkeypatch, settings):
    for n in range(12):
        make(world, Job(MARCH + timedelta(hours=n), steady(answer=2.0 + n, travel=300.0 + 37 * n)))
    f = reports.ReportFilter(start=MARCH, end=MARCH + timedelta(days=31))
    settings.REPORT_WORKERS = 1
    single = reports.summary(f)
    # Configuration, not a stand-in: lower the threshold so a dozen rows count as big.
    monkeypatch.setattr(figures, "SPLIT_ABOVE_ROWS", 0)
    settings.REPORT_WORKERS = 2
    split = reports.summary(f)
    assert split == single
    sql, _params, groups = figures.summary_query(f, reports.targets())
    assert len(groups) == 2 and sql.count("UNION ALL") == 1
    assert single["incidents"] == 12
    # Nearest rank: the 11th of 12 travel times, 300 + 37 x 10 s.
    assert next(row for row in split["intervals"] if row["key"] == "travel")["p90_s"] == 670.0
