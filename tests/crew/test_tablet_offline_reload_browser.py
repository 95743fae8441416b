"""A tablet that reloads with no server in reach (a tunnel, a hospital basement, a browser that
restarted) still shows its job: the service worker (static/js/tablet-sw.js) kept the page and
the crew's last reads. The screen says it is offline, a tap waits in the queue, and it is sent
once the server is back. Online, the worker never serves a copy in place of the server's answer.

This test runs its own daphne, so it can take the server away and bring it back on the same port.
"""

import pytest

from dispatch.models import Assignment
from dispatch.units.actions import set_unit_status
from fleet.models import UnitStatus
from tests.support.browser import browser, eventually, own_daphne, signed_in_page  # noqa: F401  (fixtures)
from tests.support.crew_tablet import job
from tests.support.page_waits import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(django_db_setup):
    with own_daphne() as daphne:
        yield daphne


def test_a_tablet_reloaded_offline_shows_its_job_and_sends_the_tap_later(browser, server, world):  # noqa: F811
    assignment = job(world, world.als1, hospital=world.city, crew=world.carol)
    set_unit_status(world.als1, UnitStatus.ACKNOWLEDGED, actor=world.carol)
    number = assignment.incident.number
    page = signed_in_page(
        browser, server.url, world.carol, viewport={"width": 1280, "height": 800}, has_touch=True
    )
    page.goto(f"{server.url}/tablet/")
    page.wait_for_selector("#tablet[data-ready='1'] #job:not([hidden])")
    wait_until(page, "navigator.serviceWorker.controller !== null")
    page.reload()  # online, through the worker: it keeps the page and what the page reads
    page.wait_for_selector(f"#tablet[data-ready='1'] #job-number:has-text('{number}')")
    page.wait_for_selector("#net.net-on")

    server.stop()
    page.reload()
    page.wait_for_selector(f"#tablet[data-ready='1'] #job-number:has-text('{number}')")
    # A kept copy is not the server: the screen says so, in its words (the worker kept /jsi18n/).
    page.wait_for_selector("#net.net-off:has-text('离线')")
    assert "胸痛" in page.inner_text("#job")

    page.tap(".status-button.next[data-status='en_route']")
    page.wait_for_selector("#net:has-text('1')")  # one change waiting to be sent
    assert Assignment.objects.get(pk=assignment.pk).en_route_at is None

    server.start()
    assert eventually(lambda: Assignment.objects.get(pk=assignment.pk).en_route_at, 30)
    page.wait_for_selector("#net.net-on:not(:has-text('1'))")
    world.als1.refresh_from_db()
    assert world.als1.status == UnitStatus.EN_ROUTE
    page.context.close()  # its socket would keep this test's daphne waiting at shutdown


def test_the_service_worker_is_served_for_the_tablet_scope(client):
    response = client.get("/tablet/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache"
    assert b"X-Tablet-Copy" in response.content
