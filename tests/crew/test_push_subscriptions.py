"""A tablet subscribes to its crew's alerts: crew only, only for the unit of the crew member's
own shift, one row per endpoint, keys that could never be encrypted to refused at once."""

import pytest

from dispatch.models import PushSubscription
from tests.support.crew_tablet import signed_in
from tests.support.fake_push import fake_push  # noqa: F401  (fixture)
from tests.support.roster import on_shift

pytestmark = pytest.mark.django_db

URL = "/api/crew/push/subscriptions"


def post(client, url, body, language="en"):
    return client.post(url, body, content_type="application/json", headers={"Accept-Language": language})


def test_a_crew_member_subscribes_the_tablet_to_their_unit(world, fake_push):  # noqa: F811
    on_shift(world.carol, world.als1)
    browser = fake_push.browser()
    body = {**browser.subscription(), "expirationTime": None, "unit": world.als1.pk}  # as toJSON() has it
    response = post(signed_in(world.carol), URL, body, "zh-hans")
    assert response.status_code == 200, response.content
    assert response.json()["unit"] == world.als1.pk and response.json()["call_sign"] == "T-ALS-1"
    row = PushSubscription.objects.get()
    assert (row.endpoint, row.user, row.unit, row.language) == (
        browser.endpoint,
        world.carol,
        world.als1,
        "zh-hans",
    )
    assert (row.p256dh, row.auth) == (browser.keys["p256dh"], browser.keys["auth"])


def test_subscribing_again_updates_the_one_row(world, fake_push):  # noqa: F811
    from tests.support.crew_tablet import crew_member

    on_shift(world.carol, world.als1)
    browser = fake_push.browser()
    assert post(signed_in(world.carol), URL, browser.subscription()).status_code == 200
    ken = crew_member("ken")
    on_shift(ken, world.als2)  # the tablet moved to another unit with another crew member
    assert post(signed_in(ken), URL, browser.subscription()).status_code == 200
    row = PushSubscription.objects.get()
    assert (row.user, row.unit) == (ken, world.als2)


def test_a_crew_cannot_subscribe_for_another_unit(world, fake_push):  # noqa: F811
    on_shift(world.carol, world.als1)
    response = post(
        signed_in(world.carol), URL, {**fake_push.browser().subscription(), "unit": world.als2.pk}
    )
    assert response.status_code == 403 and response.json()["code"] == "not_your_unit"
    assert not PushSubscription.objects.exists()


def test_no_shift_no_subscription(world, fake_push):  # noqa: F811
    response = post(signed_in(world.carol), URL, fake_push.browser().subscription())
    assert response.status_code == 409 and response.json()["code"] == "no_shift"
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize("who", ["alice", "bob", "dave", "erin"])
def test_other_roles_are_refused(world, fake_push, who):  # noqa: F811
    client = signed_in(getattr(world, who))
    assert post(client, URL, fake_push.browser().subscription()).status_code == 403
    assert client.get("/api/crew/push/key").status_code == 403
    assert (
        post(client, "/api/crew/push/unsubscribe", {"endpoint": "https://push.example/x"}).status_code == 403
    )
    assert not PushSubscription.objects.exists()


def test_not_signed_in_is_refused(world, fake_push):  # noqa: F811
    from django.test import Client

    assert post(Client(), URL, fake_push.browser().subscription()).status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        {"endpoint": "ftp://push.example/x"},
        {"endpoint": "not a url"},
        {"endpoint": "https://user:pw@push.example/x"},
        {"keys": {"p256dh": "AAAA", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}},  # not a point on P-256
        {"keys": {"p256dh": None, "auth": "x"}},
        {"auth_only": True},
    ],
)
def test_bad_subscriptions_are_refused(world, fake_push, settings, change):  # noqa: F811
    on_shift(world.carol, world.als1)
    body = fake_push.browser().subscription()
    if change.pop("auth_only", False):
        body["keys"]["auth"] = "c2hvcnQ"  # 5 bytes, not 16
    body.update(change)
    response = post(signed_in(world.carol), URL, body)
    assert response.status_code == 422, response.content
    assert not PushSubscription.objects.exists()


def test_an_http_endpoint_is_refused_unless_allowed(world, fake_push, settings):  # noqa: F811
    settings.PUSH_ALLOW_HTTP_ENDPOINTS = False
    on_shift(world.carol, world.als1)
    response = post(signed_in(world.carol), URL, fake_push.browser().subscription())
    assert response.status_code == 422 and response.json()["code"] == "bad_endpoint"


def test_unsubscribe_deletes_only_ones_own(world, fake_push):  # noqa: F811
    from tests.support.crew_tablet import crew_member

    on_shift(world.carol, world.als1)
    browser = fake_push.browser()
    post(signed_in(world.carol), URL, browser.subscription())
    ken = crew_member("ken")
    response = post(signed_in(ken), "/api/crew/push/unsubscribe", {"endpoint": browser.endpoint})
    assert response.status_code == 200 and response.json() == {"deleted": 0}
    assert PushSubscription.objects.count() == 1
    response = post(signed_in(world.carol), "/api/crew/push/unsubscribe", {"endpoint": browser.endpoint})
    assert response.json() == {"deleted": 1} and not PushSubscription.objects.exists()


def test_the_key_route_says_when_push_is_off(world, settings):
    settings.VAPID_PRIVATE_KEY = settings.VAPID_PUBLIC_KEY = ""
    response = signed_in(world.carol).get("/api/crew/push/key")
    assert response.json() == {"enabled": False, "public_key": ""}


def test_generated_vapid_keys_sign_what_the_push_service_accepts(world, fake_push, settings):  # noqa: F811
    """manage.py generate_vapid_keys prints a pair the push code signs with."""
    import io

    from django.core.management import call_command

    from dispatch.crew import push

    out = io.StringIO()
    call_command("generate_vapid_keys", stdout=out)
    lines = dict(line.split("=", 1) for line in out.getvalue().split())
    settings.VAPID_PRIVATE_KEY = lines["VAPID_PRIVATE_KEY"]
    settings.VAPID_PUBLIC_KEY = ""
    assert push.public_key() == lines["VAPID_PUBLIC_KEY"]  # derived from the private key
    fake_push.vapid_public_key = lines["VAPID_PUBLIC_KEY"]
    on_shift(world.carol, world.als1)
    browser = fake_push.browser()
    push.subscribe(world.carol, world.als1, browser.endpoint, **browser.keys, language="en")
    from tests.support.crew_tablet import job

    assert push.send_alert(job(world, world.als1)).delivered == 1
    assert fake_push.rejected == []
