"""A crew member signs in on the tablet, picks the unit for the shift, and ends it."""

from dispatch.crew.actions import end_shift
from dispatch.models import Event, User
from dispatch.roster.actions import approve_shift, roster_now
from fleet.models import CrewShift
from tests.support.crew_tablet import new_key, post, signed_in


def test_units_to_pick_show_who_is_on_them(world, tablet):
    end_shift(User.objects.get(username="crew-t-als-1"))  # the world staffs every unit
    units = tablet.get("/api/crew/units").json()
    assert [u["call_sign"] for u in units] == ["T-ALS-1", "T-ALS-2", "T-BLS-1", "T-NEG-1"]
    assert units[0]["home_station"] == "北站" and units[0]["crew"] == []


def test_start_and_end_a_shift(world, tablet):
    end_shift(User.objects.get(username="crew-t-als-2"))  # the world staffs every unit
    shift_events = Event.objects.filter(kind__in=["shift.started", "shift.ended"]).count()
    assert tablet.get("/api/crew/shift").json() == {"shift": None}
    roster_now(world.carol, world.als2, role="nurse")
    status, body = post(tablet, "/api/crew/shift", {"unit": world.als2.pk, "role": "nurse"})
    assert (
        status == 200 and body["shift"]["unit"]["call_sign"] == "T-ALS-2" and body["shift"]["role"] == "nurse"
    )
    assert tablet.get("/api/crew/units").json()[1]["crew"] == ["carol"]
    assert tablet.get("/api/me").json()["unit"] == world.als2.pk
    status, body = post(tablet, "/api/crew/shift/end")
    assert status == 200 and body == {"shift": None}
    assert not CrewShift.objects.current().filter(user=world.carol).exists()
    assert Event.objects.filter(kind__in=["shift.started", "shift.ended"]).count() == shift_events + 2


def test_picking_another_unit_moves_the_crew_member(world, tablet):
    roster_now(world.carol, world.als1)
    approve_shift(world.carol, world.bls1, "T-BLS-1 short of a doctor", actor=world.bob)
    post(tablet, "/api/crew/shift", {"unit": world.als1.pk})
    post(tablet, "/api/crew/shift", {"unit": world.bls1.pk})
    assert list(CrewShift.objects.current().filter(user=world.carol).values_list("unit", flat=True)) == [
        world.bls1.pk
    ]


def test_a_retried_shift_start_starts_one_shift(world, tablet):
    key = new_key()
    roster_now(world.carol, world.als1)
    for _ in range(2):
        assert post(tablet, "/api/crew/shift", {"unit": world.als1.pk}, key=key)[0] == 200
    assert CrewShift.objects.filter(user=world.carol).count() == 1


def test_unknown_unit_or_role_is_refused(world, tablet):
    shifts = CrewShift.objects.count()  # the world's crews, one per unit
    roster_now(world.carol, world.als1)
    assert post(tablet, "/api/crew/shift", {"unit": 999999})[0] == 404
    assert post(tablet, "/api/crew/shift", {"unit": world.als1.pk, "role": "pilot"})[0] == 422
    assert CrewShift.objects.count() == shifts


def test_without_a_shift_the_tablet_says_to_start_one(tablet):
    assert tablet.get("/api/crew/assignment").json() == {"shift": None, "assignment": None}
    status, error = post(tablet, "/api/crew/status", {"status": "available"})
    assert status == 409 and error["code"] == "no_shift"


def test_only_crew_start_shifts(world):
    shifts = CrewShift.objects.count()  # the world's crews, one per unit
    status, _ = post(signed_in(world.alice), "/api/crew/shift", {"unit": world.als1.pk})
    assert status == 403 and CrewShift.objects.count() == shifts
