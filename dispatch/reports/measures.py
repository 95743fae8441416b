"""The small arithmetic every report figure shares: milliseconds as seconds, whole seconds as
they are, and a target's compliance judged on the counts."""

from fractions import Fraction

from dispatch.reports.intervals import Target


def seconds(ms: int | float | None) -> float | None:
    return None if ms is None else round(ms / 1000, 3)


def whole_seconds(s: int | float | None) -> float | None:
    """A percentile already in whole seconds rounded up (decision 0021), as a float of seconds."""
    return None if s is None else float(s)


def target_figures(goal: Target, hits: int, count: int) -> dict:
    """hits of count within the goal's time; count is the denominator, unmeasured ones included."""
    pct = round(100 * hits / count, 2) if count else None
    return {
        "within_s": goal.within_s,
        "goal_pct": goal.goal_pct,
        "within": hits,
        "of": count,
        "pct": pct,
        "met": goal_met(hits, count, goal.goal_pct),
    }


def goal_met(hits: int, count: int, goal_pct: float) -> bool:
    """Whether hits of count reach goal_pct percent, judged on the counts: the rounded pct
    would call 17,999 of 20,000 (89.995%) a 90% goal met. The goal is taken as written
    (Fraction of its text), so 92.3 is 923/10 and not the float just below it."""
    return count > 0 and 100 * hits >= Fraction(str(goal_pct)) * count
