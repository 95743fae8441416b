"""A move-up accepted, on the crew's side through the API: its tablet reads where to relocate
(its own unit only), taps "arrived" and the unit is available there; a position within 100 m
of the site arrives too; a job sent meanwhile cancels the move."""

import pytest

from dispatch.coverage import moveup
from dispatch.models import Event, MoveUp, MoveUpState, Role, User
from fleet.models import Unit
from tests.support.crew_tablet import job, post, signed_in
from tests.support.move_ups import E1, hand_city, place
from tests.support.roster import on_shift

pytestmark = pytest.mark.usefixtures("fresh_router")


def relocating(world, monkeypatch) -> MoveUp:
    """Carol on shift on T-ALS-1, whose move to E1 a dispatcher accepted."""
    hand_city(world, monkeypatch)
    on_shift(world.carol, world.als1)
    moveup.refresh()
    return moveup.accept_move_up(MoveUp.objects.get(state=MoveUpState.PROPOSED), actor=world.alice)


def test_the_crew_reads_its_relocation_and_taps_arrived(world, monkeypatch):
    move = relocating(world, monkeypatch)
    tablet = signed_in(world.carol)
    shown = tablet.get("/api/crew/relocation").json()["move_up"]
    assert (shown["id"], shown["site_name"], shown["site_name_en"]) == (move.pk, "东待命点", "East standby")
    assert (shown["lon"], shown["lat"]) == pytest.approx(E1)
    status, body = post(tablet, "/api/crew/relocation/arrived")
    assert status == 200 and body["state"] == "done" and body["end_reason"] == "crew"
    assert Unit.objects.get(pk=world.als1.pk).status == "available"
    event = Event.objects.get(kind="move_up.arrived")
    assert event.unit_id == world.als1.pk and event.actor == world.carol and event.data["to"] == "available"
    assert tablet.get("/api/crew/relocation").json() == {"move_up": None}
    status, body = post(tablet, "/api/crew/relocation/arrived")
    assert status == 409 and body["code"] == "not_relocating"


def test_another_units_crew_and_the_control_room_cannot_arrive_it(world, monkeypatch):
    move = relocating(world, monkeypatch)
    dan = User.objects.create_user("dan", role=Role.CREW)
    on_shift(dan, world.als2)
    other = signed_in(dan)
    assert other.get("/api/crew/relocation").json() == {"move_up": None}
    status, body = post(other, "/api/crew/relocation/arrived")
    assert status == 409 and body["code"] == "not_relocating"
    assert post(signed_in(world.alice), "/api/crew/relocation/arrived")[0] == 403
    assert (
        post(signed_in(User.objects.create_user("off", role=Role.CREW)), "/api/crew/relocation/arrived")[0]
        == 409
    )
    assert MoveUp.objects.get(pk=move.pk).state == MoveUpState.ACCEPTED
    assert Unit.objects.get(pk=world.als1.pk).status == "relocating"


def test_a_position_near_the_site_arrives(world, monkeypatch):
    move = relocating(world, monkeypatch)
    place(world.als1, 119.6305, 24.95)  # 50 m from E1
    assert moveup.reconcile() == {"cancelled": 0, "arrived": 1}
    move.refresh_from_db()
    assert move.state == MoveUpState.DONE and move.end_reason == "gps"
    assert Unit.objects.get(pk=world.als1.pk).status == "available"


def test_a_position_still_far_away_does_not(world, monkeypatch):
    move = relocating(world, monkeypatch)
    place(world.als1, 119.62, 24.95)  # 1 km short
    assert moveup.reconcile() == {"cancelled": 0, "arrived": 0}
    assert MoveUp.objects.get(pk=move.pk).state == MoveUpState.ACCEPTED


def test_a_job_in_between_cancels_the_move(world, monkeypatch):
    move = relocating(world, monkeypatch)
    assignment = job(world, Unit.objects.get(pk=world.als1.pk))  # relocating is free: it may be sent
    assert assignment.unit.status == "dispatched"
    tablet = signed_in(world.carol)
    assert tablet.get("/api/crew/relocation").json() == {"move_up": None}
    assert moveup.refresh()["cancelled"] == 1
    move.refresh_from_db()
    assert move.state == MoveUpState.CANCELLED
    assert Event.objects.get(kind="move_up.cancelled").unit_id == world.als1.pk
    assert Unit.objects.get(pk=world.als1.pk).status == "dispatched"
