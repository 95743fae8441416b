"""Two ER boards during a major incident: each shows the patients allocated to its own hospital
and nobody else's, hears a new allocation without a reload, and acknowledges its patients one tap
each; the casualty records the nurse who did."""

import pytest

from dispatch.major.actions import allocate_casualties, declare_major_incident, register_casualty
from dispatch.models import Casualty
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)
from tests.support.page_waits import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def er_board(browser, live_url, nurse):  # noqa: F811
    page = signed_in_page(browser, live_url, nurse, viewport={"width": 1920, "height": 1080})
    page.goto(f"{live_url}/er/")
    page.wait_for_selector("#er[data-ready='1']")
    page.evaluate("window.notReloaded = true")
    return page


def test_each_er_sees_and_acknowledges_only_its_own(browser, live_url, world, crash):  # noqa: F811
    major = declare_major_incident(crash, level=3, actor=world.alice)
    red, yellow, green = (
        register_casualty(major, tag=t, actor=world.alice) for t in ("red", "yellow", "green")
    )
    allocate_casualties(major, {red.pk: world.city.pk, yellow.pk: world.county.pk}, actor=world.alice)
    city, county = er_board(browser, live_url, world.dave), er_board(browser, live_url, world.frank)
    city.wait_for_selector(f"#er-major li[data-casualty='{red.pk}']")
    county.wait_for_selector(f"#er-major li[data-casualty='{yellow.pk}']")
    assert city.query_selector(f"#er-major li[data-casualty='{yellow.pk}']") is None
    assert county.query_selector(f"#er-major li[data-casualty='{red.pk}']") is None

    allocate_casualties(major, {green.pk: world.city.pk}, actor=world.alice)  # one more for the city
    city.wait_for_selector(f"#er-major li[data-casualty='{green.pk}']", timeout=20000)
    assert county.query_selector(f"#er-major li[data-casualty='{green.pk}']") is None

    for casualty in (red, green):
        city.click(f"#er-major button[data-ack='{casualty.pk}']")
    rows = "document.querySelectorAll('#er-major .acked').length"
    wait_until(city, f"{rows} === 2", seconds=15)
    assert set(Casualty.objects.filter(acknowledged_by=world.dave).values_list("pk", flat=True)) == {
        red.pk,
        green.pk,
    }
    assert Casualty.objects.get(pk=yellow.pk).acknowledged_at is None
    assert city.evaluate("window.notReloaded") and county.evaluate("window.notReloaded")
