"""A unit from the console's board, by keyboard: U and its call sign find it, Enter opens it.
1-9 record the status its crew reports by radio (only those that may follow); a free unit is
taken out of service with a reason and an expected return, which the board then shows, and put
back in service. A crew that is not on shift is shown on the board."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch.models import Event
from fleet.models import CrewShift, Unit, UnitStatus
from tests.support.browser import browser  # noqa: F401  (fixtures)
from tests.support.console_desk import open_console
from tests.support.crew_tablet import job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_unit(page, call_sign: str) -> None:
    """U, the call sign, Enter (after a unit, the keyboard is back in the call-sign filter: Esc
    clears it and hands the keys back to the console)."""
    if page.evaluate("document.activeElement.id") == "unit-filter":
        page.keyboard.press("Escape")
    page.keyboard.press("u")
    page.wait_for_selector("#unit-filter:focus")
    page.keyboard.type(call_sign)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#unit-dialog[open] h2:text-is('{call_sign}')")


def test_radio_status_out_of_service_and_back(browser, live_url, world):  # noqa: F811
    job(world, world.als1, hospital=world.city)
    CrewShift.objects.filter(unit=world.neg1).update(ended_at=timezone.now())
    page = open_console(browser, live_url, world.alice)
    page.wait_for_selector(f"#unit-{world.neg1.pk} .no-crew-flag")

    open_unit(page, "T-ALS-1")  # dispatched: the crew radios "en route"
    labels = page.locator("#unit-dialog [data-status]").all_inner_texts()
    assert [label.split(" ", 1)[1] for label in labels] == ["已接收", "出车途中"]
    page.keyboard.press("2")
    page.wait_for_selector("#unit-dialog", state="hidden")
    page.wait_for_selector(f"#unit-{world.als1.pk} .status:has-text('出车途中')")
    assert Unit.objects.get(pk=world.als1.pk).status == UnitStatus.EN_ROUTE
    assert Event.objects.filter(kind="unit.status", unit=world.als1, actor=world.alice).exists()

    open_unit(page, "T-BLS-1")  # free: out of service, with why and until when
    page.wait_for_selector("#unit-dialog .out-form input[name=reason]:focus")
    page.keyboard.type("车辆故障：刹车")
    back = timezone.localtime() + timedelta(hours=3)
    page.fill("#unit-dialog input[name=back]", back.strftime("%Y-%m-%dT%H:%M"))
    page.keyboard.press("Enter")
    page.wait_for_selector("#unit-dialog", state="hidden")
    row = f"#unit-{world.bls1.pk}"
    page.wait_for_selector(f"{row} .status:has-text('暂停服务') .why:has-text('车辆故障：刹车')")
    bls = Unit.objects.get(pk=world.bls1.pk)
    assert (bls.status, bls.out_of_service_reason) == (UnitStatus.OUT_OF_SERVICE, "车辆故障：刹车")
    assert timezone.localtime(bls.expected_back_at).strftime("%H:%M") == back.strftime("%H:%M")
    assert back.strftime("%H:%M") in page.inner_text(f"{row} .why")

    open_unit(page, "T-BLS-1")
    assert "车辆故障：刹车" in page.inner_text("#unit-dialog .out-line")
    page.focus("#unit-dialog .back-in")
    page.keyboard.press("Enter")
    page.wait_for_selector("#unit-dialog", state="hidden")
    page.wait_for_selector(f"{row} .status:text-is('待命')")
    bls.refresh_from_db()
    assert (bls.status, bls.out_of_service_reason, bls.expected_back_at) == (UnitStatus.AVAILABLE, "", None)
