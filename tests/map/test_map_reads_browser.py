"""The city map reads its lists again on events, one read at a time: a read asked while one is in
flight runs after it, so an older answer can never land last and leave the map behind."""

import pytest

from dispatch.incidents.actions import create_incident
from dispatch.models import Place, PlaceKind, Role, User
from tests.support.browser import browser, live_url, signed_in_page  # noqa: F401  (fixtures)
from tests.support.console_desk import demo_city  # noqa: F401  (fixture)
from tests.support.page_waits import hold_first_read, pump_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def incident_at(actor: User, place: Place):
    return create_incident(
        actor=actor, location=place.point, location_source="gazetteer", address=place.name, priority=1
    )


def test_an_incident_told_during_a_read_is_on_the_map_after_it(browser, live_url, demo_city):  # noqa: F811
    """The map's read of the open incidents is held in flight (the server's answer fetched, not
    yet given to the page) while a second incident is opened and its event reaches the page. The
    held answer predates the second incident. A map that read again at once got the newer answer
    first and then the held, older one, and showed one incident fewer until some later event."""
    alice = User.objects.create_user("alice", role=Role.DISPATCHER)
    places = list(Place.objects.filter(kind=PlaceKind.LANDMARK).order_by("pk"))[::7]
    page = signed_in_page(browser, live_url, alice, viewport={"width": 1366, "height": 768})
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    answers: list[str] = []  # the page's reads of the open incidents, as their answers came
    page.on("response", lambda answer: answers.append(answer.url) if "/api/incidents" in answer.url else None)
    page.goto(f"{live_url}/map/")
    page.wait_for_selector("#map-page[data-ready='1']")
    page.wait_for_selector("#conn.conn-live")
    answers.clear()

    held = hold_first_read(page, "**/api/incidents")
    first = incident_at(alice, places[0])
    pump_until(page, lambda: held, "the map never read the incidents after the first one opened")
    second = incident_at(alice, places[1])
    pump_until(
        page,
        lambda: sum('"incident.created"' in f for f in frames) >= 2,
        f"the second incident's event never reached the page: {frames[-3:]}",
    )
    page.wait_for_timeout(600)  # longer than the map's wait to gather events before it reads
    route, answer = held[0]
    route.fulfill(response=answer)
    pump_until(
        page, lambda: len(answers) >= 2, lambda: f"the map read the incidents {len(answers)} times, not 2"
    )
    page.wait_for_timeout(300)  # whichever answer came last is drawn by now
    for incident in (first, second):
        page.wait_for_selector(f".incident-icon[data-incident='{incident.pk}']", timeout=5000)
    assert page.locator(".incident-icon[data-incident]").count() == 2
