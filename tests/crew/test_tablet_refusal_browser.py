"""A status tap queued offline that the server refuses is shown to the crew with the server's
reason, leaves the queue, and is not sent again."""

import time

import pytest

from dispatch.incidents.actions import cancel_assignment
from dispatch.models import Assignment, IdempotencyKey
from dispatch.units.actions import set_unit_status
from fleet.models import Unit, UnitStatus
from tests.support.browser import browser, signed_in_page  # noqa: F401  (fixtures)
from tests.support.crew_tablet import job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_tap_for_a_stood_down_job_is_shown_refused(browser, live_url, world):  # noqa: F811
    assignment = job(world, world.als1, hospital=world.city, crew=world.carol)
    set_unit_status(world.als1, UnitStatus.ACKNOWLEDGED, actor=world.carol)
    page = signed_in_page(browser, live_url, world.carol, viewport={"width": 800, "height": 1280})
    page.goto(f"{live_url}/tablet/")
    page.wait_for_selector("#tablet[data-ready='1'] .status-button.next[data-status='en_route']")

    page.context.set_offline(True)
    page.click(".status-button.next[data-status='en_route']")
    page.wait_for_selector("#queue-list li")
    cancel_assignment(assignment, actor=world.alice, reason="患者已自行就医")
    page.context.set_offline(False)

    page.wait_for_selector("#refused:not([hidden])", timeout=20_000)
    refused = page.inner_text("#refused-list")
    assert "出车" in refused and str(assignment.pk) in refused  # what was refused, and the server's why
    page.wait_for_selector("#offline", state="hidden")
    page.wait_for_selector("#idle:not([hidden])")
    (key,) = IdempotencyKey.objects.filter(operation="status")
    assert key.status_code == 409
    time.sleep(6)  # longer than the outbox's retry delay
    key.refresh_from_db()
    assert key.replays == 0
    assert Assignment.objects.get(pk=assignment.pk).en_route_at is None
    assert Unit.objects.get(pk=world.als1.pk).status == UnitStatus.AVAILABLE
    page.click("#refused-ok")
    page.wait_for_selector("#refused", state="hidden")
