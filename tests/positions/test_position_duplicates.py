"""Two copies of one fix racing in at once (a tracker's resend through two app nodes) are
stored once, and both copies are answered as stored."""

import threading

import pytest
from django.db import connection
from django.test import Client

from fleet.models import PositionReport
from tests.support.trackers import DEVICE, URL, fix_params, soon


@pytest.mark.django_db(transaction=True)
def test_two_copies_of_a_fix_at_once_are_stored_once(world):
    params = fix_params(soon())
    start = threading.Barrier(4)
    answers: list[dict] = []

    def send() -> None:
        start.wait()
        try:
            answers.append(Client().get(URL, params).json())
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a["stored"] for a in answers] == [True] * 4
    assert PositionReport.objects.filter(unit=world.als1).count() == 1
    assert world.als1.tracker_id == DEVICE and params["id"] == world.als1.tracker_key
