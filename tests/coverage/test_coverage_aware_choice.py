"""Coverage-aware dispatch (choose_unit) on the network of test_expected_coverage.py: a call at
N1. U1 is there (ETA 0 s), U0 200 s away. U1 is the only unit covering N2, so sending it
leaves more demand uncovered (0.6 expected at busy 0.5) than sending U0 (0.5)."""

import numpy as np
import pytest

from dispatch.coverage.policy import DEFAULT_MARGINS_S, choose_unit, closest, covers, margin_for

W = np.array([0.5, 0.3, 0.2])
ETA = np.array([[0.0, 200.0, 400.0], [200.0, 0.0, 200.0]])
COVER = covers(ETA, 300)
AT_N1 = ETA[:, 1]  # (200, 0)


def test_without_a_margin_the_fastest_goes():
    choice = choose_unit(AT_N1, COVER, W, 0.5, 0.0)
    assert choice is not None and choice.unit == 1 == choice.fastest
    assert choice.coverage_kept == 0.0


def test_within_the_margin_the_unit_that_keeps_coverage_goes():
    choice = choose_unit(AT_N1, COVER, W, 0.5, 250.0)
    assert choice is not None
    assert (choice.unit, choice.fastest) == (0, 1)
    assert choice.eta_s == 200.0 and choice.fastest_eta_s == 0.0
    # 0.6 left uncovered by sending U1, 0.5 by sending U0: 0.1 kept
    assert choice.uncovered_after == pytest.approx(0.5)
    assert choice.coverage_kept == pytest.approx(0.1)
    # busy 0: U0 leaves nothing uncovered, U1 leaves N2 (0.2)
    assert choose_unit(AT_N1, COVER, W, 0.0, 250.0).coverage_kept == pytest.approx(0.2)


def test_a_unit_just_outside_the_margin_is_not_considered():
    choice = choose_unit(AT_N1, COVER, W, 0.5, 199.0)  # U0 is 200 s slower
    assert choice is not None and choice.unit == 1


def test_equal_coverage_goes_to_the_faster_unit():
    # two units at the same place but one 30 s further: same coverage, so the faster
    eta = np.array([[30.0, 100.0], [0.0, 100.0]])
    cover = covers(eta, 300)
    choice = choose_unit(eta[:, 0], cover, np.array([0.5, 0.5]), 0.3, 120.0)
    assert choice is not None and choice.unit == 1


def test_no_reachable_unit_gives_no_choice():
    assert choose_unit(np.array([np.inf, np.inf]), COVER, W, 0.5, 60.0) is None
    assert choose_unit(np.empty(0), np.zeros((0, 3), bool), W, 0.5, 60.0) is None
    assert closest(np.array([np.inf, 5.0, 5.0])) == 1


def test_priority_one_is_never_sent_a_slower_unit_by_default():
    assert margin_for(1) == 0.0 == DEFAULT_MARGINS_S[0]
    choice = choose_unit(AT_N1, COVER, W, 0.5, margin_for(1))
    assert choice is not None and choice.unit == 1
    # the calls that can wait may get a slower unit; beyond IV counts as IV, below I as I
    assert margin_for(3) > 0 and margin_for(9) == DEFAULT_MARGINS_S[-1] and margin_for(0) == 0.0


def test_a_negative_margin_is_refused():
    with pytest.raises(ValueError):
        choose_unit(AT_N1, COVER, W, 0.5, -1.0)
