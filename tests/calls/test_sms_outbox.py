"""SMS from the dispatcher go through the outbox: run_outbox sends them with the real twilio
client (to a local server speaking Twilio's REST API), retries with backoff, gives up on
permanent errors, and two workers never send one row twice."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from dispatch.calls.actions import queue_sms
from dispatch.core import outbox
from dispatch.models import Event, Outbox, OutboxStatus
from tests.support.calls_helpers import migrated_data_back  # noqa: F401  (fixture)
from tests.support.fake_twilio import fake_twilio  # noqa: F401  (fixture)
from tests.support.roster import on_shift

pytestmark = [pytest.mark.usefixtures("migrated_data_back"), pytest.mark.django_db]


def test_dispatcher_sms_is_sent_by_the_worker(world, fake_twilio):  # noqa: F811
    world.carol.phone = "+8613912345678"  # the console texts only callers and crews on shift
    world.carol.save(update_fields=["phone"])
    on_shift(world.carol, world.als1)
    client = Client()
    client.force_login(world.alice)
    response = client.post(
        "/api/sms",
        {"to": "13912345678", "body": "救护车已出发，请保持电话畅通。"},
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    row = Outbox.objects.get(pk=response.json()["outbox"])
    assert row.recipient == "+8613912345678" and row.status == OutboxStatus.PENDING
    assert fake_twilio.messages == []  # nothing is sent inside the request

    call_command("run_outbox", "--once")

    (sent,) = fake_twilio.messages
    assert sent["To"] == "+8613912345678" and sent["From"] == "+15005550006"
    assert sent["Body"] == "救护车已出发，请保持电话畅通。"
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and row.payload["provider_reference"] == sent["sid"]
    assert Event.objects.filter(kind="outbox.sent", data__outbox=row.pk).count() == 1


def test_bad_sms_input_is_refused_without_a_row(world):
    client = Client()
    client.force_login(world.alice)
    response = client.post("/api/sms", {"to": "hello", "body": "x"}, content_type="application/json")
    assert response.status_code == 422 and response.json()["code"] == "bad_number"
    crew = Client()
    crew.force_login(world.carol)
    assert (
        crew.post(
            "/api/sms", {"to": "+8613912345678", "body": "x"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert not Outbox.objects.filter(channel="sms").exists()


def test_provider_outage_is_retried_with_backoff(world, fake_twilio):  # noqa: F811
    fake_twilio.failures = [503]
    row = queue_sms("+8613912345678", "测试", actor=world.alice)
    assert outbox.run_once() == {"sent": 0, "retry": 1, "failed": 0}
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and row.attempts == 1 and "503" in row.last_error
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=3)
    assert outbox.run_once() == {"sent": 0, "retry": 0, "failed": 0}  # not due yet
    Outbox.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())  # time passes
    assert outbox.run_once() == {"sent": 1, "retry": 0, "failed": 0}
    assert len(fake_twilio.messages) == 1


def test_unreachable_provider_is_retried(world, settings, fake_twilio):  # noqa: F811
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"  # discard port: connection refused
    row = queue_sms("+8613912345678", "测试", actor=world.alice)
    assert outbox.run_once()["retry"] == 1
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and "unreachable" in row.last_error


def test_permanent_refusal_fails_at_once(world, fake_twilio):  # noqa: F811
    row = Outbox.objects.create(channel="sms", recipient="8613912345678", payload={"body": "x"})
    assert outbox.run_once()["failed"] == 1
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED and "21211" in row.last_error


def test_gives_up_after_max_attempts(world, fake_twilio):  # noqa: F811
    fake_twilio.failures = [500] * outbox.MAX_ATTEMPTS
    row = queue_sms("+8613912345678", "测试", actor=world.alice)
    for _ in range(outbox.MAX_ATTEMPTS):
        Outbox.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        outbox.run_once()
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED and row.attempts == outbox.MAX_ATTEMPTS
    assert Event.objects.filter(kind="outbox.failed", data__outbox=row.pk).exists()


def test_backoff_grows_and_is_capped():
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert outbox.backoff(30).total_seconds() == outbox.BACKOFF_CAP_S


def test_channels_without_a_sender_are_left_for_their_worker(world, fake_twilio):  # noqa: F811
    row = Outbox.objects.create(channel="pager", recipient="unit-7", payload={})  # nobody sends pagers
    assert outbox.run_once() == {"sent": 0, "retry": 0, "failed": 0}
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and row.attempts == 0


def test_an_expired_lease_is_taken_over(world, fake_twilio):  # noqa: F811
    row = queue_sms("+8613912345678", "测试", actor=world.alice)
    claimed = outbox.claim_next()
    assert claimed is not None and claimed.pk == row.pk
    assert outbox.claim_next() is None  # leased
    Outbox.objects.filter(pk=row.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    again = outbox.claim_next()  # the first worker died
    assert again is not None
    assert again.attempts == 2
    assert not outbox.mark_sent(claimed, "SM-stale")  # the dead worker's late write is ignored
    assert outbox.mark_sent(again, "SM-new")


def test_a_row_is_leased_only_when_its_own_send_begins(world):
    """Three rows in one pass: while each is sent, the rows after it are still pending, free for
    another worker, rather than leased by a worker that reaches them only after the sends before."""
    rows = [Outbox.objects.create(channel="probe", recipient=f"probe-{n}", payload={}) for n in range(3)]
    seen: list[list[str]] = []

    def probe(row: Outbox) -> str:
        statuses = dict(Outbox.objects.filter(channel="probe").values_list("pk", "status"))
        seen.append([statuses[r.pk] for r in rows])
        return f"probe-ref-{row.pk}"

    outbox.register("probe", probe)
    try:
        assert outbox.run_once() == {"sent": 3, "retry": 0, "failed": 0}
    finally:
        outbox.SENDERS.pop("probe")
    S, P, D = OutboxStatus.SENDING, OutboxStatus.PENDING, OutboxStatus.SENT
    assert seen == [[S, P, P], [D, S, P], [D, D, S]]


@pytest.mark.django_db(transaction=True)
def test_two_workers_send_each_row_once(world, fake_twilio):  # noqa: F811
    for n in range(6):
        queue_sms("+8613912345678", f"消息 {n}", actor=world.alice)
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        try:
            outbox.run_once()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(m["Body"] for m in fake_twilio.messages) == [f"消息 {n}" for n in range(6)]
    assert Outbox.objects.filter(channel="sms", status=OutboxStatus.SENT).count() == 6
