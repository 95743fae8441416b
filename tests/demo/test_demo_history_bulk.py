"""The demo history's two writers (docs/decisions/0018-demo-history.md): the same simulation
writes its older days in bulk and its most recent ones through the actions. A call made in bulk
must leave what its actions would have left: the same rows, the same report columns (PostgreSQL's
generated columns), the same events with the same payloads; the reports' figures over bulk days
must be what the raw rows say; and the hand-over leaves one gap-free log in time order."""

import math
from datetime import timedelta

import pytest
from channels.layers import get_channel_layer
from django.db import connection
from django.utils import timezone

from dispatch.crew.reads import CLOCK_FIELDS
from dispatch.demo.history import EVENT_COLUMNS, HISTORY_PROVIDER, SimulatedClock, make_history, simulated
from dispatch.models import Assignment, Call, Event, Incident
from dispatch.reports import INTERVALS, ReportFilter, response_by_priority, summary
from fleet.models import Unit, UnitStatus

CLOCKS = (
    "call_received_at",
    "call_answered_at",
    "created_at",
    "location_confirmed_at",
    "triaged_at",
    "dispatched_at",
    "acknowledged_at",
    "en_route_at",
    "on_scene_at",
    "patient_contact_at",
    "transport_started_at",
    "at_hospital_at",
    "handover_at",
    "unit_available_at",
    "closed_at",
)
ASSIGNMENT_CLOCKS = CLOCK_FIELDS  # every clock an assignment carries
# Ids differ between two runs of the same plan; everything else must not.
ID_KEYS = {"id", "assignment", "number", "incident_number"}


def midnight():
    """A fixed hour of the day (the call curve follows the clock), as the other history test."""
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def call_number(provider_call_id: str) -> int:
    return int(provider_call_id.rsplit("-", 1)[1])


def report_rows(run: str) -> dict[int, tuple]:
    """Each incident of a run by its call's number: what the reports read (priority, the
    generated interval columns and problem bits) and the clocks and fields behind them."""
    columns = ", ".join(
        [f"i.{name}" for name in CLOCKS]
        + [f"i.{interval.column}" for interval in INTERVALS]
        + ["i.report_problems", "i.priority", "i.status", "i.outcome", "i.chief_complaint"]
        + ["i.capability_needed", "i.address", "i.location_source", "ST_AsText(i.location::geometry)"]
        + ["i.caller_number", "i.created_by_id"]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.provider_call_id, {columns} FROM dispatch_incident i "
            "JOIN dispatch_call c ON c.id = i.call_id WHERE c.provider_call_id LIKE %s",
            [f"{run}-%"],
        )
        return {call_number(row[0]): tuple(row[1:]) for row in cursor.fetchall()}


def call_rows(run: str) -> dict[int, tuple]:
    calls = Call.objects.filter(provider=HISTORY_PROVIDER, provider_call_id__startswith=f"{run}-")
    return {
        call_number(c.provider_call_id): (
            c.status,
            c.caller_number,
            c.ringing_at,
            c.answered_at,
            c.ended_at,
            c.answered_by_id,
            c.escalated_at,
        )
        for c in calls
    }


def assignment_rows(run: str) -> dict[int, tuple]:
    rows = Assignment.objects.filter(incident__call__provider_call_id__startswith=f"{run}-").select_related(
        "incident__call"
    )
    return {
        call_number(a.incident.call.provider_call_id): (
            a.unit_id,
            a.hospital_id,
            a.dispatched_by_id,
            a.recommended_rank,
            a.eta_at_dispatch_s,
            a.override_reason,
            a.client_times,
            *(getattr(a, name) for name in ASSIGNMENT_CLOCKS),
        )
        for a in rows
    }


def without_ids(value):
    if isinstance(value, dict):
        return {
            key: (
                isinstance(item, int)
                if key == "incident" and not isinstance(item, dict)
                else without_ids(item)
            )
            for key, item in value.items()
            if key not in ID_KEYS
        }
    return value


def event_rows(run: str) -> dict[int, list[tuple]]:
    """Every event of each call of a run (its ringing and end carry no incident when nobody
    answered: found by the call's id in the payload), in log order."""
    calls = dict(
        Call.objects.filter(provider_call_id__startswith=f"{run}-").values_list("pk", "provider_call_id")
    )
    incidents = dict(Incident.objects.filter(call__in=calls).values_list("pk", "call__provider_call_id"))
    found: dict[int, list[tuple]] = {}
    for event in Event.objects.filter(kind__in=KINDS).order_by("seq"):
        if event.incident_id in incidents:
            owner = incidents[event.incident_id]
        elif event.kind.startswith("call.") and event.data.get("id") in calls:
            owner = calls[event.data["id"]]
        else:
            continue
        found.setdefault(call_number(owner), []).append(
            (event.kind, event.at, event.actor_id, event.unit_id, event.hospital_id, without_ids(event.data))
        )
    return found


KINDS = (
    "call.ringing",
    "call.answered",
    "call.ended",
    "incident.created",
    "incident.located",
    "incident.triaged",
    "assignment.created",
    "unit.status",
    "incident.closed",
)


def everything(run: str) -> dict[str, dict]:
    return {
        "calls": call_rows(run),
        "incidents": report_rows(run),
        "assignments": assignment_rows(run),
        "events": event_rows(run),
    }


@pytest.mark.django_db
def test_the_same_plan_leaves_the_same_rows_in_bulk_and_through_the_actions(world):
    now = midnight()
    plan = {"calls_per_hour": 4, "seed": 11, "progress": None, "now": now}
    by_actions = make_history(0.5, action_days=1, **plan)
    in_bulk = make_history(0.5, action_days=0, force=True, **plan)
    mixed = make_history(0.5, action_days=0.2, force=True, **plan)
    assert by_actions.bulk_calls == 0 and in_bulk.bulk_calls == in_bulk.calls
    assert 0 < mixed.bulk_calls < mixed.calls
    # The hand-over came while jobs were under way: begun in bulk, finished by the actions.
    handed_over = Incident.objects.filter(
        call__provider_call_id__startswith=f"{mixed.run}-",
        created_at__lt=mixed.actions_from,
        closed_at__gte=mixed.actions_from,
    )
    assert handed_over.exists()
    assert by_actions.calls == in_bulk.calls == mixed.calls > 15
    assert by_actions.abandoned > 0 or in_bulk.abandoned == 0
    made = everything(by_actions.run)
    assert len(made["incidents"]) == by_actions.incidents and made["events"]
    for other in (in_bulk, mixed):
        again = everything(other.run)
        for table in ("calls", "incidents", "assignments", "events"):
            assert set(again[table]) == set(made[table]), table
            for n, row in made[table].items():
                assert again[table][n] == row, (table, n, other.bulk_calls)
    # Every interval was measured and the plan has no data problems, by either writer.
    problems = len(CLOCKS) + len(INTERVALS)  # report_problems, after the clocks and intervals
    assert all(row[problems] == 0 for row in made["incidents"].values())
    every_job = len(CLOCKS) + [i.key for i in INTERVALS].index("response") + 1  # answer ... response
    assert all(None not in row[len(CLOCKS) : every_job] for row in made["incidents"].values())


@pytest.mark.django_db
def test_the_reports_over_bulk_days_are_what_the_raw_rows_say(world):
    now = midnight()
    result = make_history(2, calls_per_hour=3, seed=5, progress=None, now=now, action_days=0.5)
    assert result.actions_from == result.end - timedelta(days=0.5)
    assert result.bulk_calls > 80 and result.calls > result.bulk_calls
    # The bulk days: incidents created before the hand-over.
    f = ReportFilter(result.start, result.actions_from)
    incidents = list(
        Incident.objects.filter(created_at__gte=f.start, created_at__lt=f.end).values(
            "pk", "priority", *CLOCKS
        )
    )
    calls = list(
        Call.objects.filter(ringing_at__gte=f.start, ringing_at__lt=f.end).values(
            "status", "ringing_at", "answered_at", "ended_at"
        )
    )
    assert len(incidents) > 70
    report = summary(f)
    assert report["incidents"] == len(incidents) and report["with_problems"] == 0
    # Answering, from the calls.
    assert report["calls"]["offered"] == len(calls) and report["calls"]["ringing_now"] == 0
    abandoned = [c for c in calls if c["status"] == "missed" and c["answered_at"] is None]
    assert report["calls"]["abandoned"] == len(abandoned)
    assert report["calls"]["answered"] == sum(c["answered_at"] is not None for c in calls)
    rows = {row["key"]: row for row in report["intervals"]}
    answers = [ms(c["ringing_at"], c["answered_at"]) for c in calls if c["answered_at"]]
    answer = rows["answer"]
    assert answer["count"] == len(answers)
    # Whole seconds rounded up (decision 0021): the rounded percentile of the milliseconds.
    assert answer["median_s"] == math.ceil(nearest_rank(answers, 0.5) / 1000)
    assert answer["p90_s"] == math.ceil(nearest_rank(answers, 0.9) / 1000)
    assert answer["targets"][0]["within"] == sum(a <= 10_000 for a in answers)
    assert answer["targets"][0]["of"] == len(calls)
    # Every incident interval, from the clocks.
    for interval in INTERVALS[1:]:
        values = [
            ms(i[interval.start], i[interval.end]) for i in incidents if i[interval.start] and i[interval.end]
        ]
        figure = rows[interval.key]
        assert figure["count"] == len(values), interval.key
        if values:
            # Whole seconds rounded up (decision 0021): the rounded percentile of the milliseconds.
            assert figure["median_s"] == math.ceil(nearest_rank(values, 0.5) / 1000), interval.key
            assert figure["p90_s"] == math.ceil(nearest_rank(values, 0.9) / 1000), interval.key
        for target in figure["targets"]:
            assert target["within"] == sum(v <= target["within_s"] * 1000 for v in values), interval.key
            assert target["of"] == len(values), interval.key
    assert rows["travel"]["count"] == rows["response"]["count"] == len(incidents)
    assert 0 < rows["handover"]["count"] < len(incidents)  # some treated on scene
    # Response by priority, from the clocks.
    by_priority = {row["priority"]: row for row in response_by_priority(f)}
    for priority, row in by_priority.items():
        mine = [ms(i["call_received_at"], i["on_scene_at"]) for i in incidents if i["priority"] == priority]
        assert row["incidents"] == row["count"] == len(mine), priority
        if mine:
            assert row["median_s"] == math.ceil(nearest_rank(mine, 0.5) / 1000)
            assert row["p90_s"] == math.ceil(nearest_rank(mine, 0.9) / 1000)
            assert row["mean_s"] == round(sum(mine) / len(mine) / 1000, 3)
    assert sum(row["incidents"] for row in by_priority.values()) == len(incidents)


@pytest.mark.django_db
def test_the_hand_over_leaves_one_log_in_time_order_and_every_unit_free(world):
    before = Event.objects.count()
    now = midnight()
    result = make_history(1, calls_per_hour=3, seed=3, progress=None, now=now, action_days=0.4)
    assert 0 < result.bulk_calls < result.calls
    events = list(Event.objects.order_by("seq").values_list("seq", "at", "kind")[before:])
    seqs = [seq for seq, _at, _kind in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # gap-free
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_seq FROM dispatch_eventcounter WHERE id = 1")
        assert cursor.fetchone()[0] == seqs[-1]
    history = [(at, kind) for _seq, at, kind in events if kind in KINDS]
    assert [at for at, _kind in history] == sorted(at for at, _kind in history)
    # Bulk-made and action-made incidents both have their whole timeline.
    bulk_made = Incident.objects.filter(created_at__lt=result.actions_from).order_by("created_at").first()
    action_made = Incident.objects.filter(created_at__gte=result.actions_from).order_by("created_at").first()
    for incident in (bulk_made, action_made):
        assert incident is not None and incident.status == "closed"
        kinds = list(incident.events.order_by("seq").values_list("kind", flat=True))
        assert kinds[:4] == ["incident.created", "call.answered", "incident.located", "incident.triaged"]
        assert "assignment.created" in kinds and kinds[-1] == "incident.closed"
        assert kinds.count("unit.status") >= 5
    assert set(Unit.objects.values_list("status", flat=True)) == {UnitStatus.AVAILABLE}
    assert not Assignment.objects.live().exists()
    assert not Incident.objects.filter(status="open").exists()


def test_under_the_simulated_clock_the_models_defaults_read_it_and_no_doorbell_rings():
    """The actions' events (Event.at) and rows (Call.ringing_at...) take their time from field
    defaults that hold the real clock: they must read the simulated one too. And no channel
    layer meanwhile, so the history rings no live screen's doorbell."""
    at = timezone.now() - timedelta(days=30)
    assert get_channel_layer() is not None
    with simulated(SimulatedClock(at)):
        assert timezone.now() == at
        assert Event._meta.get_field("at").get_default() == at
        assert Call._meta.get_field("ringing_at").get_default() == at
        assert get_channel_layer() is None
    assert get_channel_layer() is not None
    assert Event._meta.get_field("at").get_default() > at + timedelta(days=29)


def test_the_bulk_writer_copies_every_column_of_the_event_log():
    assert set(EVENT_COLUMNS) == {f.column for f in Event._meta.concrete_fields}


def ms(start, end) -> int:
    """Milliseconds rounded up, as the report's columns (migration 0008)."""
    micro = (end - start) // timedelta(microseconds=1)
    return -(-micro // 1000)


def nearest_rank(values: list[int], p: float) -> int:
    """percentile_disc: the smallest value at least p of the values are at or below."""
    ordered = sorted(values)
    return ordered[max(math.ceil(p * len(ordered)) - 1, 0)]
