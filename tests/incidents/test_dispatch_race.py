"""Two dispatchers send the same unit at the same moment: exactly one wins."""

import threading

import pytest
from django.db import connection

from dispatch.core.actions import ActionError
from dispatch.handoff.actions import set_beds, set_diversion
from dispatch.incidents.actions import create_incident, dispatch_unit
from dispatch.models import Assignment, Event
from dispatch.units.actions import set_unit_status
from fleet.models import Unit, UnitStatus


@pytest.mark.django_db(transaction=True)
def test_only_one_dispatcher_gets_the_unit(world):
    first = create_incident(actor=world.alice, chief_complaint="one")
    second = create_incident(actor=world.bob, chief_complaint="two")
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def send(name: str, incident, user) -> None:
        barrier.wait()
        try:
            dispatch_unit(incident, Unit.objects.get(pk=world.als1.pk), actor=user)
            results[name] = "won"
        except ActionError as exc:
            results[name] = exc.code
        finally:
            connection.close()

    threads = [
        threading.Thread(target=send, args=("alice", first, world.alice)),
        threading.Thread(target=send, args=("bob", second, world.bob)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == ["unit_busy", "won"]
    assert Assignment.objects.filter(unit=world.als1).count() == 1
    assert Event.objects.filter(kind="assignment.created").count() == 1
    assert Unit.objects.get(pk=world.als1.pk).status == UnitStatus.DISPATCHED


@pytest.mark.django_db
def test_status_follows_the_job_order(world):
    incident = create_incident(actor=world.alice, chief_complaint="x")
    dispatch_unit(incident, world.als1, actor=world.alice)
    with pytest.raises(ActionError) as refused:
        set_unit_status(world.als1, UnitStatus.TRANSPORTING, actor=world.alice)
    assert refused.value.code == "bad_transition"
    for status in (UnitStatus.ACKNOWLEDGED, UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE):
        set_unit_status(world.als1, status, actor=world.alice)
    assert Unit.objects.get(pk=world.als1.pk).status == UnitStatus.ON_SCENE
    kinds = list(Event.objects.filter(unit=world.als1, kind="unit.status").values_list("data__to", flat=True))
    assert kinds == ["acknowledged", "en_route", "on_scene"]


@pytest.mark.django_db
def test_override_needs_a_reason(world):
    incident = create_incident(actor=world.alice, chief_complaint="x")
    with pytest.raises(ActionError) as refused:
        dispatch_unit(incident, world.als2, actor=world.alice, recommended_rank=3)
    assert refused.value.code == "override_reason"
    assert Unit.objects.get(pk=world.als2.pk).status == UnitStatus.AVAILABLE
    a = dispatch_unit(
        incident,
        world.als2,
        actor=world.alice,
        recommended_rank=3,
        eta_s=412.0,
        override_reason="closer crew knows the compound",
    )
    assert (a.recommended_rank, a.eta_at_dispatch_s) == (3, 412.0)


@pytest.mark.django_db
def test_diversion_and_beds_are_audited(world):
    set_diversion(world.city, ["stroke"], actor=world.dave, reason="CT down")
    set_beds(world.city, "resus", 2, actor=world.dave)
    world.city.refresh_from_db()
    assert world.city.diverting == ["stroke"] and world.city.is_diverting_for("stroke")
    audit = list(Event.objects.filter(hospital=world.city, kind__startswith="hospital.").order_by("seq"))
    assert [(e.kind, e.actor_id) for e in audit[-2:]] == [
        ("hospital.diversion", world.dave.pk),
        ("hospital.beds", world.dave.pk),
    ]
    with pytest.raises(ActionError):
        set_diversion(world.city, ["everything"], actor=world.dave)
