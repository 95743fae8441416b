"""The week form: the same shift on the chosen days of a week (a night shift ends the next
morning), all or nothing; only supervisors and administrators write the roster."""

from datetime import datetime

from django.utils import timezone

from dispatch.models import Event, Role, User
from fleet.models import RosterEntry
from tests.support.crew_tablet import post, signed_in

WEEK = {"unit": 0, "user": "carol", "role": "nurse", "monday": "2026-12-14", "start": "20:00", "end": "08:00"}


def local(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text))


def test_a_week_of_night_shifts(world):
    status, body = post(
        signed_in(world.bob), "/api/roster/week", {**WEEK, "unit": world.bls1.pk, "days": [0, 2, 4]}
    )
    assert status == 200 and len(body) == 3
    entries = RosterEntry.objects.filter(user=world.carol).order_by("planned_start")
    assert [(e.planned_start, e.planned_end) for e in entries] == [
        (local("2026-12-14 20:00"), local("2026-12-15 08:00")),
        (local("2026-12-16 20:00"), local("2026-12-17 08:00")),
        (local("2026-12-18 20:00"), local("2026-12-19 08:00")),
    ]
    assert {e.source for e in entries} == {"week"} and {e.role for e in entries} == {"nurse"}
    assert Event.objects.filter(kind="roster.added", actor=world.bob).count() == 3


def test_one_clash_writes_no_day_and_names_it(world):
    post(signed_in(world.bob), "/api/roster/week", {**WEEK, "unit": world.als1.pk, "days": [2]})
    entries, events = RosterEntry.objects.count(), Event.objects.count()
    status, body = post(
        signed_in(world.erin), "/api/roster/week", {**WEEK, "unit": world.bls1.pk, "days": [0, 1, 2, 3]}
    )
    assert status == 409 and body["code"] == "roster_overlap"
    assert body["error"].startswith("2026-12-16: ") and "T-ALS-1" in body["error"]
    assert RosterEntry.objects.count() == entries and Event.objects.count() == events


def test_a_day_shift_and_a_custom_one(world):
    bob = signed_in(world.bob)
    day = {**WEEK, "unit": world.bls1.pk, "start": "08:00", "end": "20:00", "days": [5, 6]}
    assert post(bob, "/api/roster/week", day)[0] == 200
    custom = {
        "unit": world.als2.pk,
        "user": "carol",
        "planned_start": "2026-12-21T10:30:00+08:00",
        "planned_end": "2026-12-21T16:45:00+08:00",
    }
    status, body = post(bob, "/api/roster", custom)
    assert status == 200 and body["call_sign"] == "T-ALS-2" and body["source"] == "form"


def test_only_crew_members_are_rostered_and_bad_input_is_refused(world):
    bob = signed_in(world.bob)
    assert (
        post(bob, "/api/roster/week", {**WEEK, "unit": world.bls1.pk, "user": "alice", "days": [0]})[0] == 422
    )
    assert post(bob, "/api/roster/week", {**WEEK, "unit": world.bls1.pk, "days": []})[0] == 422
    assert post(bob, "/api/roster/week", {**WEEK, "unit": 999999, "days": [0]})[0] == 422
    assert post(bob, "/api/roster/week", {**WEEK, "unit": world.bls1.pk, "days": [7]})[0] == 422
    assert not RosterEntry.objects.filter(user__username__in=["carol", "alice"]).exists()
    User.objects.create_user("gone", role=Role.CREW, is_active=False)
    assert (
        post(bob, "/api/roster/week", {**WEEK, "unit": world.bls1.pk, "user": "gone", "days": [0]})[0] == 422
    )
