"""The Content-Security-Policy in Chromium: the report page's reflected-XSS address runs no
script; script injected into a page is refused by the policy (and runs once the policy is
bypassed, so the policy is what stops it); and every page works under it with no violation:
its scripts run, its live socket connects, its forms and buttons do what they did."""

import pytest
from django.utils import timezone

from dispatch.calls.actions import record_call_event, send_location_link, take_call
from dispatch.calls.telephony.events import CallEvent, CallEventKind
from tests.support.browser import OPEN_CONTEXTS, PAGE_ERRORS, browser, signed_in_page  # noqa: F401  (fixtures)
from tests.support.calls_helpers import migrated_data_back  # noqa: F401  (fixture)
from tests.support.page_waits import wait_until
from tests.support.roster import on_shift

pytestmark = [
    pytest.mark.usefixtures("migrated_data_back"),
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PAYLOAD = "<img src=x onerror=alert(1)>"
# Before any script of the page: record each violation the policy reports, and stand in for the
# print dialog (a headless browser has none).
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.effectiveDirective} ${e.blockedURI}`);
});
window.print = () => { window.__printed = true; };
"""
# What an attacker's echoed markup would do: an inline handler and an inline script element.
INJECT = """() => {
  document.body.insertAdjacentHTML("beforeend", '<img src="/static/no-such.png" onerror="window.__ran = 1">');
  const script = document.createElement("script");
  script.textContent = "window.__ran2 = 1";
  document.body.appendChild(script);
}"""


def watched(page) -> list[str]:
    """The page with violations recorded; the list of dialogs it opens (each dismissed)."""
    page.add_init_script(WATCH)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return dialogs


def signed_out_page(browser, **options):  # noqa: F811
    context = browser.new_context(locale="zh-CN", **options)
    OPEN_CONTEXTS.append(context)
    page = context.new_page()
    page.on("pageerror", lambda error: PAGE_ERRORS.append(f"{page.url}: {error}"))
    page.set_default_timeout(20_000)
    return page


def violations(page) -> list[str]:
    return page.evaluate("window.__violations")


def test_the_reflected_xss_address_runs_no_script(browser, live_url, world):  # noqa: F811
    page = signed_in_page(browser, live_url, world.bob)
    dialogs = watched(page)
    response = page.goto(f"{live_url}/reports/?priority={PAYLOAD}")
    page.wait_for_load_state("load")
    assert dialogs == []  # the img's onerror never ran
    assert response.status == 400
    assert page.inner_text("#bad-value") == PAYLOAD  # shown as text, not markup
    assert page.locator("img[src='x']").count() == 0
    assert violations(page) == []


@pytest.mark.parametrize("bypass", [False, True])
def test_injected_inline_script_is_refused_by_the_policy(browser, live_url, world, bypass):  # noqa: F811
    page = signed_in_page(browser, live_url, world.bob, bypass_csp=bypass)
    watched(page)
    page.goto(f"{live_url}/reports/?priority={PAYLOAD}")
    page.evaluate(INJECT)
    if bypass:  # the control: without the policy, the same markup runs
        wait_until(page, "window.__ran === 1 && window.__ran2 === 1")
        return
    wait_until(page, "window.__violations.length >= 2")
    assert sorted(v.split()[0] for v in violations(page)) == ["script-src-attr", "script-src-elem"]
    assert page.evaluate("[window.__ran, window.__ran2]") == [None, None]


def location_link(world, live_url: str) -> str:  # noqa: F811
    call = record_call_event(
        CallEvent("pbx", "c1", CallEventKind.RINGING, timezone.now(), caller="+8613912345678")
    )
    take_call(call, actor=world.alice)
    return send_location_link(call, actor=world.alice, base_url=live_url)[1]


def console(page, live_url, world) -> None:  # noqa: F811
    page.goto(f"{live_url}/console/")
    page.wait_for_selector("#console[data-ready='1']")
    page.wait_for_selector("#conn.conn-live")


def city_map(page, live_url, world) -> None:  # noqa: F811
    page.goto(f"{live_url}/map/")
    page.wait_for_selector("#conn.conn-live")
    page.wait_for_selector("#map.leaflet-container")


def er_board(page, live_url, world) -> None:  # noqa: F811
    """The control room's board, and its hospital picker (the one inline handler, by hash)."""
    page.goto(f"{live_url}/er/?hospital={world.city.pk}")
    page.wait_for_selector("#er[data-ready='1']")
    page.wait_for_selector("#conn.conn-live")
    page.select_option("#er-pick", str(world.county.pk))
    page.wait_for_url(f"**/er/?hospital={world.county.pk}")
    page.wait_for_selector("#er[data-ready='1']")


def tablet(page, live_url, world) -> None:  # noqa: F811
    """The tablet, its live socket and its service worker (/tablet/sw.js)."""
    on_shift(world.carol, world.als1)
    page.goto(f"{live_url}/tablet/")
    page.wait_for_selector("#tablet[data-ready='1']")
    page.wait_for_selector("#conn.conn-live")
    worker = page.evaluate("navigator.serviceWorker.ready.then((r) => r.active.scriptURL)")
    assert "/tablet/sw.js" in worker


def reports(page, live_url, world) -> None:  # noqa: F811
    page.goto(f"{live_url}/reports/")
    page.wait_for_selector("#reports[data-ready='1']")


def month_report(page, live_url, world) -> None:  # noqa: F811
    page.goto(f"{live_url}/reports/month/")
    page.click("#print-button")
    wait_until(page, "window.__printed === true")


def bad_filter(page, live_url, world) -> None:  # noqa: F811
    """The error page, and the language switch (a form posting to this site, then a redirect)."""
    page.goto(f"{live_url}/reports/month/?unit=x")
    page.wait_for_selector("#bad-filter:has-text('筛选条件')")
    page.click("button[name=language][value=en]")
    page.wait_for_selector("#bad-filter:has-text('The filter')")


def caller_location(page, live_url, world) -> None:  # noqa: F811
    """The caller's page reads the position and posts it (a permitted phone sends at once)."""
    page.goto(location_link(world, live_url))
    page.wait_for_selector("#locate[data-state='sent']")


def login(page, live_url, world) -> None:  # noqa: F811
    page.goto(f"{live_url}/login/")
    page.wait_for_selector("input[name=username]")


def admin(page, live_url, world) -> None:  # noqa: F811
    page.goto(f"{live_url}/admin/")
    page.wait_for_selector("#content-main")


def api_docs(page, live_url, world) -> None:  # noqa: F811
    """django-ninja's Swagger page, from its own static files."""
    page.goto(f"{live_url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title:has-text('120 Dispatch API')")
    page.wait_for_selector(".swagger-ui .opblock-tag-section")


PAGES = {
    "console": (console, "alice"),
    "map": (city_map, "alice"),
    "er": (er_board, "bob"),
    "tablet": (tablet, "carol"),
    "reports": (reports, "bob"),
    "month": (month_report, "bob"),
    "bad_filter": (bad_filter, "bob"),
    "caller": (caller_location, None),
    "login": (login, None),
    "admin": (admin, "erin"),
    "api_docs": (api_docs, "erin"),
}
PHONE = {
    "geolocation": {"latitude": 24.95, "longitude": 119.6, "accuracy": 10},
    "permissions": ["geolocation"],
}


@pytest.mark.parametrize("name", PAGES)
def test_every_page_works_under_the_policy(browser, live_url, world, name):  # noqa: F811
    visit, user = PAGES[name]
    if user is None:
        page = signed_out_page(browser, **PHONE)
    else:
        page = signed_in_page(browser, live_url, getattr(world, user), **PHONE)
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    watched(page)
    visit(page, live_url, world)
    assert violations(page) == [] and refused == []
