"""The tablet and the roster, in a real browser: a crew member not rostered taps a unit and
reads why not (in Chinese, the page's language); a shift that ended by itself at its rostered
end leaves the tablet saying so."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from dispatch.crew.actions import start_shift
from dispatch.roster.actions import add_roster_entry, end_overdue_shifts
from fleet.models import CrewShift
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def tablet(browser, live_url, user, width=1280, height=800):  # noqa: F811
    page = signed_in_page(
        browser, live_url, user, viewport={"width": width, "height": height}, has_touch=True
    )
    page.goto(f"{live_url}/tablet/")
    return page


def test_a_crew_member_not_rostered_reads_why_not(browser, live_url, world):  # noqa: F811
    page = tablet(browser, live_url, world.carol)
    page.wait_for_selector("#shift-note:not([hidden]):has-text('本周没有排班')")
    page.locator(f".unit-choice[data-unit='{world.als1.pk}']").click()
    error = page.locator("#shift-error")
    error.filter(has_text="T-ALS-1").wait_for()
    assert "未排班" in error.inner_text() and "crew-t-als-1" in error.inner_text()
    assert not CrewShift.objects.current().filter(user=world.carol).exists()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "roster-tablet-refused-1280.png"))


def test_the_tablet_says_the_shift_ended_at_its_rostered_end(browser, live_url, world):  # noqa: F811
    now = timezone.now()
    end = now + timedelta(hours=1)
    add_roster_entry(world.bls1, world.carol, now - timedelta(hours=11), end, actor=world.bob)
    start_shift(world.carol, world.bls1)
    page = tablet(browser, live_url, world.carol, 390, 844)
    page.wait_for_selector("#tablet[data-ready='1'] #call-sign:has-text('T-BLS-1')")
    frozen = end + timedelta(minutes=settings.SHIFT_END_GRACE_MINUTES)
    assert end_overdue_shifts(frozen) == 1
    # The socket's catch-up (10 s) or the tablet's poll (15 s) brings the shift's end.
    note = page.locator("#shift-note")
    note.filter(has_text="按排班结束").wait_for(timeout=30_000)
    local = timezone.localtime(frozen)
    assert "T-BLS-1" in note.inner_text() and f"{local:%H:%M}" in note.inner_text()
    assert page.locator("#work").is_hidden() and page.locator("#shift").is_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "roster-tablet-ended-390.png"))
