"""An administrator adds a station and a unit with a tracker from the admin's screens; the unit is
on the consoles already open (two dispatchers', no reload) at once, and the first fix from its
tracker (OsmAnd protocol, the key from the unit's page) moves it on their maps."""

import json
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings

from dispatch.models import Event
from fleet.models import Station, Unit
from fleet.roads.store import save_network
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)
from tests.support.console_desk import open_console
from tests.support.page_waits import wait_until
from tests.support.road_grids import river_city

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = Path(settings.BASE_DIR) / "var" / "screens"
STATION_AT = (119.65, 24.95)  # a street corner of the north bank
FIX_AT = (119.55, 24.905)  # another, 11 km west

# The unit's marker on a console's map: where Leaflet put it on screen.
MARKER = (
    "(el => el ? el.closest('.leaflet-marker-icon').style.transform : null)"
    "(document.querySelector(\".unit-label[data-unit='{pk}']\"))"
)


def send_fix(live_url: str, key: str, lon: float, lat: float) -> dict:
    """What Traccar Client sends, set up with the key as the last segment of its server URL."""
    query = urlencode({"id": "860000000000123", "lat": lat, "lon": lon, "timestamp": int(time.time()) + 1})
    request = urllib.request.Request(f"{live_url}/api/osmand/{key}?{query}", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_a_unit_added_in_the_admin_is_on_every_open_console_and_its_tracker_moves_it(
    browser,  # noqa: F811
    live_url,
    world,
):
    save_network(river_city(), "river city", "tests/registry/test_admin_adds_a_unit_browser.py")
    world.erin.is_superuser = True
    world.erin.save(update_fields=["is_superuser"])
    consoles = [open_console(browser, live_url, user, 1366, 768) for user in (world.alice, world.bob)]
    for console in consoles:
        wait_until(console, "document.querySelectorAll('#unit-board .unit-tile').length === 4")
        console.evaluate("window.openedOnce = true")  # gone if the page reloads

    admin = signed_in_page(browser, live_url, world.erin, viewport={"width": 1366, "height": 768})
    admin.goto(f"{live_url}/admin/fleet/station/add/")
    admin.fill("#id_code", "E7")
    admin.fill("#id_name", "东湖急救站")
    admin.fill("#id_name_en", "East Lake")
    admin.fill("#id_longitude", str(STATION_AT[0]))
    admin.fill("#id_latitude", str(STATION_AT[1]))
    SCREENS.mkdir(parents=True, exist_ok=True)
    admin.screenshot(path=str(SCREENS / "admin_station_add_1366x768.png"), full_page=True)
    with admin.expect_navigation():
        admin.click("input[name=_save]")
    station = Station.objects.get(code="E7")

    admin.goto(f"{live_url}/admin/fleet/unit/add/")
    admin.fill("#id_call_sign", "E7-ALS-1")
    admin.select_option("#id_kind", "als")
    admin.select_option("#id_home_station", str(station.pk))
    admin.fill("#id_capabilities", "als, bls, defib, ventilator")
    admin.fill("#id_plate", "闽A·E7001")
    admin.fill("#id_tracker_id", "860000000000123")
    with admin.expect_navigation():
        admin.click("input[name=_continue]")  # on to the unit's page: its tracker set-up
    unit = Unit.objects.get(call_sign="E7-ALS-1")
    assert (unit.home_station, unit.tracker_id) == (station, "860000000000123")
    assert Event.objects.filter(kind="unit.created", unit=unit, actor=world.erin).exists()
    key = admin.inner_text(".field-tracker_setup code >> nth=0")
    assert key == unit.tracker_key
    admin.screenshot(path=str(SCREENS / "admin_unit_change_1366x768.png"), full_page=True)

    # Every open console shows it at once, under its new station, without a reload.
    for console in consoles:
        wait_until(console, f"!!document.querySelector('#unit-board #unit-{unit.pk}')", seconds=10)
        tile = console.locator(f"#unit-{unit.pk}")
        assert tile.locator(".call-sign").inner_text() == "E7-ALS-1"
        section = console.locator(f"#unit-board section.station:has(#unit-{unit.pk}) .station-name")
        assert section.inner_text().startswith("东湖急救站")
        assert console.evaluate("window.openedOnce === true")
        wait_until(console, MARKER.format(pk=unit.pk))  # on the map, at its station
    at_station = [console.evaluate(MARKER.format(pk=unit.pk)) for console in consoles]

    # A fix from its tracker moves it, on every console.
    assert send_fix(live_url, key, *FIX_AT)["stored"] is True
    for console, before in zip(consoles, at_station, strict=True):
        wait_until(console, f"{MARKER.format(pk=unit.pk)} !== {json.dumps(before)}", seconds=10)
        assert console.evaluate("window.openedOnce === true")
    unit.refresh_from_db()
    assert (round(unit.position.x, 4), round(unit.position.y, 4)) == FIX_AT
    consoles[0].screenshot(path=str(SCREENS / "console_admin_added_unit_1366x768.png"))

    # The admin's other pages for the unit: out of service, a new tracker key.
    admin.click("#out-of-service")
    admin.fill("#id_reason", "车载电台故障")
    admin.screenshot(path=str(SCREENS / "admin_unit_out_of_service_1366x768.png"), full_page=True)
    with admin.expect_navigation():
        admin.click("#out-of-service-form input[type=submit]")
    for console in consoles:
        wait_until(console, f"document.querySelector('#unit-{unit.pk}')?.dataset.status === 'out_of_service'")
    assert "车载电台故障" in consoles[1].locator(f"#unit-{unit.pk}").inner_text()
    with admin.expect_navigation():
        admin.click("#rotate-tracker-key")
    new_key = admin.inner_text("#tracker-key")
    assert new_key != key and new_key == Unit.objects.get(pk=unit.pk).tracker_key
    admin.screenshot(path=str(SCREENS / "admin_unit_tracker_key_1366x768.png"), full_page=True)
