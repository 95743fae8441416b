"""Signing out of the crew tablet loses nothing the crew did not choose to lose, and leaves no
patient data behind. The sign-out answers with Clear-Site-Data, which wipes the outbox in
localStorage; so the tablet sends what waits first, and what cannot be sent (no network) is
put to the crew in our own dialog: stay signed in (it is sent when the network is back) or sign
out anyway and lose it. The service worker's copies of the job go when the shift ends, and a
second crew member signing in on the same tablet never sees the first one's (static/js/
tablet-signout.js, tablet-sw.js).

Each test runs its own daphne, so it can take the server away (a tablet out of reach) and bring
it back on the same port.
"""

import re
from contextlib import suppress
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from playwright.sync_api import Error as PlaywrightError

from dispatch.crew.actions import end_shift
from dispatch.models import Message, MessageDirection, PatientRecord, User
from dispatch.units.actions import set_unit_status
from fleet.models import UnitStatus
from tests.support.browser import browser, eventually, own_daphne, signed_in_page  # noqa: F401  (fixtures)
from tests.support.crew_tablet import crew_member, job
from tests.support.page_waits import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
NAME = "王<b>小明</b> & 'O\"Neil'"  # odd characters: escaped in the dialog, stored as typed
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"

# What this origin keeps: every outbox entry and every entry of every Cache Storage cache.
KEPT = """async () => {
  const outbox = Object.keys(localStorage).filter((k) => k.startsWith("d120.tablet.outbox."))
    .flatMap((k) => JSON.parse(localStorage.getItem(k) || "[]"));
  const cached = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const copy = await cache.match(request);
      let body = await copy.text();
      try { body = JSON.stringify(JSON.parse(body)); } catch { /* a page, a script */ }
      cached.push({ cache: name, url: new URL(request.url).pathname, body,
        cacheControl: copy.headers.get("Cache-Control") });
    }
  }
  return { outbox, cached };
}"""


ACTIVE = "navigator.serviceWorker.getRegistration('/tablet/').then((r) => r?.active?.state === 'activated')"


@pytest.fixture
def server(django_db_setup):
    with own_daphne() as daphne:
        yield daphne


def open_tablet(page, url: str, number: str) -> None:
    """The tablet online, its worker in control and its copies kept (a reload through the worker)."""
    page.goto(f"{url}/tablet/")
    page.wait_for_selector("#tablet[data-ready='1'] #job:not([hidden])")
    # Active, then a reload through it (a page that loaded while it activated is not its own).
    wait_until(page, ACTIVE)
    page.reload()
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    page.wait_for_selector(f"#tablet[data-ready='1'] #job-number:has-text('{number}')")
    page.wait_for_selector("#net.net-on")


def save_patient(page, name: str) -> None:
    page.click("#tabs [data-tab='patient']")
    page.fill("#patient-form [name=name]", name)
    page.fill("#patient-form [name=findings]", "胸痛 1 小时\n大汗")
    page.click("#patient-form button[type=submit]")


def send_message(page, text: str) -> None:
    page.click("#tabs [data-tab='messages']")
    page.fill("#message-text", text)
    page.click("#message-form button[type=submit]")


def kept_on(context, url: str) -> dict:
    """What the tablet's origin keeps, read from a page of the same origin outside the tablet."""
    page = context.new_page()
    page.goto(f"{url}/healthz")
    kept = page.evaluate(KEPT)
    page.close()
    return kept


def can_sign_in(user: User, password: str) -> None:
    """A password the daphne process can check: the tests' own settings hash with MD5
    (tests/conftest.py), which the server's settings do not take."""
    hashed = PBKDF2PasswordHasher().encode(password, "signout-salt", iterations=1000)
    User.objects.filter(pk=user.pk).update(password=hashed)


def sign_in(page, url: str, username: str, password: str, next_url: str = "/") -> None:
    page.goto(f"{url}/login/?next={next_url}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{url}{next_url}")


def test_unsent_records_ask_before_sign_out_and_stay_keeps_and_sends_them(browser, server, world):  # noqa: F811
    assignment = job(world, world.als1, hospital=world.city, crew=world.carol)
    set_unit_status(world.als1, UnitStatus.ACKNOWLEDGED, actor=world.carol)
    page = signed_in_page(browser, server.url, world.carol, viewport=TABLET, has_touch=True)
    open_tablet(page, server.url, assignment.incident.number)

    server.stop()  # a tunnel: two records wait
    save_patient(page, NAME)
    send_message(page, "东门 <进> 2楼")
    page.wait_for_selector("#net.net-off:has-text('2')")

    page.click("form[action$='/logout/'] button")
    dialog = page.locator("#signout-dialog[open]")
    dialog.locator(".signout-stay").wait_for()
    assert "2 条记录尚未发送" in dialog.locator("h2").inner_text()
    items = dialog.locator(".signout-list li").all_inner_texts()
    listed = [re.sub(r"^\d\d:\d\d ", "", item) for item in items]
    assert listed == ["病历", "消息：东门 <进> 2楼"]  # in order, each with the time of its tap
    assert "仍然退出，丢弃 2 条" in dialog.locator(".signout-lose").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "tablet-signout-1280x800.png"))

    dialog.locator(".signout-stay").click()
    page.wait_for_selector("#signout-dialog", state="hidden")
    assert page.url == f"{server.url}/tablet/"  # still signed in, on the tablet
    assert len(page.evaluate(KEPT)["outbox"]) == 2

    server.start()  # the network is back: both are sent, in order, nothing lost
    record = eventually(lambda: PatientRecord.objects.filter(assignment=assignment).first(), 30)
    assert record and record.name == NAME and record.findings == "胸痛 1 小时\n大汗"
    assert eventually(
        lambda: Message.objects.filter(direction=MessageDirection.TO_CONTROL, text="东门 <进> 2楼").exists()
    )
    page.wait_for_selector("#net.net-on:not(:has-text('2'))")
    assert page.evaluate(KEPT)["outbox"] == []
    page.context.close()


def test_sign_out_anyway_drops_the_unsent_records_and_the_copies(browser, server, world):  # noqa: F811
    assignment = job(world, world.als1, hospital=world.city, crew=world.carol)
    set_unit_status(world.als1, UnitStatus.ACKNOWLEDGED, actor=world.carol)
    page = signed_in_page(browser, server.url, world.carol, viewport=PHONE, has_touch=True)
    open_tablet(page, server.url, assignment.incident.number)
    assert any(c["url"] == "/api/crew/assignment" for c in page.evaluate(KEPT)["cached"])

    server.stop()
    save_patient(page, NAME)
    page.wait_for_selector("#net.net-off:has-text('1')")
    page.tap("form[action$='/logout/'] button")
    dialog = page.locator("#signout-dialog[open]")
    dialog.locator(".signout-lose").wait_for()
    assert "1 条记录尚未发送" in dialog.locator("h2").inner_text()
    page.screenshot(path=str(SHOTS / "tablet-signout-390x844.png"))
    with page.expect_event("requestfailed", lambda request: request.url.endswith("/logout/")):
        dialog.locator(".signout-lose").tap()  # the sign-out itself cannot reach the server

    server.start()
    kept = kept_on(page.context, server.url)
    assert kept["outbox"] == []
    assert [c for c in kept["cached"] if "/api/" in c["url"] or c["url"] == "/tablet/"] == []
    page.wait_for_timeout(5000)  # longer than the outbox's retry: nothing left to send it
    assert not PatientRecord.objects.filter(assignment=assignment).exists()
    page.context.close()


def test_with_nothing_waiting_sign_out_goes_at_once_and_leaves_nothing(browser, server, world):  # noqa: F811
    assignment = job(world, world.als1, hospital=world.city, crew=world.carol)
    set_unit_status(world.als1, UnitStatus.ACKNOWLEDGED, actor=world.carol)
    page = signed_in_page(browser, server.url, world.carol, viewport=TABLET, has_touch=True)
    open_tablet(page, server.url, assignment.incident.number)
    assert any(c["url"] == "/api/crew/assignment" for c in page.evaluate(KEPT)["cached"])

    with page.expect_navigation(url=f"{server.url}/login/", timeout=5000):
        page.click("form[action$='/logout/'] button")
    assert page.locator("#signout-dialog").count() == 0
    assert page.evaluate(KEPT) == {"outbox": [], "cached": []}
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then((r) => r.length)") == 0
    page.goto(f"{server.url}/tablet/")
    page.wait_for_url(f"{server.url}/login/?next=/tablet/")  # signed out on the server too
    page.context.close()


def test_a_record_waiting_from_a_tunnel_is_sent_before_the_sign_out(browser, server, world):  # noqa: F811
    assignment = job(world, world.als1, hospital=world.city, crew=world.carol)
    set_unit_status(world.als1, UnitStatus.ACKNOWLEDGED, actor=world.carol)
    page = signed_in_page(browser, server.url, world.carol, viewport=TABLET, has_touch=True)
    open_tablet(page, server.url, assignment.incident.number)
    page.route("**/api/crew/sync", lambda route: route.abort())  # the sends fail, the rest works
    save_patient(page, NAME)
    page.wait_for_selector("#net.net-off:has-text('1')")
    page.unroute("**/api/crew/sync")

    # Signed out before the outbox tried again: the sign-out sends it first, then goes.
    with page.expect_navigation(url=f"{server.url}/login/", timeout=20_000):
        page.click("form[action$='/logout/'] button")
    record = PatientRecord.objects.filter(assignment=assignment).first()
    assert record and record.name == NAME
    assert page.evaluate(KEPT) == {"outbox": [], "cached": []}
    page.context.close()


def test_sign_out_from_another_page_asks_too(browser, server, world):  # noqa: F811
    assignment = job(world, world.als1, hospital=world.city, crew=world.carol)
    set_unit_status(world.als1, UnitStatus.ACKNOWLEDGED, actor=world.carol)
    page = signed_in_page(browser, server.url, world.carol, viewport=TABLET, has_touch=True)
    open_tablet(page, server.url, assignment.incident.number)
    page.route("**/api/crew/sync", lambda route: route.abort())
    save_patient(page, NAME)
    page.wait_for_selector("#net.net-off:has-text('1')")
    page.close()  # the tablet page is gone; its record waits in localStorage

    home = page.context.new_page()
    home.route("**/api/crew/sync", lambda route: route.abort())  # still no way through
    home.goto(f"{server.url}/")
    home.click("form[action$='/logout/'] button")
    dialog = home.locator("#signout-dialog[open]")
    dialog.locator(".signout-stay").wait_for()
    assert "1 条记录尚未发送" in dialog.locator("h2").inner_text()
    home.screenshot(path=str(SHOTS / "home-signout-1280x800.png"))
    dialog.locator(".signout-stay").click()
    assert home.url == f"{server.url}/" and len(home.evaluate(KEPT)["outbox"]) == 1

    # The network is back: this page sends it (as the one signed in), then signs out.
    home.unroute("**/api/crew/sync")
    with home.expect_navigation(url=f"{server.url}/login/", timeout=20_000):
        home.click("form[action$='/logout/'] button")
    record = PatientRecord.objects.filter(assignment=assignment).first()
    assert record and record.name == NAME
    home.context.close()


def test_the_end_of_the_shift_takes_the_job_off_the_tablet(browser, server, world):  # noqa: F811
    assignment = job(world, world.als1, hospital=world.city, crew=world.carol, complaint="胸痛 <严重>")
    set_unit_status(world.als1, UnitStatus.ACKNOWLEDGED, actor=world.carol)
    page = signed_in_page(browser, server.url, world.carol, viewport=TABLET, has_touch=True)
    open_tablet(page, server.url, assignment.incident.number)
    page.click("#tabs [data-tab='hospital']")  # the hospitals for this patient, from the scene
    page.wait_for_selector(f"#hospital-list [data-hospital='{world.county.pk}']")
    job_answers = f"/api/crew/assignments/{assignment.pk}"
    kept = page.evaluate(KEPT)["cached"]
    copy = next(c for c in kept if c["url"] == "/api/crew/assignment")
    # The answer said no-store (dispatch/core/privacy.py); the worker keeps it all the same.
    assert copy["cacheControl"] == "no-store" and "胸痛 <严重>" in copy["body"]
    assert [c["url"] for c in kept if c["url"].startswith(job_answers)] == [f"{job_answers}/recommendation"]

    end_shift(world.carol)  # ended elsewhere: another tablet, the control room
    page.wait_for_selector("#shift:not([hidden])", timeout=30_000)
    wait_until(
        page,
        f"""(async () => {{
      for (const name of await caches.keys())
        for (const request of await (await caches.open(name)).keys())
          if (request.url.includes("{job_answers}")) return false;
      return true;
    }})()""",
    )
    kept = page.evaluate(KEPT)["cached"]
    assert not [c for c in kept if "胸痛" in c["body"] or assignment.incident.number in c["body"]]
    assert [c for c in kept if c["url"] == "/tablet/"]  # the page itself stays, for the next shift

    server.stop()  # and a reload out of reach shows no job either
    page.reload()
    page.wait_for_selector("#tablet[data-loaded='1']")
    assert page.locator("#job:not([hidden])").count() == 0
    assert "胸痛" not in page.inner_text("#tablet")
    page.context.close()


def test_an_old_copy_is_not_served_past_the_length_of_a_shift(browser, server, world):  # noqa: F811
    assignment = job(world, world.als1, hospital=world.city, crew=world.carol)
    set_unit_status(world.als1, UnitStatus.ACKNOWLEDGED, actor=world.carol)
    page = signed_in_page(browser, server.url, world.carol, viewport=TABLET, has_touch=True)
    open_tablet(page, server.url, assignment.incident.number)
    hours = settings.SESSION_HOURS_BY_ROLE["crew"]
    # Out of reach first, so that no answer still on its way (the tablet polls) is kept fresh
    # after the ageing below; then the copies as they would be a shift and a minute later,
    # stamped that much earlier, until a pass finds none left young.
    server.stop()
    page.evaluate(
        """async (ms) => {
      const cutoff = Date.now() - ms;
      for (let pass = 0; pass < 20; pass++) {
        let young = 0;
        for (const name of await caches.keys()) {
          const cache = await caches.open(name);
          for (const request of await cache.keys()) {
            const copy = await cache.match(request);
            if (Number(copy.headers.get("X-Tablet-Kept")) <= cutoff) continue;
            young++;
            const headers = new Headers(copy.headers);
            headers.set("X-Tablet-Kept", String(cutoff));
            await cache.put(request, new Response(await copy.blob(), { status: copy.status, headers }));
          }
        }
        if (!young && pass > 0) return;
        await new Promise((done) => setTimeout(done, 250));
      }
      throw new Error("copies were still being kept fresh");
    }""",
        (hours * 3600 + 60) * 1000,
    )
    page.reload()
    page.wait_for_selector("#tablet[data-loaded='1']")  # the page itself is still kept
    assert page.locator("#job:not([hidden])").count() == 0
    assert "胸痛" not in page.inner_text("#tablet")
    assert not [c for c in page.evaluate(KEPT)["cached"] if c["url"].startswith("/api/")]
    page.context.close()


def test_a_second_crew_member_never_sees_the_first_ones_job_offline(browser, server, world):  # noqa: F811
    assignment = job(world, world.als1, hospital=world.city, crew=world.carol, complaint="胸痛 <严重>")
    set_unit_status(world.als1, UnitStatus.ACKNOWLEDGED, actor=world.carol)
    can_sign_in(world.carol, "pw-carol-120")
    can_sign_in(crew_member("dan"), "pw-dan-120")
    context = browser.new_context(locale="zh-CN", viewport=TABLET, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        sign_in(page, server.url, "carol", "pw-carol-120", "/tablet/")
        open_tablet(page, server.url, assignment.incident.number)
        # The shift over, carol hands the tablet on without signing out; dan signs in.
        sign_in(page, server.url, "dan", "pw-dan-120")

        server.stop()  # and opens the tablet out of reach
        with suppress(PlaywrightError):  # no copy for dan: the browser's own offline page
            page.goto(f"{server.url}/tablet/")
        page.wait_for_load_state()
        shown = settled_content(page)
        assert "胸痛" not in shown and assignment.incident.number not in shown and "carol" not in shown

        server.start()
        kept = kept_on(context, server.url)
        assert not [c for c in kept["cached"] if "胸痛" in c["body"] or c["url"] == "/tablet/"]
        page.goto(f"{server.url}/tablet/")  # online dan gets his own tablet, with no job
        page.wait_for_selector("#tablet[data-loaded='1'] #shift:not([hidden])")
        assert "胸痛" not in page.inner_text("#tablet")
    finally:
        context.close()


def settled_content(page) -> str:
    """The page's HTML once the browser has stopped navigating (the offline page may still be
    replacing the one that failed to load)."""
    for _ in range(40):
        try:
            return page.content()
        except PlaywrightError:
            page.wait_for_timeout(250)
    return page.content()
