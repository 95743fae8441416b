"""One crew per unit: a second member rostered on the same unit joins its shift (a CrewShift of
their own; the first stays on); anyone else is refused, never taking the unit over."""

from datetime import timedelta

from django.utils import timezone

from dispatch.models import Role, User
from dispatch.roster.actions import add_roster_entry
from fleet.models import CrewShift
from tests.support.crew_tablet import post, signed_in


def test_a_crewed_unit_is_not_taken_over_by_someone_not_rostered(world, tablet):
    crew = set(CrewShift.objects.current().filter(unit=world.als1).values_list("pk", flat=True))
    status, body = post(tablet, "/api/crew/shift", {"unit": world.als1.pk})
    assert status == 403 and body["code"] == "unit_crewed" and "crew-t-als-1" in body["error"]
    assert set(CrewShift.objects.current().filter(unit=world.als1).values_list("pk", flat=True)) == crew


def test_a_second_rostered_member_joins_the_shift(world, tablet):
    now = timezone.now()
    add_roster_entry(
        world.als1,
        world.carol,
        now - timedelta(hours=1),
        now + timedelta(hours=11),
        role="nurse",
        actor=world.bob,
    )
    first = CrewShift.objects.current().get(unit=world.als1)
    status, body = post(tablet, "/api/crew/shift", {"unit": world.als1.pk, "role": "nurse"})
    assert status == 200
    on_unit = CrewShift.objects.current().filter(unit=world.als1).order_by("pk")
    assert [s.user.username for s in on_unit] == ["crew-t-als-1", "carol"]
    assert on_unit[0].pk == first.pk and on_unit[0].ended_at is None
    units = signed_in(world.carol).get("/api/crew/units").json()
    assert next(u for u in units if u["id"] == world.als1.pk)["crew"] == ["carol", "crew-t-als-1"]


def test_a_third_member_not_rostered_is_refused_while_two_are_on(world):
    now = timezone.now()
    add_roster_entry(world.als1, world.carol, now, now + timedelta(hours=8), actor=world.bob)
    post(signed_in(world.carol), "/api/crew/shift", {"unit": world.als1.pk})
    zhao = User.objects.create_user("zhao", role=Role.CREW)
    status, body = post(signed_in(zhao), "/api/crew/shift", {"unit": world.als1.pk})
    assert status == 403 and "carol" in body["error"] and "crew-t-als-1" in body["error"]
    assert CrewShift.objects.current().filter(unit=world.als1).count() == 2
