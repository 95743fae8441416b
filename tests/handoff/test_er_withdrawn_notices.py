"""A notice withdrawn from a hospital (redirected elsewhere, the unit stood down, the patient not
transported) stays on that hospital's board, struck through and with only the minimum, until
someone there acknowledges the withdrawal: one action, one event; another hospital cannot see or
acknowledge it."""

import pytest

from dispatch.core.event_kinds import EventKind
from dispatch.handoff.actions import acknowledge_withdrawal
from dispatch.incidents.actions import cancel_assignment, set_destination
from dispatch.models import Event, NoticeWithdrawal, PreArrivalNotice
from tests.support.crew_tablet import crew_member
from tests.support.er_board_world import get, patient_on_the_way, post, sweep

MINIMUM = {
    "id",
    "revision",
    "reason",
    "reason_label",
    "redirected_to",
    "withdrawn_at",
    "call_sign",
    "incident_number",
    "priority",
    "chief_complaint",
}


def board(user, hospital=None) -> dict:
    status, body = get(user, "/api/er/board" + (f"?hospital={hospital.pk}" if hospital else ""))
    assert status == 200, body
    return body


@pytest.mark.parametrize("swept", [False, True], ids=["before the loop moves it", "after the loop moved it"])
def test_redirected_patient_stays_struck_through_with_where_it_goes(world, swept):
    notice = patient_on_the_way(world, world.als1, world.city, world.carol, name="王先生")
    set_destination(notice.assignment, world.county, actor=world.alice)
    if swept:
        assert sweep() == 1
        assert PreArrivalNotice.objects.get(pk=notice.pk).hospital == world.county

    city = board(world.dave)
    assert city["notices"] == []
    (card,) = city["withdrawn"]
    assert set(card) == MINIMUM
    assert card["id"] == notice.pk and card["reason"] == "redirected"
    assert card["redirected_to"]["name"] == world.county.name
    assert card["call_sign"] == "T-ALS-1" and card["withdrawn_at"]
    assert "王先生" not in str(city) and "118" not in str(city)  # no name, no vitals
    county = board(world.frank)
    assert county["withdrawn"] == []
    if swept:
        assert [n["id"] for n in county["notices"]] == [notice.pk]


@pytest.mark.parametrize("swept", [False, True], ids=["before the loop moves it", "after the loop moved it"])
def test_acknowledging_the_withdrawal_takes_the_card_off_once(world, swept):
    notice = patient_on_the_way(world, world.als1, world.city, world.carol)
    set_destination(notice.assignment, world.county, actor=world.alice)
    if swept:
        sweep()
    url = f"/api/er/notices/{notice.pk}/withdrawal/acknowledge"
    status, ack = post(world.dave, url)
    assert status == 200, ack
    assert ack["notice"] == notice.pk and ack["hospital"] == world.city.pk and ack["by"] == "dave"
    events = Event.objects.filter(kind=EventKind.NOTICE_WITHDRAWAL_ACKNOWLEDGED)
    assert events.count() == 1 and events.get().hospital == world.city
    assert board(world.dave)["withdrawn"] == []

    assert post(world.dave, url)[0] == 200  # a second nurse, a double tap: nothing more written
    assert events.count() == 1
    sweep()  # the loop moving it afterwards does not bring the card back
    assert board(world.dave)["withdrawn"] == []
    assert NoticeWithdrawal.objects.filter(hospital=world.city).count() == 1


def test_stood_down_and_not_transported_are_withdrawn_too(world):
    stood_down = patient_on_the_way(world, world.als1, world.city, world.carol)
    cancel_assignment(stood_down.assignment, actor=world.alice, reason="呼叫者取消")
    (card,) = board(world.dave)["withdrawn"]
    assert card["id"] == stood_down.pk and card["reason"] == "stood_down" and card["redirected_to"] is None
    assert post(world.dave, f"/api/er/notices/{stood_down.pk}/withdrawal/acknowledge")[0] == 200
    assert board(world.dave)["withdrawn"] == []


def test_a_patient_sent_back_supersedes_the_struck_through_card(world):
    notice = patient_on_the_way(world, world.als1, world.city, world.carol)
    set_destination(notice.assignment, world.county, actor=world.alice)
    sweep()
    assert len(board(world.dave)["withdrawn"]) == 1
    set_destination(notice.assignment, world.city, actor=world.alice)
    sweep()
    city = board(world.dave)
    assert city["withdrawn"] == [] and [n["id"] for n in city["notices"]] == [notice.pk]
    assert board(world.frank)["notices"] == [] and len(board(world.frank)["withdrawn"]) == 1


def test_another_hospital_cannot_see_or_acknowledge_it(world):
    chen = crew_member("chen")
    notice = patient_on_the_way(world, world.als1, world.city, world.carol)
    patient_on_the_way(world, world.als2, world.county, chen, name="李女士")
    cancel_assignment(notice.assignment, actor=world.alice, reason="x")
    before = Event.objects.count()
    assert board(world.frank)["withdrawn"] == []
    status, error = post(world.frank, f"/api/er/notices/{notice.pk}/withdrawal/acknowledge")
    missing_status, missing = post(world.frank, "/api/er/notices/999999/withdrawal/acknowledge")
    assert status == missing_status == 404 and error["code"] == missing["code"] == "not_found"
    # naming the other hospital is the same 404 as naming none that exists
    status, _ = post(
        world.frank, f"/api/er/notices/{notice.pk}/withdrawal/acknowledge", {"hospital": world.city.pk}
    )
    assert status == 404
    assert post(world.carol, f"/api/er/notices/{notice.pk}/withdrawal/acknowledge")[0] == 403
    assert Event.objects.count() == before and not NoticeWithdrawal.objects.exists()
    # the control room acknowledges for a hospital it names (after phoning it)
    status, ack = post(
        world.alice, f"/api/er/notices/{notice.pk}/withdrawal/acknowledge", {"hospital": world.city.pk}
    )
    assert status == 200 and ack["by"] == "alice"


def test_a_notice_still_coming_cannot_be_acknowledged_as_withdrawn(world):
    notice = patient_on_the_way(world, world.als1, world.city, world.carol)
    status, error = post(world.dave, f"/api/er/notices/{notice.pk}/withdrawal/acknowledge")
    assert status == 404 and error["code"] == "not_found"
    with pytest.raises(Exception, match="not withdrawn"):
        acknowledge_withdrawal(notice, world.city, actor=world.dave)
    assert not NoticeWithdrawal.objects.exists()
