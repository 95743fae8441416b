"""Move-up (best_move) on a hand-checked network: demand nodes N0, N1, N2 (weights 0.5, 0.3,
0.2); both free units U0, U1 wait at point P0 on N0, which covers N0 and N1; point P2 on N2
covers N1 and N2. Nobody covers N2."""

import numpy as np
import pytest

from dispatch.coverage.policy import best_move

W = np.array([0.5, 0.3, 0.2])
P0 = [True, True, False]
P2 = [False, True, True]
POINTS = np.array([P0, P2])
UNITS = np.array([P0, P0])  # both at P0
TRAVEL = np.array([[0.0, 400.0], [0.0, 350.0]])  # U1 is a little nearer P2
BOTH = np.array([True, True])


def test_a_unit_moves_to_fill_the_gap_and_the_nearer_one_goes():
    # busy 0: before, N2 (0.2) is uncovered; U1 at P2 gives k = (1, 2, 1): nothing uncovered
    move = best_move(UNITS, BOTH, POINTS, TRAVEL, W, 0.0, 900.0, 0.01)
    assert move is not None
    assert (move.unit, move.point) == (1, 1)
    assert move.gain == pytest.approx(0.2)
    assert move.travel_s == 350.0


def test_only_movable_units_move():
    move = best_move(UNITS, np.array([True, False]), POINTS, TRAVEL, W, 0.0, 900.0, 0.01)
    assert move is not None and (move.unit, move.point, move.travel_s) == (0, 1, 400.0)
    assert best_move(UNITS, np.array([False, False]), POINTS, TRAVEL, W, 0.0, 900.0, 0.01) is None


def test_no_move_beyond_the_longest_drive_or_below_the_least_gain():
    assert best_move(UNITS, BOTH, POINTS, TRAVEL, W, 0.0, 300.0, 0.01) is None
    assert best_move(UNITS, BOTH, POINTS, TRAVEL, W, 0.0, 900.0, 0.25) is None  # gain is 0.2


def test_a_move_that_opens_a_bigger_hole_is_not_made():
    # busy 0.5: before 0.5*0.25 + 0.3*0.25 + 0.2*1 = 0.4; U1 at P2: k = (1, 2, 1) gives
    # 0.5*0.5 + 0.3*0.25 + 0.2*0.5 = 0.425: worse (N0's second unit is worth more)
    assert best_move(UNITS, BOTH, POINTS, TRAVEL, W, 0.5, 900.0, 0.0) is None


def test_staying_put_is_never_a_move():
    covered = np.array([[True, True, True], [True, True, True]])
    assert best_move(covered, BOTH, POINTS, TRAVEL, W, 0.0, 900.0, 0.0) is None
