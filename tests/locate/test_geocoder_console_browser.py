"""An address the gazetteer does not hold, typed on the console: the external geocoder's answer
(a local server speaking Nominatim's protocol) appears in the place list, marked as coming from
the geocoder, and Enter puts the incident there with the location source "geocoder".

The console's daphne needs GEOCODER settings of its own, so this test runs its own server.
"""

import pytest

from dispatch.models import Incident
from tests.support.browser import browser, own_daphne, signed_in_page  # noqa: F401  (fixtures)
from tests.support.fake_geocoders import KNOWN, fake_geocoders  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(django_db_setup, fake_geocoders):  # noqa: F811
    with own_daphne({"GEOCODER": "nominatim", "GEOCODER_URL": fake_geocoders.url}) as daphne:
        yield daphne


def test_an_address_only_the_geocoder_knows(browser, server, world):  # noqa: F811
    page = signed_in_page(browser, server.url, world.alice, viewport={"width": 1600, "height": 900})
    page.goto(f"{server.url}/console/")
    page.wait_for_selector("#console[data-ready='1']")
    page.keyboard.press("n")
    page.keyboard.type("+8613800138000")
    page.keyboard.press("Enter")
    page.keyboard.type(KNOWN)
    page.wait_for_selector(f"#place-results li.active:has-text('{KNOWN}')")
    assert "地理编码" in page.inner_text("#place-results li.active")  # said where it comes from
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#location-line:has-text('{KNOWN}')")

    incident = Incident.objects.get(caller_number="+8613800138000")
    assert incident.location_source == "geocoder"
    assert (round(incident.location.x, 4), round(incident.location.y, 4)) == (119.6012, 24.9512)
    page.context.close()
