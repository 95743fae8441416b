"""Two dispatchers click "call back" on the same missed call at once: one call is placed, the
other gets a 409 at once (the call row is locked while the provider is asked)."""

import threading

import pytest
from django.db import connection

from dispatch.models import CallBack, Event
from tests.support.calls_helpers import migrated_data_back  # noqa: F401  (fixture)
from tests.support.fake_twilio import fake_twilio  # noqa: F401  (fixture)
from tests.support.missed_calls import call_back, missed_call

pytestmark = [pytest.mark.usefixtures("migrated_data_back"), pytest.mark.django_db(transaction=True)]


def test_two_clicks_at_once_place_one_call(world, fake_twilio):  # noqa: F811
    call = missed_call("CA-race")
    fake_twilio.delay = 0.8  # Twilio thinks: the first click holds the call while the second comes
    answers: dict[str, object] = {}
    start = threading.Barrier(2)

    def click(user) -> None:
        try:
            start.wait()
            answers[user.username] = call_back(user, call)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(u,)) for u in (world.alice, world.bob)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    statuses = sorted(a.status_code for a in answers.values())  # type: ignore[attr-defined]
    assert statuses == [201, 409]
    (loser,) = [a for a in answers.values() if a.status_code == 409]  # type: ignore[attr-defined]
    assert loser.json()["code"] == "call_back_busy"  # type: ignore[attr-defined]
    assert len(fake_twilio.calls) == 1
    assert CallBack.objects.count() == 1 and Event.objects.filter(kind="call.back_placed").count() == 1
