"""Two dispatchers send overlapping sets of units to two incidents at the same moment: one order
goes out whole, the other is refused whole; no unit is sent twice and nothing is half sent."""

import threading

import pytest
from django.db import connection

from dispatch.core.actions import ActionError
from dispatch.incidents.actions import create_incident
from dispatch.major.actions import dispatch_units
from dispatch.models import Assignment, Event
from fleet.models import Unit


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_overlapping_orders_one_whole_one_refused(world, round_):
    crash = create_incident(actor=world.alice, chief_complaint="大巴侧翻")
    fire = create_incident(actor=world.bob, chief_complaint="厂房火灾")
    orders = {
        "alice": (crash, world.alice, [world.als1.pk, world.als2.pk]),
        "bob": (fire, world.bob, [world.als2.pk, world.bls1.pk]),
    }
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def send(name: str) -> None:
        incident, user, unit_ids = orders[name]
        barrier.wait()
        try:
            dispatch_units(incident, list(Unit.objects.filter(pk__in=unit_ids)), actor=user)
            results[name] = "sent"
        except ActionError as exc:
            results[name] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(name,)) for name in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results.values()) == ["sent", "unit_busy"]
    winner = next(name for name, result in results.items() if result == "sent")
    incident, _, unit_ids = orders[winner]
    sent = Assignment.objects.order_by("unit_id")
    assert list(sent.values_list("incident_id", "unit_id")) == [(incident.pk, pk) for pk in sorted(unit_ids)]
    assert Event.objects.filter(kind="assignment.created").count() == 2
