"""Seats and the handover in a real browser: a dispatcher signs on to a seat from the console's
header and the header shows it; the handover page lists a note written there, and the
incoming dispatcher acknowledges it (the notes leave the page with the acknowledgement)."""

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point

from dispatch.handover.actions import create_seat
from dispatch.incidents.actions import create_incident
from dispatch.models import Event, Handover, Role, User
from dispatch.units.actions import take_out_of_service
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def test_seat_sign_on_and_the_handover(browser, live_url, world):  # noqa: F811
    create_seat("调度台 3", actor=world.bob)
    create_seat("调度台 4", actor=world.bob)
    incident = create_incident(
        actor=world.alice,
        location=Point(119.6, 24.9, srid=4326),
        location_source="pin",
        priority=1,
        chief_complaint="胸痛",
        address="明湾市滨海路 88 号",
    )
    take_out_of_service(world.neg1, "负压舱消毒", actor=world.bob)
    SHOTS.mkdir(parents=True, exist_ok=True)

    console = signed_in_page(browser, live_url, world.alice, viewport={"width": 1920, "height": 1080})
    console.goto(f"{live_url}/console/")
    console.select_option("#seat-select", label="调度台 3")
    console.click("#seat-on")
    console.wait_for_selector("#seat-name:has-text('调度台 3')")
    console.screenshot(path=str(SHOTS / "handover-console-seat-1920.png"))

    console.click("#handover-link")
    console.wait_for_selector("#handover-incidents")
    assert incident.number in console.locator("#handover-incidents").inner_text()
    assert "负压舱消毒" in console.locator("#handover-units").inner_text()
    console.fill("#note-text", "T-NEG-1 消毒至 18:00；\n县医院 CT 故障")
    console.click("#note-save")
    console.wait_for_selector("#handover-notes li:has-text('县医院 CT 故障')")
    console.screenshot(path=str(SHOTS / "handover-page-1920.png"), full_page=True)

    night = User.objects.create_user("night", role=Role.DISPATCHER, first_name="夜班 调度员")
    page = signed_in_page(browser, live_url, night, viewport={"width": 1366, "height": 768})
    page.goto(f"{live_url}/handover/")
    page.locator("#handover-seats li", has_text="调度台 3").locator("button").click()
    page.wait_for_selector("#seat-name:has-text('调度台 3')")
    assert (
        "night" in page.locator("#handover-seats li", has_text="调度台 3").inner_text()
        or "夜班" in page.locator("#handover-seats li", has_text="调度台 3").inner_text()
    )
    page.screenshot(path=str(SHOTS / "handover-page-1366.png"), full_page=True)
    page.click("#acknowledge-handover")
    page.wait_for_selector("#handover-notes:has-text('暂无留言')")
    assert Handover.objects.get().acknowledged_by == night
    assert Event.objects.filter(kind="changeover.acknowledged", actor=night).exists()
    assert Event.objects.get(kind="seat.signed_on", actor=night).data["replaced"] == "alice"


def test_the_roster_page_week_form(browser, live_url, world):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = signed_in_page(browser, live_url, world.bob, viewport={"width": 1366, "height": 768})
    page.goto(f"{live_url}/roster/")
    page.select_option("#week-unit", label="T-BLS-1")
    page.select_option("#week-user", value=str(world.carol.pk))
    page.select_option("#week-template", value="night")
    page.click("#week-save")
    page.wait_for_selector(f"#roster-table tr[data-unit='{world.bls1.pk}'] .roster-entry:has-text('carol')")
    row = page.locator(f"#roster-table tr[data-unit='{world.bls1.pk}']")
    assert row.locator(".roster-entry", has_text="carol").count() == 7  # beside the world's own crew
    page.screenshot(path=str(SHOTS / "roster-page-1366.png"), full_page=True)
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.screenshot(path=str(SHOTS / "roster-page-1920.png"))
