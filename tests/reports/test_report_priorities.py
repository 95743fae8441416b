"""Response by priority: each priority's mean, median and exact 90th percentile of call received
to on scene, judged against its own mean and 90th-centile targets (priority I as the NHS's
Category 1: 7 and 15 minutes; priority II as Category 2: 18 and 40 minutes)."""

import math
from datetime import timedelta

import pytest

from dispatch.models import Incident
from tests.support.report_world import MARCH, MONTH_QUERY, Job, make, signed_in, steady

pytestmark = pytest.mark.django_db

# answer 5 s + processing 40 s + turnout 60 s before the travel: response = 105 s + travel.
BEFORE_TRAVEL_S = 105


def job(world, n: int, priority: int | None, travel: float) -> Incident:
    return make(
        world,
        Job(MARCH + timedelta(hours=n), steady(travel=travel), priority=priority, unit=world.als1),
    )


@pytest.fixture
def month(world):
    """Priority I: eight quick, two slow (the mean is within 7 min, the 90th percentile is not).
    Priority II: three steady ones. Priority III: one. And one never triaged."""
    made = []
    travels = [(1, 100.0)] * 8 + [(1, 900.0)] * 2 + [(2, 500.0)] * 3 + [(3, 700.0), (None, 300.0)]
    for n, (priority, travel) in enumerate(travels):
        made.append(job(world, n, priority, travel))
    return made


def nearest_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(p * len(ordered)) - 1]


def rows(world, query: str = MONTH_QUERY) -> dict:
    response = signed_in(world.bob).get(f"/api/reports/priorities?{query}")
    assert response.status_code == 200, response.content
    return {row["priority"]: row for row in response.json()}


def test_each_priority_against_its_own_targets(world, month):
    found = rows(world)
    assert list(found) == [1, 2, 3, 4, None]  # every priority, then the untriaged

    responses = [
        (i.on_scene_at - i.call_received_at).total_seconds() for i in Incident.objects.filter(priority=1)
    ]
    assert sorted(set(responses)) == [BEFORE_TRAVEL_S + 100, BEFORE_TRAVEL_S + 900]
    one = found[1]
    assert (one["incidents"], one["count"]) == (10, 10)
    assert one["mean_s"] == pytest.approx(sum(responses) / len(responses))
    assert one["median_s"] == nearest_rank(responses, 0.5)
    assert one["p90_s"] == nearest_rank(responses, 0.9) == BEFORE_TRAVEL_S + 900
    assert (one["target_mean_s"], one["target_p90_s"]) == (420, 900)
    assert one["mean_met"] is True and one["p90_met"] is False

    two = found[2]
    assert (two["incidents"], two["mean_s"], two["p90_s"]) == (
        3,
        BEFORE_TRAVEL_S + 500,
        BEFORE_TRAVEL_S + 500,
    )
    assert (two["target_mean_s"], two["target_p90_s"]) == (1080, 2400)
    assert two["mean_met"] is True and two["p90_met"] is True

    three = found[3]
    assert three["incidents"] == 1 and three["target_mean_s"] is None and three["mean_met"] is None
    assert found[4]["incidents"] == 0 and found[4]["mean_s"] is None
    assert found[None]["incidents"] == 1 and found[None]["label"] is None


def test_the_priority_filter_leaves_its_own_row(world, month):
    found = rows(world, f"{MONTH_QUERY}&priority=2")
    assert list(found) == [2]
    assert found[2]["incidents"] == 3


def test_targets_follow_the_settings(world, month, settings):
    settings.RESPONSE_TARGETS_BY_PRIORITY = {1: (300, 1200)}
    found = rows(world)
    assert found[1]["mean_met"] is False and found[1]["p90_met"] is True
    assert found[2]["target_mean_s"] is None and found[2]["mean_met"] is None


def test_a_bad_priority_is_refused(world, month):
    response = signed_in(world.bob).get(f"/api/reports/priorities?{MONTH_QUERY}&priority=9")
    assert response.status_code in (400, 422)
