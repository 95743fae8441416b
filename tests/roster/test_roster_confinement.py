"""Who reads and writes the roster: the control room reads every unit's; a crew member only
their own entries (never another unit's crew); supervisors and administrators write it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch.models import Role, User
from dispatch.roster.actions import add_roster_entry
from fleet.models import RosterEntry
from tests.support.crew_tablet import post, signed_in


@pytest.fixture
def entries(world):
    now = timezone.now()
    add_roster_entry(world.als1, world.carol, now, now + timedelta(hours=8), actor=world.bob)
    zhao = User.objects.create_user("zhao", role=Role.CREW)
    add_roster_entry(world.als1, zhao, now, now + timedelta(hours=8), actor=world.bob)
    return world


def names(client) -> set[str]:
    response = client.get("/api/roster", headers={"Accept-Language": "en"})
    assert response.status_code == 200, response.content
    return {e["user"] for e in response.json()}


def test_a_crew_member_reads_only_their_own_entries(entries):
    assert names(signed_in(entries.carol)) == {"carol"}
    assert all(
        e["user"] == "carol"
        for e in signed_in(entries.carol).get(f"/api/roster?unit={entries.als1.pk}").json()
    )
    mine = signed_in(entries.carol).get("/api/roster/mine").json()
    assert [e["user"] for e in mine["entries"]] == ["carol"]


def test_the_control_room_reads_every_unit(entries):
    for who in ("alice", "bob", "erin"):
        assert {"carol", "zhao", "crew-t-als-1"} <= names(signed_in(getattr(entries, who)))


def test_hospital_staff_read_no_roster(entries):
    assert signed_in(entries.dave).get("/api/roster").status_code == 403
    assert signed_in(entries.dave).get("/api/roster/mine").status_code == 403


@pytest.mark.parametrize(
    "who, allowed", [("bob", True), ("erin", True), ("alice", False), ("carol", False), ("dave", False)]
)
def test_only_supervisors_and_admins_write_the_roster(entries, who, allowed):
    now = timezone.now()
    body = {
        "unit": entries.bls1.pk,
        "user": "carol",
        "planned_start": (now + timedelta(days=2)).isoformat(),
        "planned_end": (now + timedelta(days=2, hours=12)).isoformat(),
    }
    count = RosterEntry.objects.count()
    status, _ = post(signed_in(getattr(entries, who)), "/api/roster", body)
    assert (status == 200) is allowed and (status == 403) is not allowed
    assert RosterEntry.objects.count() == count + (1 if allowed else 0)
    entry = RosterEntry.objects.filter(user=entries.carol).order_by("-pk").first()
    response = signed_in(getattr(entries, who)).delete(f"/api/roster/entries/{entry.pk}")
    assert (response.status_code == 204) is allowed and (response.status_code == 403) is not allowed


def test_roster_events_never_reach_a_crew(entries):
    from dispatch.core.permissions import visible_events
    from tests.support.roster import on_shift

    on_shift(entries.carol, entries.als1)
    later = timezone.now() + timedelta(days=3)
    add_roster_entry(
        entries.als1, User.objects.get(username="zhao"), later, later + timedelta(hours=8), actor=entries.bob
    )
    assert not visible_events(entries.carol).filter(kind__startswith="roster.").exists()
    assert visible_events(entries.alice).filter(kind="roster.added").count() >= 3
