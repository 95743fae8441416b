"""A dispatch alerts the crew's tablet by Web Push through the outbox: the real pywebpush client
posts to a local push service (tests/support/fake_push.py) that checks the VAPID signature and
decrypts the payload with the subscription's own keys, as the tablet's browser would."""

import pytest
from django.utils import timezone

from dispatch.core import outbox
from dispatch.crew.actions import end_shift
from dispatch.crew.push import subscribe
from dispatch.models import Event, Outbox, OutboxStatus, PushSubscription
from fleet.models import Unit
from tests.support.crew_tablet import job, signed_in
from tests.support.fake_push import fake_push  # noqa: F401  (fixture)
from tests.support.fake_twilio import fake_twilio  # noqa: F401  (fixture)
from tests.support.roster import on_shift

pytestmark = pytest.mark.django_db


def subscribed(world, fake, unit=None, user=None, language="zh-hans"):
    """A browser of the fake push service subscribed for `user` (carol) on `unit` (T-ALS-1)."""
    browser = fake.browser()
    keys = browser.keys
    subscribe(
        user or world.carol, unit or world.als1, browser.endpoint, keys["p256dh"], keys["auth"], language
    )
    return browser


def alert_row(assignment) -> Outbox:
    return Outbox.objects.get(channel="crew_alert", payload__assignment=assignment.pk)


def test_a_dispatch_rings_the_crew_tablet_with_the_job(world, fake_push):  # noqa: F811
    on_shift(world.carol, world.als1)
    tablet = subscribed(world, fake_push)
    assignment = job(world, world.als1, crew=world.carol, complaint="胸痛 & 大汗 <右侧>")
    row = alert_row(assignment)
    assert row.status == OutboxStatus.PENDING and fake_push.delivered == []  # nothing inside the dispatch

    assert outbox.run_once() == {"sent": 1, "retry": 0, "failed": 0}

    (message,) = fake_push.messages(tablet.token)
    incident = assignment.incident
    assert message["type"] == "crew_alert"
    assert message["assignment"] == assignment.pk and message["incident"] == incident.number
    assert message["priority"] == 1
    assert message["complaint"] == "胸痛 & 大汗 <右侧>" and message["address"] == "明湾市滨海路 88 号"
    assert message["title"].startswith(incident.number) and "危重" in message["title"]
    assert "胸痛 & 大汗 <右侧>" in message["body"] and "明湾市滨海路 88 号" in message["body"]
    assert message["tag"] == f"assignment-{assignment.pk}"
    assert message["url"] == f"/tablet/#assignment-{assignment.pk}"
    assert message["ack_url"] == f"/api/crew/assignments/{assignment.pk}/acknowledge"
    assert message["words"]["acknowledge"] == "确认接单"  # in the crew member's language
    (delivery,) = fake_push.delivered
    assert delivery["headers"]["urgency"] == "high" and 0 < int(delivery["headers"]["ttl"]) <= 600
    assert fake_push.rejected == []
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and row.payload["provider_reference"] == "webpush:1"
    assert Event.objects.filter(kind="outbox.sent", data__outbox=row.pk).exists()
    assert PushSubscription.objects.get(endpoint=tablet.endpoint).last_success_at is not None


def test_the_words_follow_each_crew_members_language(world, fake_push):  # noqa: F811
    from tests.support.crew_tablet import crew_member

    ken = crew_member("ken")
    on_shift(world.carol, world.als1)
    on_shift(ken, world.als1)
    chinese = subscribed(world, fake_push, language="zh-hans")
    english = subscribed(world, fake_push, user=ken, language="en")
    job(world, world.als1)
    outbox.run_once()
    (zh,) = fake_push.messages(chinese.token)
    (en,) = fake_push.messages(english.token)
    assert zh["words"]["acknowledge"] == "确认接单"
    assert en["words"]["acknowledge"] == "Acknowledge job" and "Critical" in en["title"]


def test_only_the_crew_on_shift_with_the_unit_is_rung(world, fake_push):  # noqa: F811
    from tests.support.crew_tablet import crew_member

    on_shift(world.carol, world.als1)
    ours = subscribed(world, fake_push)
    other = crew_member("olga")
    on_shift(other, world.als2)
    theirs = subscribed(world, fake_push, unit=world.als2, user=other)
    gone_home = crew_member("gina")
    on_shift(gone_home, world.als1)
    left_on = subscribed(world, fake_push, user=gone_home)
    end_shift(gone_home)  # her tablet stays subscribed, but her shift is over
    job(world, world.als1)
    outbox.run_once()
    assert len(fake_push.messages(ours.token)) == 1
    assert fake_push.messages(theirs.token) == [] and fake_push.messages(left_on.token) == []


def test_a_gone_subscription_is_deleted_and_the_alert_falls_back_to_sms(world, fake_push, fake_twilio):  # noqa: F811
    Unit.objects.filter(pk=world.als1.pk).update(phone="+8613900000001")
    on_shift(world.carol, world.als1)
    tablet = subscribed(world, fake_push)
    fake_push.answers[tablet.token] = [410]
    assignment = job(world, world.als1)
    assert outbox.run_once() == {"sent": 1, "retry": 0, "failed": 0}
    assert not PushSubscription.objects.filter(endpoint=tablet.endpoint).exists()
    (sms,) = fake_twilio.messages
    assert sms["To"] == "+8613900000001" and assignment.incident.number in sms["Body"]
    reference = alert_row(assignment).payload["provider_reference"]
    assert reference.startswith(f"sms:{sms['sid']} (") and "1 gone" in reference


def test_a_push_service_outage_is_retried_then_sent(world, fake_push, fake_twilio):  # noqa: F811
    on_shift(world.carol, world.als1)
    tablet = subscribed(world, fake_push)
    fake_push.answers[tablet.token] = [500]
    assignment = job(world, world.als1)
    assert outbox.run_once() == {"sent": 0, "retry": 1, "failed": 0}
    row = alert_row(assignment)
    assert row.status == OutboxStatus.PENDING and "500" in row.last_error
    assert PushSubscription.objects.filter(endpoint=tablet.endpoint).exists()  # not deleted
    Outbox.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert outbox.run_once() == {"sent": 1, "retry": 0, "failed": 0}
    assert len(fake_push.messages(tablet.token)) == 1 and fake_twilio.messages == []


def test_a_push_service_that_stays_down_gives_way_to_sms(world, fake_push, fake_twilio):  # noqa: F811
    Unit.objects.filter(pk=world.als1.pk).update(phone="+8613900000001")
    on_shift(world.carol, world.als1)
    tablet = subscribed(world, fake_push)
    fake_push.answers[tablet.token] = [503, 503, 503]
    assignment = job(world, world.als1)
    assert outbox.run_once()["retry"] == 1
    Outbox.objects.filter(pk=alert_row(assignment).pk).update(next_attempt_at=timezone.now())
    assert outbox.run_once()["sent"] == 1  # the second try does not wait for a third
    (sms,) = fake_twilio.messages
    assert sms["To"] == "+8613900000001"


def test_no_subscription_sends_the_alert_by_sms(world, fake_push, fake_twilio):  # noqa: F811
    Unit.objects.filter(pk=world.als1.pk).update(phone="+8613900000001")
    assignment = job(world, world.als1, crew=world.carol, complaint="呼吸困难")
    assert outbox.run_once() == {"sent": 1, "retry": 0, "failed": 0}
    (sms,) = fake_twilio.messages
    assert sms["To"] == "+8613900000001"
    assert (
        assignment.incident.number in sms["Body"] and "呼吸困难" in sms["Body"] and "T-ALS-1" in sms["Body"]
    )
    assert fake_push.delivered == []


def test_push_not_configured_sends_the_alert_by_sms(world, settings, fake_twilio):  # noqa: F811
    settings.VAPID_PRIVATE_KEY = ""
    Unit.objects.filter(pk=world.als1.pk).update(phone="+8613900000001")
    job(world, world.als1, crew=world.carol)
    assert outbox.run_once()["sent"] == 1
    assert len(fake_twilio.messages) == 1


def test_no_subscription_and_no_phone_fails_the_alert_with_the_reason(world, fake_push):  # noqa: F811
    Unit.objects.filter(pk=world.als1.pk).update(phone="")
    assignment = job(world, world.als1, crew=world.carol)
    assert outbox.run_once() == {"sent": 0, "retry": 0, "failed": 1}
    row = alert_row(assignment)
    assert row.status == OutboxStatus.FAILED
    assert "no tablet subscribed" in row.last_error and "no phone" in row.last_error
    assert Event.objects.filter(
        kind="outbox.failed", data__outbox=row.pk, incident=assignment.incident
    ).exists()


def test_an_sms_provider_refusal_fails_the_fallback_for_good(world, fake_push, fake_twilio):  # noqa: F811
    Unit.objects.filter(pk=world.als1.pk).update(phone="8613900000001")  # not E.164: Twilio says 21211
    assignment = job(world, world.als1, crew=world.carol)
    assert outbox.run_once()["failed"] == 1
    row = alert_row(assignment)
    assert "no tablet subscribed" in row.last_error and "21211" in row.last_error


def test_an_alert_for_a_job_already_ended_or_acknowledged_is_not_sent(world, fake_push):  # noqa: F811
    on_shift(world.carol, world.als1)
    tablet = subscribed(world, fake_push)
    assignment = job(world, world.als1)
    from dispatch.units.actions import set_unit_status

    set_unit_status(world.als1, "acknowledged", actor=world.carol)  # the tablet's socket was quicker
    assert outbox.run_once()["sent"] == 1
    assert fake_push.messages(tablet.token) == []
    assert alert_row(assignment).payload["provider_reference"].startswith("skipped")


def test_the_key_route_gives_the_tablet_the_vapid_public_key(world, fake_push):  # noqa: F811
    response = signed_in(world.carol).get("/api/crew/push/key")
    assert response.status_code == 200
    assert response.json() == {"enabled": True, "public_key": fake_push.vapid_public_key}


def test_a_push_signed_with_another_vapid_key_is_refused_and_falls_back(world, fake_push, fake_twilio):  # noqa: F811
    """A subscription made with the old key after a key rotation: the push service refuses
    (403); the subscription cannot be used, so the alert goes by SMS."""
    Unit.objects.filter(pk=world.als1.pk).update(phone="+8613900000001")
    on_shift(world.carol, world.als1)
    tablet = subscribed(world, fake_push)
    fake_push.vapid_public_key = fake_push.browser().keys["p256dh"]  # subscribed with another key
    assignment = job(world, world.als1)
    assert outbox.run_once()["sent"] == 1
    assert fake_push.messages(tablet.token) == [] and "k is not" in fake_push.rejected[0]
    assert len(fake_twilio.messages) == 1
    assert "403" in PushSubscription.objects.get(endpoint=tablet.endpoint).last_error
    assert alert_row(assignment).payload["provider_reference"].startswith("sms:")


def test_the_fake_push_service_checks_the_vapid_jwt(fake_push):  # noqa: F811
    """The checks the tests above rely on: a tampered, expired or misaddressed token is refused."""
    import json
    import time

    from django.conf import settings
    from py_vapid import Vapid

    from tests.support.fake_push import b64url, check_vapid, unb64url

    key = Vapid.from_string(settings.VAPID_PRIVATE_KEY)

    def header(claims: dict) -> str:
        return key.sign({"sub": "mailto:ops@120.example.cn", **claims})["Authorization"]

    good = {"aud": fake_push.url, "exp": int(time.time()) + 3600}
    assert check_vapid(fake_push, header(good), fake_push.url) == ""
    assert "aud" in check_vapid(fake_push, header({**good, "aud": "https://elsewhere"}), fake_push.url)
    assert "exp" in check_vapid(fake_push, header({**good, "exp": int(time.time()) - 1}), fake_push.url)
    assert "exp" in check_vapid(
        fake_push, header({**good, "exp": int(time.time()) + 48 * 3600}), fake_push.url
    )
    token = header(good)
    jwt = token.split("t=")[1].split(",")[0]
    head, claims, signature = jwt.split(".")
    forged = json.loads(unb64url(claims)) | {"sub": "mailto:mallory@example.com"}
    tampered = token.replace(claims, b64url(json.dumps(forged).encode()))
    assert "JWT" in check_vapid(fake_push, tampered, fake_push.url)


def test_a_broken_vapid_key_does_not_keep_the_alert_from_the_sms(world, settings, fake_push, fake_twilio):  # noqa: F811
    Unit.objects.filter(pk=world.als1.pk).update(phone="+8613900000001")
    on_shift(world.carol, world.als1)
    subscribed(world, fake_push)
    settings.VAPID_PRIVATE_KEY = "not-a-key"
    assignment = job(world, world.als1)
    assert outbox.run_once()["retry"] == 1
    Outbox.objects.filter(pk=alert_row(assignment).pk).update(next_attempt_at=timezone.now())
    assert outbox.run_once()["sent"] == 1
    assert len(fake_twilio.messages) == 1
    assert "Web Push failed" in alert_row(assignment).payload["provider_reference"]
