"""A nurse acknowledges a notice: who and when reach the crew (an event on its unit, and the
assignment JSON the tablet reads) and the console; a second acknowledgement writes nothing;
only the receiving hospital's staff (or a dispatcher who phoned them) may acknowledge."""

import pytest
from django.utils.dateparse import parse_datetime

from dispatch.core.actions import ActionError
from dispatch.core.permissions import visible_events
from dispatch.handoff.actions import acknowledge_notice
from dispatch.models import Event, NoticeAcknowledgement
from tests.support.er_helpers import notified, staff_get, staff_post


@pytest.fixture
def notice(world):
    world.dave.first_name = "护士张"
    world.dave.save()
    return notified(world, world.als1, world.city, world.carol)


def test_the_acknowledgement_reaches_the_crew_and_the_console(world, notice):
    status, ack = staff_post(world.dave, f"/api/er/notices/{notice.pk}/acknowledge")
    assert status == 200 and ack["by"] == "护士张" and ack["by_phone"] is False
    event = Event.objects.get(kind="notice.acknowledged")
    assert (event.unit, event.hospital, event.incident_id) == (
        world.als1,
        world.city,
        notice.assignment.incident_id,
    )
    assert event.data["acknowledged_by"] == "护士张"
    assert visible_events(world.carol).filter(kind="notice.acknowledged").exists()  # the crew's tablet
    assert visible_events(world.alice).filter(kind="notice.acknowledged").exists()  # every console
    tablet = staff_get(world.carol, "/api/crew/assignment")[1]["assignment"]
    assert tablet["notice"]["acknowledged_by"] == "护士张"
    stored = NoticeAcknowledgement.objects.get()
    shown = parse_datetime(tablet["notice"]["acknowledged_at"])
    assert abs((shown - stored.acknowledged_at).total_seconds()) < 0.001  # JSON keeps milliseconds
    row = staff_get(world.dave, "/api/er/board")[1]["notices"][0]
    assert row["acknowledged"]["by"] == "护士张"


def test_acknowledging_twice_keeps_the_first(world, notice):
    staff_post(world.dave, f"/api/er/notices/{notice.pk}/acknowledge")
    colleague = type(world.dave).objects.create_user("yan", role="hospital", hospital=world.city)
    status, again = staff_post(colleague, f"/api/er/notices/{notice.pk}/acknowledge")
    assert status == 200 and again["by"] == "护士张"
    assert NoticeAcknowledgement.objects.count() == 1
    assert Event.objects.filter(kind="notice.acknowledged").count() == 1


def test_only_the_receiving_hospital_acknowledges(world, notice):
    with pytest.raises(ActionError) as refused:
        acknowledge_notice(notice, actor=world.frank)
    assert refused.value.status == 403 and not NoticeAcknowledgement.objects.exists()
    assert staff_post(world.carol, f"/api/er/notices/{notice.pk}/acknowledge")[0] == 403


def test_a_dispatcher_records_an_acknowledgement_by_phone(world, notice):
    status, ack = staff_post(world.alice, f"/api/er/notices/{notice.pk}/acknowledge")
    assert status == 200 and ack["by_phone"] is True
