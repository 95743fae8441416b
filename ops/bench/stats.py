"""One percentile method for every benchmark in ops/bench: the exact nearest-rank percentile.

The value at rank ceil(q/100 * n) of the sorted values (1-based), no interpolation, so every figure
printed is a time that really happened. A delivery that never arrived is `math.inf` in the
values: it sorts last, so a lost event makes the high percentiles infinite instead of vanishing
from them (pass `missing=` to add such never-arrived ones by count). JSON has no infinity:
`ms` prints it as null beside a count of what was lost.

Standard library only, importable by path from any bench script:

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # ops/bench
    from stats import percentile, summary
"""

import math
from collections.abc import Iterable

INF = math.inf


def percentile(values: Iterable[float], q: float, *, missing: int = 0) -> float:
    """The nearest-rank q-th percentile (0 < q <= 100) of `values` plus `missing` infinite ones;
    0.0 when there are none at all."""
    ordered = sorted(values)
    ordered.extend([INF] * missing)
    if not ordered:
        return 0.0
    if not 0 < q <= 100:
        raise ValueError(f"percentile q must be in (0, 100], not {q}")
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> float | None:
    """Seconds as milliseconds rounded to 0.1 for a JSON line; None (null) for infinity."""
    if math.isinf(seconds) or math.isnan(seconds):
        return None
    return round(seconds * 1000, 1)


json_ms = ms


def summary(name: str, seconds: Iterable[float], *, missing: int = 0, qs: tuple[int, ...] = (50, 99)) -> dict:
    """{"<name>_p50_ms": ..., "<name>_p99_ms": ..., "<name>_n": ...} for times in seconds."""
    values = sorted(seconds)
    out: dict[str, float | int | None] = {
        f"{name}_p{q}_ms": json_ms(percentile(values, q, missing=missing)) for q in qs
    }
    out[f"{name}_n"] = len(values) + missing
    return out
