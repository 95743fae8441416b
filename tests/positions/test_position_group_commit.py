"""Trackers' fixes under daphne are stored in batches (group commit, dispatch/positions/fast_path.py):
many fixes at once end up stored exactly once with each unit at its newest; a refused or failing
fix answers for itself only; a batch whose write fails answers an error, never "stored", for
every fix of it. Requests go through the ASGI application as daphne serves them."""

import asyncio
import json
import random
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.gis.geos import Point
from django.db import OperationalError
from django.utils import timezone

from dispatch.positions import actions, fast_path
from dispatch.registry.actions import create_unit
from fleet.models import PositionReport, RejectedFix, Unit
from tests.support.live_sockets import positions_within, ready
from tests.support.trackers import TrackerCommunicator

pytestmark = pytest.mark.django_db(transaction=True)  # the writer threads have connections of their own

LON, LAT = 119.60, 24.93


@pytest.fixture
def batches(monkeypatch) -> list[int]:
    """A window wide enough that requests sent together share a batch; the sizes of the batches
    written, in order."""
    sizes: list[int] = []
    real = fast_path.store_tracker_fixes

    def spy(items):
        sizes.append(len(items))
        return real(items)

    monkeypatch.setattr(fast_path.group_commit, "window", 0.5)
    monkeypatch.setattr(fast_path, "store_tracker_fixes", spy)
    return sizes


def params(unit: Unit, at, step: int = 0, **extra) -> dict:
    """A fix of `unit` a few metres further east each step (no jump, whatever the order)."""
    fix = {"id": unit.tracker_key, "timestamp": int(at.timestamp()), "lat": LAT, "lon": LON + step * 0.0001}
    return {**fix, "speed": 10, "bearing": 90, **extra}


async def get(query: dict) -> tuple[int, dict]:
    path = f"/api/osmand?{urlencode(query)}"
    response = await TrackerCommunicator("GET", path, b"", [(b"host", b"127.0.0.1")], None).get_response(10)
    return response["status"], json.loads(response["body"] or b"{}")


def all_at_once(queries: list[dict]) -> list[tuple[int, dict]]:
    async def send():
        return await asyncio.gather(*(get(q) for q in queries))

    return asyncio.run(send())


def fleet(world, count: int) -> list[Unit]:
    units = [world.als1, world.als2, world.bls1, world.neg1]
    for k in range(count - len(units)):
        units.append(create_unit(f"GC-{k:02d}", "als", position=Point(LON, LAT, srid=4326)))
    return units


def test_many_fixes_from_many_units_at_once_are_stored_once_each_unit_at_its_newest(world, batches):
    units = fleet(world, 24)
    start = timezone.now().replace(microsecond=0) + timedelta(seconds=2)
    queries = [params(u, start + timedelta(seconds=s), s) for u in units for s in range(4)]
    queries += [params(u, start + timedelta(seconds=2), 2) for u in units[:8]]  # resends, racing
    random.Random(21).shuffle(queries)
    ids = {u.pk for u in units}

    async def scenario():
        console = await ready(world.alice)
        answers = await asyncio.gather(*(get(q) for q in queries))
        got = await positions_within(console, 3, ids)
        await console.disconnect()
        return answers, got

    answers, got = asyncio.run(scenario())
    assert [status for status, _ in answers] == [200] * len(queries)
    assert all(answer["stored"] for _, answer in answers)
    assert max(batches) > 1 and sum(batches) == len(queries)  # batched, every request once
    newest = start + timedelta(seconds=3)
    for unit in Unit.objects.filter(pk__in=ids):
        assert PositionReport.objects.filter(unit=unit).count() == 4, unit.call_sign
        assert unit.position_at == newest
        assert unit.position.coords == pytest.approx((LON + 0.0003, LAT))
    latest: dict[int, dict] = {}
    for _, rows in got:
        latest.update(rows)
    assert set(latest) == ids  # the console has every unit, at its newest fix
    assert {row["lon"] for row in latest.values()} == {round(LON + 0.0003, 6)}
    # Every unit moved by its newest fix (and by older ones only when their batch came first).
    newest_answers = [a for q, (_, a) in zip(queries, answers, strict=True) if q["lon"] == LON + 0.0003]
    assert len(newest_answers) == len(units) and all(a["moved"] for a in newest_answers)

    # A tracker emptying its buffer: older fixes, in one batch with new ones, fill in the history
    # without dragging their units back.
    older = [params(u, start - timedelta(seconds=1), -5) for u in units[:6]]
    newer = [params(u, start + timedelta(seconds=4), 4) for u in units[6:12]]
    answers = all_at_once(older + newer)
    assert all(status == 200 and answer["stored"] for status, answer in answers)
    assert [answer["moved"] for _, answer in answers] == [False] * 6 + [True] * 6
    for unit in Unit.objects.filter(pk__in=[u.pk for u in units[:12]]):
        assert PositionReport.objects.filter(unit=unit).count() == 5
    assert {u.position_at for u in Unit.objects.filter(pk__in=[u.pk for u in units[:6]])} == {newest}


def test_a_refused_fix_in_a_batch_answers_for_itself_only(world, batches):
    at = timezone.now().replace(microsecond=0) + timedelta(seconds=2)
    good = [params(u, at) for u in (world.als1, world.als2)]
    too_fast = params(world.bls1, at, speed=999)  # knots
    unreadable = {"id": world.neg1.tracker_key, "lat": LAT}
    nobody = params(world.als1, at, id="no-such-key")
    answers = all_at_once([*good, too_fast, unreadable, nobody])
    assert batches == [5]
    assert answers[0] == answers[1] == (200, {"stored": True, "moved": True, "code": "", "error": ""})
    assert answers[2][0] == 200 and (answers[2][1]["stored"], answers[2][1]["code"]) == (False, "bad_speed")
    assert answers[3][0] == 200 and (answers[3][1]["stored"], answers[3][1]["code"]) == (False, "bad_input")
    assert answers[4] == (404, {"error": answers[4][1]["error"], "code": "unknown_device"})
    assert set(PositionReport.objects.values_list("unit", flat=True)) == {world.als1.pk, world.als2.pk}
    counted = {
        (r.device, r.reason, r.unit_id, r.count) for r in RejectedFix.objects.exclude(reason="unknown_device")
    }
    assert counted == {
        ("tracker:T-BLS-1", "bad_speed", world.bls1.pk, 1),
        ("tracker:T-NEG-1", "bad_input", world.neg1.pk, 1),
    }
    assert RejectedFix.objects.get(reason="unknown_device").count == 1


def test_a_fix_the_database_refuses_does_not_lose_its_batch_neighbours(world, batches, monkeypatch):
    """One fix whose row the database refuses (here: its unit deleted after it was looked up)
    breaks the batch's statement: the batch is written again fix by fix, so only that fix fails,
    with an error the tracker retries, never "stored"."""
    real = actions.find_targets

    def one_unit_gone(items):
        targets = real(items)
        return {
            n: actions.replace(t, unit_id=10**9) if t.unit_id == world.neg1.pk else t
            for n, t in targets.items()
        }

    monkeypatch.setattr(actions, "find_targets", one_unit_gone)
    at = timezone.now().replace(microsecond=0) + timedelta(seconds=2)
    units = (world.als1, world.neg1, world.als2, world.bls1)
    answers = all_at_once([params(u, at) for u in units])
    assert batches == [4]
    assert [status for status, _ in answers] == [200, 500, 200, 200]
    assert answers[1][1]["code"] == "500" and "stored" not in answers[1][1]
    assert set(PositionReport.objects.values_list("unit", flat=True)) == {
        world.als1.pk,
        world.als2.pk,
        world.bls1.pk,
    }


@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [
        (OperationalError("server closed the connection unexpectedly"), 503, "database_unavailable"),
        (RuntimeError("the writer crashed"), 500, "500"),
    ],
)
def test_a_batch_whose_write_fails_answers_every_fix_of_it_with_an_error(
    world, batches, monkeypatch, failure, status, code
):
    def broken(plan):
        raise failure

    monkeypatch.setattr(actions, "write_batch", broken)
    at = timezone.now().replace(microsecond=0) + timedelta(seconds=2)
    units = (world.als1, world.als2, world.bls1, world.neg1)
    queries = [params(u, at) for u in units] + [params(world.bls1, at, speed=999)]
    answers = all_at_once(queries)
    assert batches == [5]
    assert [s for s, _ in answers] == [status] * 5
    assert {answer["code"] for _, answer in answers} == {code}
    assert not any(answer.get("stored") for _, answer in answers)
    assert not PositionReport.objects.exists() and not RejectedFix.objects.exists()
    assert Unit.objects.filter(position_at__gte=at).count() == 0

    # The trackers resend them once the database answers: all stored, once.
    monkeypatch.undo()
    answers = all_at_once(queries)
    assert [answer["stored"] for _, answer in answers] == [True] * 4 + [False]
    assert PositionReport.objects.count() == 4 and RejectedFix.objects.get().count == 1


def test_the_writer_threads_gather_while_one_writes(world, monkeypatch):
    """With the real window, a burst larger than one batch's limit is split, and nothing waits
    for a window when the batch is full."""
    sizes: list[int] = []
    real = fast_path.store_tracker_fixes
    monkeypatch.setattr(
        fast_path, "store_tracker_fixes", lambda items: sizes.append(len(items)) or real(items)
    )
    monkeypatch.setattr(fast_path.group_commit, "most", 3)
    monkeypatch.setattr(fast_path.group_commit, "window", 5.0)  # only a full batch leaves quickly
    at = timezone.now().replace(microsecond=0) + timedelta(seconds=2)
    units = fleet(world, 6)
    started = timezone.now()
    answers = all_at_once([params(u, at) for u in units])
    assert all(answer["stored"] for _, answer in answers)
    assert sizes == [3, 3] and (timezone.now() - started).total_seconds() < 4


def test_a_batch_that_deadlocked_with_another_is_written_again(world, monkeypatch):
    """Two batches meeting on one unit in another order (copies of a fix through two app nodes)
    can deadlock; PostgreSQL rolls one back, and that one is simply written again."""
    import psycopg.errors

    real, calls = actions.write_batch, []

    def deadlock_once(plan):
        calls.append(len(plan.rows))
        if len(calls) == 1:
            raise OperationalError("deadlock detected") from psycopg.errors.DeadlockDetected(
                "deadlock detected"
            )
        return real(plan)

    monkeypatch.setattr(actions, "write_batch", deadlock_once)
    status, answer = all_at_once([params(world.als1, timezone.now() + timedelta(seconds=2))])[0]
    assert (status, answer["stored"], answer["moved"]) == (200, True, True) and calls == [1, 1]
    assert PositionReport.objects.filter(unit=world.als1).count() == 1
