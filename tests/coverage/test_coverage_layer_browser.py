"""The coverage layer on the control room's map, in the demo city: toggled by its button and by
the C key, it shades the cells no free unit reaches within the target; units sent out grow the
shaded area and a unit freed again shrinks it, live, without a reload, several changes in one
page. Screenshots at 1920x1080 and 1366x768."""

import time
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from dispatch.coverage import live
from dispatch.incidents.actions import cancel_assignment, create_incident, dispatch_unit
from dispatch.models import Role, User
from fleet.models import Unit, UnitStatus
from tests.support.browser import browser, live_url, signed_in_page  # noqa: F401  (fixtures)
from tests.support.console_desk import demo_city  # noqa: F401
from tests.support.page_waits import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = Path(settings.BASE_DIR) / "var" / "screens"
LEGEND = "document.querySelector('#coverage-legend')"


def covered(page) -> float:
    return float(page.evaluate(f"{LEGEND}.dataset.covered"))


def shaded(page) -> int:
    return page.locator("path.coverage-cell").count()


def one_unit_a_station() -> None:
    """Test set-up: a quiet night, one unit left in service at each station (the others out of
    service), so sending a unit opens a hole in the coverage."""
    seen: set[tuple[float, float]] = set()
    for unit in live.covering_units():
        assert unit.position is not None
        at = (round(unit.position.x, 4), round(unit.position.y, 4))
        if at in seen:
            Unit.objects.filter(pk=unit.pk).update(status=UnitStatus.OUT_OF_SERVICE)
        seen.add(at)


def lonely_units(count: int) -> list[Unit]:
    """The covering units that alone reach the most demand (sending them opens holes)."""
    snap = live.snapshot()
    alone = snap.cover & (snap.counts == 1)
    share = alone.astype(float) @ snap.demand.weight
    picks = [snap.unit_ids[i] for i in np.argsort(-share)[:count] if share[i] > 0]
    assert len(picks) == count, "the demo city has no unit that alone covers a place"
    return [Unit.objects.get(pk=pk) for pk in picks]


def send(alice: User, unit: Unit):
    incident = create_incident(actor=alice, location=unit.position, location_source="pin", priority=3)
    return dispatch_unit(incident, unit, actor=alice)


def test_the_coverage_layer_grows_as_units_leave_and_shrinks_as_they_come_back(browser, live_url, demo_city):  # noqa: F811
    alice = User.objects.create_user("alice", role=Role.DISPATCHER)
    one_unit_a_station()
    live.refresh()
    started = time.perf_counter()
    before = live.snapshot()
    cold_s = time.perf_counter() - started
    started = time.perf_counter()
    live.etas_from([(before.demand.lon[0], before.demand.lat[0])])
    moved_ms = (time.perf_counter() - started) * 1000
    cells, units = len(before.demand), len(before.unit_ids)
    print(f"demo city: {cells} cells, {units} covering, cold {cold_s:.2f} s, one moved {moved_ms:.1f} ms")
    first, second = lonely_units(2)

    page = signed_in_page(browser, live_url, alice, viewport={"width": 1920, "height": 1080})
    page.goto(f"{live_url}/map/")
    page.wait_for_selector("#map-page[data-ready='1']")
    page.wait_for_selector("#conn.conn-live")
    assert page.get_attribute("#coverage-toggle", "aria-pressed") == "false" and shaded(page) == 0

    page.click("#coverage-toggle")
    wait_until(page, f"{LEGEND}.dataset.covered")
    assert page.get_attribute("#coverage-toggle", "aria-pressed") == "true"
    share0, cells0 = covered(page), shaded(page)
    assert share0 == pytest.approx(1 - before.uncovered_share, abs=1e-5)
    assert cells0 == int(before.uncovered.sum())
    assert "%" in page.inner_text("#coverage-legend")

    # Two units sent, one after the other: the shaded area grows each time, without a reload.
    page.evaluate("window.samePage = true")
    one = send(alice, first)
    wait_until(page, f"Number({LEGEND}.dataset.covered) < {share0}")
    share1, cells1 = covered(page), shaded(page)
    assert cells1 > cells0
    send(alice, second)
    wait_until(page, f"Number({LEGEND}.dataset.covered) < {share1}")
    share2, cells2 = covered(page), shaded(page)
    assert cells2 > cells1
    expected = live.snapshot()
    assert share2 == pytest.approx(1 - expected.uncovered_share, abs=1e-5)
    page.screenshot(path=str(SCREENS / "coverage_layer_1920x1080.png"))

    # The first unit freed again: its cells are covered once more.
    cancel_assignment(one, actor=alice, reason="取消 test")
    wait_until(page, f"Number({LEGEND}.dataset.covered) > {share2}")
    assert shaded(page) < cells2
    assert page.evaluate("window.samePage") is True

    # The C key turns the layer off and on again; the choice outlives a reload.
    page.locator("#map").click()
    page.keyboard.press("c")
    wait_until(page, "document.querySelectorAll('path.coverage-cell').length === 0")
    assert page.get_attribute("#coverage-toggle", "aria-pressed") == "false"
    assert page.is_hidden("#coverage-legend")
    page.keyboard.press("c")
    wait_until(page, "document.querySelectorAll('path.coverage-cell').length > 0")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.reload()
    page.wait_for_selector("#map-page[data-ready='1']")
    wait_until(page, f"{LEGEND}.dataset.covered")
    assert page.get_attribute("#coverage-toggle", "aria-pressed") == "true"
    # A 1366-pixel screen: the legend starts folded to its first line, the map's corner clear.
    assert "folded" in page.get_attribute("#coverage-legend", "class")
    assert page.is_visible("#coverage-legend .coverage-share") and page.is_hidden(".coverage-districts")
    folded_height = page.evaluate(f"{LEGEND}.getBoundingClientRect().height")
    page.wait_for_timeout(500)
    page.screenshot(path=str(SCREENS / "coverage_layer_1366x768.png"))
    page.click("#coverage-legend .coverage-fold")
    page.wait_for_selector(".coverage-districts", state="visible")
    assert page.evaluate(f"{LEGEND}.getBoundingClientRect().height") > 2 * folded_height
    page.reload()  # the choice is remembered on this device
    page.wait_for_selector("#map-page[data-ready='1']")
    page.wait_for_selector(".coverage-districts", state="visible")
    assert page.get_attribute("#coverage-legend .coverage-fold", "aria-expanded") == "true"


def test_the_layer_is_not_offered_to_an_administrator(browser, live_url, demo_city):  # noqa: F811
    erin = User.objects.create_user("erin", role=Role.ADMIN, is_staff=True)
    page = signed_in_page(browser, live_url, erin, viewport={"width": 1366, "height": 768})
    page.goto(f"{live_url}/map/")
    page.wait_for_selector("#map-page[data-ready='1']")
    page.click("#coverage-toggle")
    page.wait_for_selector(".coverage-control", state="hidden")
    assert page.locator("path.coverage-cell").count() == 0
