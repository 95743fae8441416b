"""The drill's split-brain and stale-read arithmetic (ops/ha/drill.py Reads), on recorded answers."""

import sys
from pathlib import Path

from django.conf import settings

sys.path.insert(0, str(Path(settings.BASE_DIR) / "ops" / "ha"))
from drill import Reads  # noqa: E402

OLD, NEW, THIRD = 5001, 5002, 5003


def reads(nodes: dict, app: list) -> Reads:
    r = Reads(topo=None)  # type: ignore[arg-type]  (no threads: answers given)
    r.nodes = nodes
    r.app = app
    return r


def every(start: float, end: float, state, step: float = 0.1) -> list:
    return [(start + k * step, state) for k in range(round((end - start) / step))]


def test_two_nodes_answering_as_primary_is_split_brain():
    r = reads(
        {
            OLD: every(0, 3, False) + every(3, 10, None),  # primary until 3 s, then silent
            NEW: every(0, 2, True) + every(2, 10, False),  # promoted at 2 s: one second of both
            THIRD: every(0, 10, True),
        },
        [],
    )
    assert 0.9 <= r.split_brain_s(0, 10) <= 1.1
    assert r.took_over(OLD, 0, 10) == 2.0


def test_a_silent_old_primary_is_no_split_brain():
    old = every(0, 1, False) + every(1, 10, None)
    r = reads({OLD: old, NEW: every(0, 4, True) + every(4, 10, False)}, [])
    assert r.split_brain_s(0, 10) == 0
    # a probe stuck on a frozen node records nothing: its last "primary" goes stale after 0.5 s
    r = reads({OLD: [(0.9, False)], NEW: every(0, 1.2, True) + every(1.2, 10, False)}, [])
    assert r.split_brain_s(0, 10) <= 0.25


def test_reads_from_the_old_primary_after_the_takeover_are_stale():
    app = [(1.0, OLD, False), (2.5, OLD, False), (2.6, NEW, False), (3.0, OLD, True), (3.1, OLD, False)]
    r = reads({}, app)
    assert r.stale(OLD, after=2.0, end=10) == 2  # 2.5 and 3.1; 3.0 came from it as a standby
