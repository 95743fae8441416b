"""The study's simulation (ops/bench/coverage_study/study_sim.py) on a hand-made city of three demand
nodes on a line, 200 s apart: N0 (weight 0.5) - N1 (0.3) - N2 (0.2). Stations S0 on N0 and S1
on N1 with one unit each (U0, U1); the hospital on N2. The coverage target is 480 s less the mean
call processing (about 65 s), turnout included (about 50 s): so a unit covers its own node and
the next (200 s), never the one two away (400 s)."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "ops" / "bench" / "coverage_study"))

from study_sim import POLICIES, Call, City, Params, coverage_target_s, mean_turnout_s, simulate  # noqa: E402

T = np.array([[0.0, 200.0, 400.0], [200.0, 0.0, 200.0], [400.0, 200.0, 0.0]])
NODES = np.array([0, 1, 2])  # S0, S1, hospital
CITY = City(
    name="line",
    weights=np.array([0.5, 0.3, 0.2]),
    to_nodes=T[NODES],
    to_points=T[:, NODES],
    point_node=NODES,
    stations=np.array([0, 1]),
    standby=np.array([], np.int64),
    hospitals=np.array([2]),
    unit_home=np.array([0, 1]),
    calls_per_hour=1.0,
)
BY_NAME = {p.name: p for p in POLICIES}
# margins by priority I..IV: 250 s lets U0 (200 s slower) go for priority II-IV, never for I
PARAMS = Params(margins_s=(0.0, 250.0, 250.0, 250.0))


def call_at_n1(priority: int) -> Call:
    """Processing 60 s, turnout 50 s, drives exactly as expected (noise 1)."""
    return Call(0.0, 1, priority, 60.0, 50.0, 10.0, 1.0, 600.0, False, 1.0, 600.0, True)


def test_the_hand_city_covers_as_the_docstring_says():
    assert mean_turnout_s() + 200 <= coverage_target_s() < mean_turnout_s() + 400


@pytest.mark.parametrize(
    ("policy", "priority", "response_s"),
    [
        # closest idle: U1 is on N1: 60 + 50 + 0
        ("closest_idle", 3, 110.0),
        ("closest_idle", 1, 110.0),
        # coverage-aware: U1 alone covers N2, U0 is 200 s slower, within priority III's margin
        # (PARAMS):
        # U0 goes, 60 + 50 + 200
        ("coverage_dispatch", 3, 310.0),
        # ... but never for priority I (margin 0)
        ("coverage_dispatch", 1, 110.0),
    ],
)
def test_who_goes(policy: str, priority: int, response_s: float):
    result = simulate(CITY, [call_at_n1(priority)], BY_NAME[policy], PARAMS, hours=1.0)
    assert result.responses == [(priority, pytest.approx(response_s))]
    assert result.relocations == 0
    assert result.not_fastest == (response_s > 110.0)


def test_move_up_fills_the_hole_once_and_counts_it():
    # U1 leaves for N1; U0 alone at S0 leaves N2 uncovered (busy 1 of 2: 0.5 * 0.5 + 0.3 * 0.5
    # + 0.2 = 0.6 expected uncovered); at S1 it covers all three (1.0 * 0.5 = 0.5): gain 0.1,
    # so U0 moves to S1. U1, free at the hospital after 60+50+600+200+600 s, goes home to S1
    # (S1 gains 0.25 there, S0 only 0.2) and U0 may not move again within the hour.
    result = simulate(CITY, [call_at_n1(3)], BY_NAME["move_up"], PARAMS, hours=1.0)
    assert result.responses == [(3, pytest.approx(110.0))]
    assert result.relocations == 1
    assert result.unit_hours == 2.0


def test_a_call_waits_for_the_first_unit_free_and_priority_i_first():
    # both units busy with a priority IV call each; then a priority III and a priority I call wait;
    # the first unit free (at the hospital, N2) takes the priority I call
    calls = [
        Call(0.0, 0, 4, 60.0, 50.0, 10.0, 1.0, 600.0, False, 1.0, 600.0, True),
        Call(1.0, 1, 4, 60.0, 50.0, 10.0, 1.0, 600.0, False, 1.0, 600.0, True),
        Call(100.0, 0, 3, 60.0, 50.0, 10.0, 1.0, 600.0, False, 1.0, 600.0, True),
        Call(200.0, 0, 1, 60.0, 50.0, 10.0, 1.0, 600.0, False, 1.0, 600.0, True),
    ]
    result = simulate(CITY, calls, BY_NAME["closest_idle"], PARAMS, hours=1.0)
    # U1 (call 2 at N1): on scene 61 + 50 = 111, leaves 711, at hospital 911, free 1511;
    # from the hospital it acknowledges (10 s) and drives N2 -> N0 (400 s): 1921 - 200
    responses = {p: s for p, s in result.responses if p in (1, 3)}
    assert responses[1] == pytest.approx(1511 + 10 + 400 - 200)
