"""An idempotency key makes a write happen once: its retries are answered from the record, the
same key with another request is refused, and a crash stores nothing."""

import json
import threading

import pytest
from django.db import connection

from dispatch.core.actions import ActionError
from dispatch.core.events import record_event
from dispatch.core.idempotency import run_once
from dispatch.models import Event, IdempotencyKey, Message
from tests.support.crew_tablet import crew_member, job, new_key, post, signed_in


def one_event(status: int = 200):
    def apply() -> tuple[int, dict]:
        event = record_event("test.once")
        return status, {"seq": event.seq}

    return apply


def test_a_retry_returns_the_first_answer_and_runs_nothing(world):
    key = new_key()
    first = run_once(world.carol, key, "test", {"n": 1}, one_event(201))
    again = run_once(world.carol, key, "test", {"n": 1}, one_event(201))
    assert (first.status, first.replayed) == (201, False)
    assert (again.status, again.body, again.replayed) == (201, first.body, True)
    assert Event.objects.filter(kind="test.once").count() == 1


def test_the_same_key_with_another_request_is_refused(world):
    key = new_key()
    run_once(world.carol, key, "test", {"n": 1}, one_event())
    with pytest.raises(ActionError) as refused:
        run_once(world.carol, key, "test", {"n": 2}, one_event())
    assert (refused.value.status, refused.value.code) == (422, "idempotency_key_reused")
    with pytest.raises(ActionError):  # another user's key is not theirs to replay
        run_once(world.alice, key, "test", {"n": 1}, one_event())
    assert Event.objects.filter(kind="test.once").count() == 1
    assert IdempotencyKey.objects.get(key=key).replays == 0


def test_a_refusal_is_stored_and_its_writes_rolled_back(world):
    key = new_key()

    def refused() -> tuple[int, dict]:
        record_event("test.refused")
        raise ActionError("No.", "nope", 409)

    outcome = run_once(world.carol, key, "test", {}, refused)
    assert (outcome.status, outcome.body) == (409, {"error": "No.", "code": "nope"})
    assert not Event.objects.filter(kind="test.refused").exists()
    assert run_once(world.carol, key, "test", {}, one_event()).replayed


def test_a_crash_stores_no_key_so_the_retry_runs(world):
    key = new_key()

    def crash() -> tuple[int, dict]:
        record_event("test.crash")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        run_once(world.carol, key, "test", {}, crash)
    assert not IdempotencyKey.objects.filter(key=key).exists()
    assert not Event.objects.filter(kind="test.crash").exists()
    assert run_once(world.carol, key, "test", {}, one_event()).replayed is False


@pytest.mark.django_db(transaction=True)
def test_two_copies_at_the_same_moment_apply_once(world):
    key = new_key()
    barrier = threading.Barrier(2)
    outcomes = []

    def send() -> None:
        barrier.wait()
        try:
            outcomes.append(run_once(world.carol, key, "test", {}, one_event()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.replayed for o in outcomes) == [False, True]
    assert outcomes[0].body == outcomes[1].body
    assert Event.objects.filter(kind="test.once").count() == 1


def test_tablet_writes_need_a_key(world):
    job(world, world.als1, crew=world.carol)
    tablet = signed_in(world.carol)
    url = "/api/crew/messages"
    response = tablet.post(url, data=json.dumps({"text": "到了"}), content_type="application/json")
    assert response.status_code == 422 and "Idempotency-Key" in response.json()["error"]
    status, error = post(tablet, url, {"text": "到了"}, key="short")
    assert status == 422 and error["code"] == "bad_idempotency_key"
    field_key = new_key()
    response = tablet.post(
        url, data=json.dumps({"text": "到了", "idempotency_key": field_key}), content_type="application/json"
    )
    assert response.status_code == 201 and response["Idempotent-Replay"] == "false"
    assert Message.objects.count() == 1


def test_a_direct_retry_is_answered_from_the_record(world):
    job(world, world.als1, crew=world.carol)
    tablet = signed_in(world.carol)
    key = new_key()
    first = post(tablet, "/api/crew/messages", {"text": "到了"}, key=key)
    again = tablet.post(
        "/api/crew/messages",
        data=json.dumps({"text": "到了"}),
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )
    assert again.status_code == 201 and again["Idempotent-Replay"] == "true" and again.json() == first[1]
    status, error = post(tablet, "/api/crew/messages", {"text": "还没到"}, key=key)
    assert status == 422 and error["code"] == "idempotency_key_reused"
    assert Message.objects.count() == 1
    # Another crew member cannot read the first one's answer by reusing the key.
    other = crew_member("chen")
    job(world, world.als2, crew=other)
    status, error = post(signed_in(other), "/api/crew/messages", {"text": "到了"}, key=key)
    assert status == 422 and "到了" not in json.dumps(error, ensure_ascii=False)
