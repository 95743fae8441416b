"""The people page's latest overrides, one by one (dispatch.reports.people.override_list): each
dispatcher's newest OVERRIDES_SHOWN, recomputed here from the assignment rows, for several
periods and the priority filter, with the figures served from the rollups; and read per
dispatcher on the index of migration 0028 (newest first, stopping at the few shown) rather than
by numbering every override of the period."""

from datetime import timedelta

import pytest
from django.db import connection

from dispatch.models import Assignment
from dispatch.reports import ReportFilter, people, rollups
from dispatch.reports.people import OVERRIDES_SHOWN
from tests.support.report_world import MARCH
from tests.support.rollup_history import make_history, ranges

LAST = (MARCH + timedelta(days=30)).date()


@pytest.fixture
def history(world):
    made = make_history(world)
    # Every job of the history an override too (the fixture's licence): alice and bob then have
    # more than are shown, with ties on the minute broken by the newest id.
    for n, incident in enumerate(made.incidents):
        Assignment.objects.filter(incident=incident).update(
            recommended_rank=2 + n % 3, override_reason=f"理由 {n % 4}", top_pick_eta_s=200.0
        )
    rollups.build_range(MARCH.date(), LAST)
    return made


def by_hand(f: ReportFilter) -> dict[int, list[int]]:
    found: dict[int, list[Assignment]] = {}
    for a in Assignment.objects.filter(recommended_rank__gt=1, dispatched_by__isnull=False).select_related(
        "incident"
    ):
        i = a.incident
        if f.start <= i.created_at < f.end and f.priority in (None, i.priority):
            found.setdefault(a.dispatched_by_id, []).append(a)
    newest = lambda a: (a.dispatched_at, a.pk)  # noqa: E731
    return {
        who: [a.pk for a in sorted(rows, key=newest, reverse=True)][:OVERRIDES_SHOWN]
        for who, rows in found.items()
    }


def listed(f: ReportFilter) -> dict[int, list[int]]:
    return {
        row["user"]: [o["assignment"] for o in row["override_list"]]
        for row in people(f)["dispatchers"]
        if row["override_list"]
    }


def test_the_latest_overrides_are_each_dispatchers_newest(world, history):
    whole = by_hand(ranges()[0])
    assert max(len(v) for v in whole.values()) == OVERRIDES_SHOWN  # more than are shown
    for f in ranges():
        assert listed(f) == by_hand(f), f
        assert listed(f) == {
            row["user"]: [o["assignment"] for o in row["override_list"]]
            for row in people(f, raw=True)["dispatchers"]
            if row["override_list"]
        }


def test_the_list_is_read_per_dispatcher_on_its_index(world, history):
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT a.id FROM dispatch_assignment a WHERE a.dispatched_by_id = %s "
            "AND a.dispatched_by_id IS NOT NULL AND a.recommended_rank > 1 "
            "ORDER BY a.dispatched_at DESC, a.id DESC LIMIT 20",
            [world.alice.pk],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    assert "assignment_report_overrides" in plan
    assert "Sort" not in plan  # walked in order, stopping at the few shown
