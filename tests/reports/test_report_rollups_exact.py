"""The figures read from the per-day rollups (dispatch/reports/rollups.py) are the figures
counted from the rows, exactly: per dispatcher and seat, per hospital, per district, over a
hand-made history of several closed days (odd milliseconds, ties, missing and impossible
clocks, unfinished handovers, no location, overrides), for several ranges and filters; also
after an edit to a closed day, before and after the worker rebuilds it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from dispatch.incidents.actions import update_incident_details
from dispatch.models import Assignment, Incident
from dispatch.reports import ReportFilter, areas, handovers, people, rollups
from tests.support.report_world import MARCH
from tests.support.rollup_history import double_every_stored_count, make_history, ranges

FIGURES = {
    "people": lambda f, raw: people(f, raw=raw),
    "hospitals": lambda f, raw: handovers(f, raw=raw),
    "districts": lambda f, raw: areas(f, "response", raw=raw),
}


@pytest.fixture
def history(world):
    made = make_history(world)
    rollups.build_range(MARCH.date(), (MARCH + timedelta(days=30)).date())
    return made


def same(figure: str, f: ReportFilter) -> None:
    rolled, counted = FIGURES[figure](f, False), FIGURES[figure](f, True)
    assert rolled == counted, (figure, f)


@pytest.mark.parametrize("figure", sorted(FIGURES))
def test_rollups_give_the_raw_figures(world, history, figure):
    assert rollups.served_days(ranges()[0]) == [(MARCH + timedelta(days=d)).date() for d in range(31)]
    for f in ranges():
        same(figure, f)


def test_the_figures_are_read_from_the_rollups(world, history):
    """Doubling every stored count changes the answers: the served days are not read from the rows."""
    f = ranges()[0]
    before = {name: get(f, False) for name, get in FIGURES.items()}
    double_every_stored_count()
    after = {name: get(f, False) for name, get in FIGURES.items()}
    for name in FIGURES:
        assert after[name] != before[name], name


@pytest.mark.parametrize("figure", sorted(FIGURES))
def test_an_edit_to_a_closed_day_is_counted_at_once_and_rebuilt(world, history, figure):
    """A late clock: the on-scene time and a handover corrected on an incident of 4 March, through
    an action's event. The day is stale at once (read from the rows), then rebuilt by the worker."""
    incident = history.incidents[2]
    day = timezone.localtime(incident.created_at).date()
    Incident.objects.filter(pk=incident.pk).update(
        on_scene_at=incident.on_scene_at + timedelta(seconds=333.3337),
        at_hospital_at=incident.at_hospital_at + timedelta(seconds=60),
    )
    Assignment.objects.filter(incident=incident).update(
        handover_at=incident.handover_at + timedelta(seconds=1234.5678)
    )
    update_incident_details(incident, actor=world.alice, notes="更正：到达现场时间")
    assert rollups.stale_days(MARCH.date(), (MARCH + timedelta(days=30)).date()) == [day]
    assert day not in rollups.served_days(ranges()[0])
    for f in ranges():
        same(figure, f)
    assert rollups.catch_up() == {"stale_rebuilt": 1, "built": 0}
    assert rollups.stale_days(MARCH.date(), (MARCH + timedelta(days=30)).date()) == []
    assert day in rollups.served_days(ranges()[0])
    for f in ranges():
        same(figure, f)


def test_the_worker_builds_missing_closed_days_only(world, history):
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM dispatch_report_rollup_day WHERE day = %s", [(MARCH + timedelta(days=3)).date()]
        )
    assert rollups.catch_up() == {"stale_rebuilt": 0, "built": 1}
    assert rollups.catch_up() == {"stale_rebuilt": 0, "built": 0}
    # Today and yesterday are never rolled up: they are counted from the rows.
    assert rollups.last_closed_day() == timezone.localdate() - timedelta(days=2)


def test_redrawn_districts_are_not_read_from_old_rollups(world, history):
    from dispatch.registry.actions import save_district
    from tests.support.rollup_history import square

    f = ranges()[0]
    save_district("B2", name='东"港"区', name_en="East", polygon=square(119.58, 24.80, 119.70, 24.90))
    assert rollups.served_days(f, districts=True) == []
    same("districts", f)
