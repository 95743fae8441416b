"""The coverage measure (dispatch/coverage/policy.py) on a hand-checked network.

Three demand nodes N0, N1, N2 with weights 0.5, 0.3, 0.2; two free units; target 300 s:

    ETA (s)   N0    N1    N2
    U0         0   200   400     covers N0, N1
    U1       200     0   200     covers N0, N1, N2

so each node is covered by k = (2, 2, 1) units.
"""

import numpy as np
import pytest

from dispatch.coverage.policy import (
    coverage_counts,
    covers,
    expected_uncovered,
    point_gains,
    uncovered_without,
)

W = np.array([0.5, 0.3, 0.2])
ETA = np.array([[0.0, 200.0, 400.0], [200.0, 0.0, 200.0]])


def test_a_unit_covers_a_node_within_the_target_and_never_an_unreachable_one():
    assert covers(ETA, 300).tolist() == [[True, True, False], [True, True, True]]
    assert covers(ETA, 200).tolist() == [[True, True, False], [True, True, True]]  # on the target is in
    assert covers(np.array([[np.inf, np.nan, 299.9]]), 300).tolist() == [[False, False, True]]
    assert coverage_counts(covers(ETA, 300)).tolist() == [2, 2, 1]


def test_busy_zero_is_the_plain_uncovered_demand():
    # k = (2, 2, 1): nothing uncovered; k = (0, 1, 0): N0 and N2 uncovered, 0.5 + 0.2
    assert expected_uncovered(np.array([2, 2, 1]), W, 0.0) == 0.0
    assert expected_uncovered(np.array([0, 1, 0]), W, 0.0) == pytest.approx(0.7)


def test_busy_units_leave_even_covered_nodes_uncovered_sometimes():
    # 0.5 * 0.5^2 + 0.3 * 0.5^2 + 0.2 * 0.5^1 = 0.125 + 0.075 + 0.1 = 0.3
    assert expected_uncovered(np.array([2, 2, 1]), W, 0.5) == pytest.approx(0.3)


def test_what_each_departure_would_leave_uncovered():
    cover = covers(ETA, 300)
    # U0 leaves: k = (1, 1, 1) -> 1.0 * 0.5 = 0.5; U1 leaves: k = (1, 1, 0) -> 0.25 + 0.15 + 0.2 = 0.6
    assert uncovered_without(cover, W, 0.5) == pytest.approx([0.5, 0.6])
    # busy 0: U0 leaving uncovers nothing, U1 leaving uncovers N2 (0.2)
    assert uncovered_without(cover, W, 0.0) == pytest.approx([0.0, 0.2])
    assert uncovered_without(cover, W, 0.5, np.array([1])) == pytest.approx([0.6])


def test_gain_of_one_more_unit_at_each_point():
    cover = covers(ETA, 300)
    points = np.array([[False, False, True], [True, False, False]])  # P0 covers N2, P1 covers N0
    # residual w * busy^k = (0.125, 0.075, 0.1); one more unit removes (1 - busy) of it:
    # P0: 0.1 * 0.5 = 0.05; P1: 0.125 * 0.5 = 0.0625
    assert point_gains(cover, points, W, 0.5) == pytest.approx([0.05, 0.0625])


def test_a_busy_share_of_one_or_more_is_refused():
    with pytest.raises(ValueError):
        uncovered_without(covers(ETA, 300), W, 1.0)
