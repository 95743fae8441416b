"""Targets come from settings (REPORT_TARGETS, docs/targets.md defaults) and the REPORT_TARGETS
override; compliance is computed against whatever is configured."""

import pytest

from dispatch.reports import intervals
from tests.support.report_world import MARCH, MONTH_QUERY, Job, make, signed_in, steady


def test_defaults_are_the_anchors():
    table = intervals.targets()
    assert [(t.within_s, t.goal_pct) for t in table["answer"]] == [(10, 95)]
    assert [(t.within_s, t.goal_pct) for t in table["turnout"]] == [(180, 95)]
    assert [(t.within_s, t.goal_pct) for t in table["departure"]] == [(180, 95)]
    assert [t.within_s for t in table["handover"]] == [900, 1800, 3600]


def test_the_override_replaces_named_intervals(world, settings):
    make(world, Job(MARCH, steady(travel=650.0)))  # response 755 s
    client = signed_in(world.bob)

    def response_targets():
        body = client.get(f"/api/reports/summary?{MONTH_QUERY}").json()
        return next(row for row in body["intervals"] if row["key"] == "response")["targets"]

    assert [(t["within_s"], t["met"]) for t in response_targets()] == [(900, True)]
    settings.REPORT_TARGETS_OVERRIDE = "response=720:90,1200:95; answer=20:90"
    assert [(t["within_s"], t["met"]) for t in response_targets()] == [(720, False), (1200, True)]
    assert [t.within_s for t in intervals.targets()["answer"]] == [20]


@pytest.mark.parametrize("text", ["speed=10:90", "response=ten:90", "response=10"])
def test_a_bad_override_says_what_is_wrong(settings, text):
    settings.REPORT_TARGETS_OVERRIDE = text
    with pytest.raises(ValueError, match="REPORT_TARGETS_OVERRIDE"):
        intervals.targets()
