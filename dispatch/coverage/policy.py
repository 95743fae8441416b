"""Coverage over travel-time matrices, and the policies that keep it.

Demand lives on demand nodes (weights: expected calls, or people). A free unit covers a node
when its ETA there (turnout included) is within the target. Coverage is counted the way the
maximum expected covering location model does (MEXCLP, Daskin 1983): a node covered by k free
units is still left without a unit when all k are busy, so with each unit busy with probability
`busy` the expected uncovered demand is

    U = sum_j w_j * busy ** k_j

With busy = 0 this is the plain uncovered demand (busy ** 0 = 1, busy ** k = 0 for k >= 1); with
busy > 0 a second unit near a node is worth something too, less than the first. Jagtenberg,
van den Berg and van der Mei (2017) used the same measure for dynamic dispatch and relocation.

Everything here is a pure function of arrays, so the recommendation, the console's coverage
layer and the study (ops/bench/coverage) share one definition.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TIE_S = 1e-9  # demand differences below this are ties (floating-point noise)
# How much slower than the fastest free unit the coverage-aware choice may send, by priority
# I .. IV, in seconds: none for priority I (a much faster unit is never passed over), more for
# the calls that can wait a little (tuned in docs/coverage-study.md).
DEFAULT_MARGINS_S = (0.0, 60.0, 180.0, 180.0)


def margin_for(priority: int, margins_s: tuple[float, ...] = DEFAULT_MARGINS_S) -> float:
    """The margin for a call of this priority (1 = most urgent). Below 1 counts as priority I
    (no margin: the safe side), beyond the last as the last."""
    return float(margins_s[min(max(int(priority), 1), len(margins_s)) - 1])


def covers(eta_s: np.ndarray, target_s: float) -> np.ndarray:
    """Boolean matrix: row i (a unit or a point) reaches column j (a demand node) within the
    target. Unreachable (inf) and unknown (nan) ETAs cover nothing."""
    eta = np.asarray(eta_s, np.float64)
    return np.isfinite(eta) & (eta <= target_s)


def coverage_counts(cover: np.ndarray) -> np.ndarray:
    """How many free units cover each demand node (0: no free unit reaches it in time)."""
    return np.asarray(cover, bool).sum(axis=0)


def expected_uncovered(counts: np.ndarray, weights: np.ndarray, busy: float) -> float:
    """sum_j w_j * busy ** k_j: the demand expected to find no covering unit free."""
    k = np.asarray(counts)
    return float(np.sum(np.asarray(weights, np.float64) * np.power(float(busy), k)))


def _check_busy(busy: float) -> float:
    if not 0.0 <= busy < 1.0:
        raise ValueError(f"busy must be in [0, 1), not {busy}")
    return float(busy)


def _powers(busy: float, top: int) -> np.ndarray:
    """busy ** 0 .. busy ** top, for looking up busy ** k (faster than a power per element)."""
    return np.power(busy, np.arange(top + 1, dtype=np.float64))


def uncovered_without(
    cover: np.ndarray, weights: np.ndarray, busy: float, rows: np.ndarray | None = None
) -> np.ndarray:
    """For each free unit (row of `cover`; only `rows` when given), the expected uncovered
    demand once it has left."""
    busy = _check_busy(busy)
    cover = np.asarray(cover, bool)
    k = cover.sum(axis=0)
    picked = cover if rows is None else cover[rows]
    return np.asarray(_powers(busy, int(k.max(initial=0)))[k - picked] @ np.asarray(weights, np.float64))


@dataclass(frozen=True)
class Choice:
    """The unit to send (index into the free units), the fastest one, and the expected uncovered
    demand each would leave behind: the reason a slower unit was chosen, when it was."""

    unit: int
    fastest: int
    eta_s: float
    fastest_eta_s: float
    uncovered_after: float
    uncovered_after_fastest: float

    @property
    def coverage_kept(self) -> float:
        """Demand kept covered by not sending the fastest (0 when the fastest goes)."""
        return self.uncovered_after_fastest - self.uncovered_after


def closest(eta_s: np.ndarray) -> int:
    """The fastest free unit (the first of equals), -1 when none can reach the scene."""
    eta = np.asarray(eta_s, np.float64)
    if len(eta) == 0 or not np.isfinite(eta).any():
        return -1
    return int(np.argmin(np.where(np.isfinite(eta), eta, np.inf)))


def choose_unit(
    eta_s: np.ndarray, cover: np.ndarray, weights: np.ndarray, busy: float, margin_s: float
) -> Choice | None:
    """Coverage-aware dispatch: among the free units whose ETA to the scene is within
    `margin_s` of the fastest, the one whose departure leaves the least expected demand
    uncovered; equal coverage goes to the faster unit. margin_s = 0 is closest-idle.

    eta_s: ETA of each free unit to the scene; cover: the same units' coverage of the demand
    nodes (covers()). None when no unit can reach the scene."""
    if margin_s < 0:
        raise ValueError("margin_s must not be negative")
    fastest = closest(eta_s)
    if fastest < 0:
        return None
    eta = np.asarray(eta_s, np.float64)
    candidates = np.flatnonzero(np.isfinite(eta) & (eta <= eta[fastest] + margin_s))
    loss = uncovered_without(cover, weights, busy, candidates)
    tied = candidates[loss <= loss.min() + TIE_S]
    unit = int(tied[np.argmin(eta[tied])])
    loss_of = dict(zip(candidates.tolist(), loss.tolist(), strict=True))
    return Choice(unit, fastest, float(eta[unit]), float(eta[fastest]), loss_of[unit], loss_of[fastest])


def point_gains(cover: np.ndarray, cover_points: np.ndarray, weights: np.ndarray, busy: float) -> np.ndarray:
    """For each point (station or standby point), how much expected uncovered demand one more
    free unit placed there would remove, given the free units' `cover`."""
    busy = _check_busy(busy)
    k = np.asarray(cover, bool).sum(axis=0)
    residual = np.asarray(weights, np.float64) * np.power(busy, k)
    return np.asarray(np.asarray(cover_points, bool) @ residual) * (1.0 - busy)


@dataclass(frozen=True)
class Move:
    """Relocate free unit `unit` (row of the units' arrays) to point `point`: expected
    uncovered demand falls by `gain`; the drive takes `travel_s`."""

    unit: int
    point: int
    gain: float
    travel_s: float


def best_move(
    cover: np.ndarray,
    movable: np.ndarray,
    cover_points: np.ndarray,
    travel_s: np.ndarray,
    weights: np.ndarray,
    busy: float,
    max_travel_s: float,
    min_gain: float,
) -> Move | None:
    """Move-up: the single relocation of a movable free unit to a point that removes the most
    expected uncovered demand, if it removes more than `min_gain` and the drive is within
    `max_travel_s`; equal gains go to the shorter drive. None when no move is worth it.

    cover: free units x demand nodes (where each is or is heading); movable: which of them may
    be moved now (idle, not moved within the hour); cover_points: points x demand nodes;
    travel_s: free units x points."""
    busy = _check_busy(busy)
    cover = np.asarray(cover, bool)
    w = np.asarray(weights, np.float64)
    rows = np.flatnonzero(np.asarray(movable, bool))
    if len(rows) == 0:
        return None
    k = cover.sum(axis=0)
    powers = _powers(busy, int(k.max(initial=0)))
    before = float(powers[k] @ w)
    # uncovered demand without unit u, per node; then with it at point p instead:
    # sum_j w_j busy^(k_j - c_uj) * (busy if p covers j else 1)
    without = powers[k - cover[rows]] * w
    at_point = np.where(np.asarray(cover_points, bool), busy, 1.0)
    gain = before - without @ at_point.T
    travel = np.asarray(travel_s, np.float64)[rows]
    allowed = np.isfinite(travel) & (travel <= max_travel_s) & (travel > 0)
    gain = np.where(allowed, gain, -np.inf)
    top = gain.max()
    if not np.isfinite(top) or top <= max(min_gain, TIE_S):
        return None
    units, points = np.nonzero(gain >= top - TIE_S)
    pick = int(np.argmin(travel[units, points]))
    u, p = int(units[pick]), int(points[pick])
    return Move(int(rows[u]), p, float(gain[u, p]), float(travel[u, p]))
