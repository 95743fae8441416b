"""While on shift the tablet reports its GPS position, at most every 5 s; after a network gap
only the latest fix is sent (positions are state, not events)."""

import pytest

from fleet.models import PositionReport, PositionSource, Unit
from tests.support.browser import browser, eventually, signed_in_page  # noqa: F401  (fixtures)
from tests.support.roster import on_shift

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

A = {"latitude": 24.900, "longitude": 119.600, "accuracy": 8}
B = {"latitude": 24.9003, "longitude": 119.6003, "accuracy": 8}  # tens of metres a step: driving
C = {"latitude": 24.9006, "longitude": 119.6006, "accuracy": 8}


def reports(unit: Unit) -> list[tuple[float, float]]:
    rows = PositionReport.objects.filter(unit=unit, source=PositionSource.TABLET).order_by("received_at")
    return [(round(r.position.y, 4), round(r.position.x, 4)) for r in rows]


def test_the_tablet_reports_its_position_and_only_the_latest_after_a_gap(browser, live_url, world):  # noqa: F811
    on_shift(world.carol, world.als1)
    page = signed_in_page(
        browser,
        live_url,
        world.carol,
        viewport={"width": 390, "height": 844},
        geolocation=A,
        permissions=["geolocation"],
    )
    page.goto(f"{live_url}/tablet/")
    assert eventually(lambda: reports(world.als1), 15) == [(24.9, 119.6)]
    page.wait_for_selector("#gps:has-text('GPS')")

    page.context.set_offline(True)
    page.context.set_geolocation(B)
    page.wait_for_timeout(6000)  # long enough for a send, which fails
    page.context.set_geolocation(C)
    page.wait_for_timeout(1500)
    page.context.set_offline(False)

    assert eventually(lambda: len(reports(world.als1)) >= 2, 15)
    page.wait_for_timeout(6000)  # nothing else is waiting to go
    assert reports(world.als1) == [(24.9, 119.6), (24.9006, 119.6006)]  # never B
    unit = Unit.objects.get(pk=world.als1.pk)
    assert (round(unit.position.y, 4), round(unit.position.x, 4)) == (24.9006, 119.6006)
