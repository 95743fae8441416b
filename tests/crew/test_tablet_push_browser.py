"""The tablet in Chromium subscribes to crew alerts and its service worker shows them.

Chromium's own push service (Firebase Cloud Messaging) cannot be reached offline, so a real
`pushManager.subscribe()` fails here; the test says so (the line shows the failure) and then
stands in for the browser's push service in two places only, leaving our code as it runs:
- `PushManager.subscribe` answers with a subscription of the local push service
  (tests/support/fake_push.py), so tablet-push.js posts it to the server as it would a real one,
  and the outbox's alert for the next dispatch is decrypted there;
- the alert is handed to the service worker with the DevTools protocol's
  `ServiceWorker.deliverPushMessage`, as the push service would, and the notification it shows
  is read back.
"""

import json
from pathlib import Path

import pytest
from django.conf import settings

from dispatch.core import outbox
from dispatch.crew.push import alert_payload
from dispatch.models import PushSubscription
from tests.support.browser import browser, own_daphne, signed_in_page  # noqa: F401  (fixtures)
from tests.support.crew_tablet import job
from tests.support.fake_push import FakePushService, fake_push  # noqa: F401  (fixture)
from tests.support.page_waits import pump_until, wait_until
from tests.support.roster import on_shift

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
ACTIVE = "navigator.serviceWorker.getRegistration('/tablet/').then((r) => r?.active?.state === 'activated')"


@pytest.fixture
def server(django_db_setup, fake_push):  # noqa: F811
    env = {
        "VAPID_PRIVATE_KEY": settings.VAPID_PRIVATE_KEY,
        "VAPID_PUBLIC_KEY": settings.VAPID_PUBLIC_KEY,
        "PUSH_ALLOW_HTTP_ENDPOINTS": "1",
    }
    with own_daphne(env) as daphne:
        yield daphne


def stand_in_subscription(fake: FakePushService) -> str:
    """An init script making PushManager.subscribe answer with a local push service's
    subscription (Chromium's own push service is out of reach offline)."""
    stand_in = fake.browser()
    subscription = json.dumps({**stand_in.subscription(), "expirationTime": None})
    return f"""
      PushManager.prototype.getSubscription = async () => null;
      PushManager.prototype.subscribe = async function (options) {{
        const key = options.applicationServerKey.length;
        window.__pushOptions = {{ userVisibleOnly: options.userVisibleOnly, key }};
        const json = {subscription};
        const unsubscribe = async () => true;
        return {{ endpoint: json.endpoint, options: {{}}, toJSON: () => json, unsubscribe }};
      }};
    """


def open_tablet(page, url: str) -> None:
    page.goto(f"{url}/tablet/")
    page.wait_for_selector("#tablet[data-ready='1']")


def test_alerts_are_off_until_the_crew_taps_and_then_the_tablet_subscribes(browser, server, world, fake_push):  # noqa: F811
    job(world, world.als1, crew=world.carol)
    page = signed_in_page(browser, server.url, world.carol, viewport=TABLET, has_touch=True)
    page.add_init_script(stand_in_subscription(fake_push))
    open_tablet(page, server.url)
    page.wait_for_selector("#push-state[data-state='off']")
    assert page.text_content("#push-state") == "出车提醒：未开启"
    assert page.is_visible("#push-on") and not PushSubscription.objects.exists()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "tablet-push-off-1280.png"))

    page.context.grant_permissions(["notifications"], origin=server.url)
    page.click("#push-on")
    page.wait_for_selector("#push-state[data-state='on']")
    assert page.text_content("#push-state") == "出车提醒：已开启" and page.is_hidden("#push-on")
    assert page.evaluate("window.__pushOptions") == {"userVisibleOnly": True, "key": 65}
    row = PushSubscription.objects.get()
    assert (row.user, row.unit, row.language) == (world.carol, world.als1, "zh-hans")
    page.screenshot(path=str(SHOTS / "tablet-push-on-1280.png"))

    page.reload()  # after a reload it subscribes again without asking
    page.wait_for_selector("#push-state[data-state='on']")
    assert PushSubscription.objects.count() == 1


def test_the_next_dispatch_reaches_the_subscribed_tablet(browser, server, world, fake_push):  # noqa: F811
    on_shift(world.carol, world.als1)
    page = signed_in_page(browser, server.url, world.carol, viewport=PHONE, has_touch=True)
    page.context.grant_permissions(["notifications"], origin=server.url)
    page.add_init_script(stand_in_subscription(fake_push))
    open_tablet(page, server.url)
    page.wait_for_selector("#push-state[data-state='on']")
    page.screenshot(path=str(SHOTS / "tablet-push-on-390.png"))
    outbox.run_once()  # whatever the world's set-up queued
    fake_push.delivered.clear()
    assignment = job(world, world.als1, crew=world.carol, complaint="胸痛")
    outbox.run_once()
    (message,) = fake_push.messages()
    assert message["assignment"] == assignment.pk and message["incident"] == assignment.incident.number


def test_the_service_worker_shows_the_alert_with_an_acknowledge_action(browser, server, world, fake_push):  # noqa: F811
    assignment = job(world, world.als1, crew=world.carol, complaint="胸痛 <大汗>")
    page = signed_in_page(browser, server.url, world.carol, viewport=TABLET, has_touch=True)
    page.context.grant_permissions(["notifications"], origin=server.url)
    open_tablet(page, server.url)
    wait_until(page, ACTIVE)
    cdp = page.context.new_cdp_session(page)
    registrations: list[str] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(
            r["registrationId"] for r in event["registrations"] if r["scopeURL"].endswith("/tablet/")
        ),
    )
    cdp.send("ServiceWorker.enable")
    # the registrations arrive as a DevTools event
    pump_until(page, lambda: registrations, "the tablet's worker is registered", seconds=5)
    payload = alert_payload(assignment, "zh-hans")
    data = json.dumps(payload, ensure_ascii=False)
    message = {"origin": server.url, "registrationId": registrations[-1], "data": data}
    shown = """navigator.serviceWorker.getRegistration('/tablet/')
      .then((r) => r.getNotifications()).then((ns) => ns.map((n) => ({
        title: n.title, body: n.body, tag: n.tag, requireInteraction: n.requireInteraction,
        actions: n.actions.map((a) => a.title), url: n.data.url })))"""
    # A push service delivers again until the worker takes the message; DevTools' delivery is
    # one-shot and, on a loaded machine, can reach a worker that is being stopped, so the test
    # delivers again as the push service would (same tag: a repeat replaces, never adds).
    for _ in range(4):
        cdp.send("ServiceWorker.deliverPushMessage", message)
        try:
            wait_until(page, f"{shown}.then((ns) => ns.length === 1)", seconds=10)
            break
        except AssertionError:
            continue
    (notification,) = page.evaluate(shown)
    assert notification["title"] == payload["title"] and "危重" in notification["title"]
    assert notification["body"] == "胸痛 <大汗>\n明湾市滨海路 88 号"
    assert notification["tag"] == f"assignment-{assignment.pk}" and notification["requireInteraction"] is True
    assert notification["actions"] == ["确认接单"]
    assert notification["url"] == f"/tablet/#assignment-{assignment.pk}"


def test_without_the_stand_in_chromium_cannot_subscribe_offline(browser, server, world):  # noqa: F811
    """What a real tablet shows when its browser's push service is out of reach."""
    job(world, world.als1, crew=world.carol)
    page = signed_in_page(browser, server.url, world.carol, viewport=TABLET, has_touch=True)
    page.context.grant_permissions(["notifications"], origin=server.url)
    open_tablet(page, server.url)
    page.wait_for_selector("#push-state[data-state='failed']", timeout=40_000)
    assert page.is_visible("#push-on") and not PushSubscription.objects.exists()
    page.screenshot(path=str(SHOTS / "tablet-push-failed-1280.png"))


def test_the_notifications_acknowledge_posts_the_crews_acknowledgement(browser, server, world):  # noqa: F811
    """What the "确认接单" action runs in the worker: the tablet's acknowledgement, with the CSRF
    token the worker reads from the cookie; a second one is refused (already acknowledged), and
    the action then opens the tablet instead."""
    assignment = job(world, world.als1, crew=world.carol)
    page = signed_in_page(browser, server.url, world.carol, viewport=TABLET, has_touch=True)
    open_tablet(page, server.url)
    wait_until(page, ACTIVE)
    (worker,) = [w for w in page.context.service_workers if "/tablet/sw.js" in w.url]
    ack_url = alert_payload(assignment)["ack_url"]
    assert worker.evaluate("(url) => acknowledge({ ackUrl: url })", ack_url) is True
    assignment.refresh_from_db()
    world.als1.refresh_from_db()
    assert assignment.acknowledged_at is not None and world.als1.status == "acknowledged"
    assert worker.evaluate("(url) => acknowledge({ ackUrl: url })", ack_url) is False
    page.wait_for_selector("#unit-status:has-text('已确认')")
