"""Accepting and dismissing a move-up through the API: by dispatchers and supervisors only; an
accepted one makes the unit relocating (still free for a job); a decided one answers 409; two
dispatchers accepting at once: one wins, the other gets a 409."""

import threading

import pytest
from django.db import connection
from django.test import Client

from dispatch.coverage import moveup
from dispatch.models import Event, MoveUp, MoveUpState
from fleet.models import Unit
from tests.support.calls_helpers import migrated_data_back  # noqa: F401  (fixture)
from tests.support.move_ups import hand_city

pytestmark = pytest.mark.usefixtures("fresh_router")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def proposed(world, monkeypatch) -> MoveUp:
    hand_city(world, monkeypatch)
    moveup.refresh()
    return MoveUp.objects.get(state=MoveUpState.PROPOSED)


def test_the_control_room_reads_the_open_suggestions_others_do_not(world, monkeypatch):
    move = proposed(world, monkeypatch)
    rows = client_for(world.erin).get("/api/move-ups").json()
    assert [(r["id"], r["call_sign"], r["site_name"], r["district"]) for r in rows] == [
        (move.pk, "T-ALS-1", "东待命点", "东区")
    ]
    for user in (world.carol, world.dave):
        assert client_for(user).get("/api/move-ups").status_code == 403


def test_a_dispatcher_accepts_and_the_unit_relocates(world, monkeypatch):
    move = proposed(world, monkeypatch)
    answer = client_for(world.alice).post(f"/api/move-ups/{move.pk}/accept")
    assert answer.status_code == 200, answer.content
    assert answer.json()["state"] == "accepted" and answer.json()["decided_by"] == "alice"
    assert Unit.objects.get(pk=world.als1.pk).status == "relocating"
    event = Event.objects.get(kind="move_up.accepted")
    assert event.unit_id == world.als1.pk and event.actor == world.alice and event.data["to"] == "relocating"
    # still free for a job: the recommendation and coverage count it
    assert Unit.objects.available().filter(pk=world.als1.pk).exists()
    assert Unit.objects.get(pk=world.als1.pk).is_available
    again = client_for(world.bob).post(f"/api/move-ups/{move.pk}/dismiss")
    assert again.status_code == 409 and again.json()["code"] == "not_open"


def test_only_dispatchers_and_supervisors_decide(world, monkeypatch):
    move = proposed(world, monkeypatch)
    for user in (world.erin, world.carol, world.dave):
        for verb in ("accept", "dismiss"):
            assert client_for(user).post(f"/api/move-ups/{move.pk}/{verb}").status_code == 403
    assert MoveUp.objects.get(pk=move.pk).state == MoveUpState.PROPOSED
    answer = client_for(world.bob).post(f"/api/move-ups/{move.pk}/dismiss")
    assert answer.status_code == 200 and answer.json()["state"] == "dismissed"
    assert Unit.objects.get(pk=world.als1.pk).status == "available"
    assert client_for(world.alice).post("/api/move-ups/999999/accept").status_code == 404


def test_a_unit_sent_meanwhile_is_not_moved(world, monkeypatch):
    move = proposed(world, monkeypatch)
    Unit.objects.filter(pk=world.als1.pk).update(status="dispatched")
    answer = client_for(world.alice).post(f"/api/move-ups/{move.pk}/accept")
    assert answer.status_code == 409 and answer.json()["code"] == "conflict"
    assert MoveUp.objects.get(pk=move.pk).state == MoveUpState.PROPOSED  # all or nothing
    assert Unit.objects.get(pk=world.als1.pk).status == "dispatched"
    assert not Event.objects.filter(kind="move_up.accepted").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("migrated_data_back")
def test_two_dispatchers_accept_at_once_one_wins(world, monkeypatch):
    move = proposed(world, monkeypatch)
    answers: dict[str, int] = {}
    start = threading.Barrier(2)

    def accept(user) -> None:
        try:
            client = client_for(user)
            start.wait()
            answers[user.username] = client.post(f"/api/move-ups/{move.pk}/accept").status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(u,)) for u in (world.alice, world.bob)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers.values()) == [200, 409]
    assert Event.objects.filter(kind="move_up.accepted").count() == 1
    assert Unit.objects.get(pk=world.als1.pk).status == "relocating"
