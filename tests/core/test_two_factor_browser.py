"""Two-factor sign-in in Chromium, in Chinese: an administrator with no authenticator signs in,
is held on the set-up page, scans nothing but reads the key as an app would, confirms with the
app's code and reaches the reports; signed out and in again, the code page asks for the code, a
wrong one is refused in Chinese and the right one signs in. No page breaks the CSP."""

import base64
import time
from pathlib import Path

import pytest
from django.conf import settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.support.browser import browser, signed_in_through_pages  # noqa: F401  (fixtures)
from tests.support.calls_helpers import migrated_data_back  # noqa: F401  (fixture)
from tests.support.two_factor import wrong_code

pytestmark = [
    pytest.mark.usefixtures("migrated_data_back"),
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

SCREENS = Path(settings.BASE_DIR) / "var" / "screenshots"
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.effectiveDirective} ${e.blockedURI}`);
});
"""


def shot(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"two-factor-{name}.png"), full_page=True)


def test_an_administrator_sets_up_and_signs_in_with_the_code_in_chinese(browser, live_url, world):  # noqa: F811
    viewport = {"width": 1366, "height": 768}
    page = signed_in_through_pages(browser, live_url, world.erin, "pw-erin-120", viewport=viewport)
    page.context.add_init_script(WATCH)
    # Held on the set-up page, whatever she asks for.
    page.goto(f"{live_url}/reports/")
    page.wait_for_selector("#two-factor-required:has-text('你的角色须以第二因素登录')")
    assert "/account/two-factor/" in page.url
    assert page.locator(".qr svg").is_visible()
    box = page.locator(".qr svg").bounding_box()
    assert box and box["width"] >= 150 and box["height"] >= 150
    shot(page, "set-up-1366")
    for size in ({"width": 1920, "height": 1080}, {"width": 390, "height": 844}):
        page.set_viewport_size(size)
        shot(page, f"set-up-{size['width']}")
    page.set_viewport_size(viewport)
    # The app's side: the key as shown, and the code it computes from it.
    key = base64.b32decode(page.inner_text("#two-factor-secret").replace(" ", ""))
    assert key == TOTPDevice.objects.get(user=world.erin).bin_key
    page.fill("input[name=code]", f"{totp(key):06d}")
    page.click("button[type=submit].primary")
    # The backup codes, shown this once, then on to the reports.
    page.wait_for_selector("#two-factor-backup-codes li")
    assert page.locator("#two-factor-backup-codes li").count() == 8
    assert page.locator("h2:has-text('备用码')").is_visible()
    shot(page, "backup-codes-1366")
    page.click("#two-factor-continue")
    page.wait_for_selector("#reports")
    assert page.url.endswith("/reports/")
    assert TOTPDevice.objects.get(user=world.erin).confirmed
    assert page.evaluate("window.__violations") == []
    page.click("form[action='/logout/'] button")
    page.wait_for_selector("input[name=username]")

    # Signing in again: the password, then the code.
    page.fill("input[name=username]", "erin")
    page.fill("input[name=password]", "pw-erin-120")
    page.click("button[type=submit].primary")
    page.wait_for_selector("#two-factor-verify:has-text('6 位验证码')")
    device = TOTPDevice.objects.get(user=world.erin)
    page.fill("input[name=code]", wrong_code(device))
    page.click("button[type=submit].primary")
    page.wait_for_selector("#two-factor-verify .error:has-text('验证码错误或已过期')")
    shot(page, "code-1366")
    time.sleep(1.1)  # django-otp's pause after a wrong code
    page.goto(f"{live_url}/reports/")  # not signed in: back to the password
    page.wait_for_selector("input[name=username]")
    page.fill("input[name=username]", "erin")
    page.fill("input[name=password]", "pw-erin-120")
    page.click("button[type=submit].primary")
    page.wait_for_selector("#two-factor-verify input[name=code]")
    from tests.support.two_factor import next_code

    page.fill("input[name=code]", next_code(device))
    page.click("button[type=submit].primary")
    page.wait_for_selector("#reports")
    assert page.url.endswith("/reports/")
    assert page.evaluate("window.__violations") == []
    # The set-up page now says it is on; the link to it sits beside "Sign out".
    page.click("#two-factor-link")
    page.wait_for_selector("#two-factor-on")
    shot(page, "on-1366")


def test_the_sign_in_helper_passes_the_code_page(browser, live_url, world):  # noqa: F811
    from tests.support.two_factor import give_device

    device = give_device(world.bob)
    page = signed_in_through_pages(browser, live_url, world.bob, "pw-bob-120", device)
    page.goto(f"{live_url}/reports/")
    page.wait_for_selector("#reports")
