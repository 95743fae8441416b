"""The roster page: one week of every unit's entries; supervisors and administrators add a week
(day, night or custom shift) and remove entries through its forms; supervisors approve a shift
off the roster; dispatchers read it; crews and hospitals do not."""

from datetime import date, datetime

import pytest
from django.utils import timezone

from dispatch.models import Event
from fleet.models import RosterEntry, ShiftApproval
from tests.support.crew_tablet import signed_in

MONDAY = "2026-12-14"


def local(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text))


def week_form(world, **fields) -> dict:
    return {"monday": MONDAY, "unit": world.bls1.pk, "user": world.carol.pk, "role": "driver", **fields}


def test_a_supervisor_rosters_a_week_of_nights_from_the_page(world):
    bob = signed_in(world.bob)
    response = bob.post("/roster/week/", week_form(world, template="night", days=["0", "1"]))
    assert response.status_code == 302 and response["Location"] == f"/roster/?week={MONDAY}"
    entries = RosterEntry.objects.filter(user=world.carol).order_by("planned_start")
    assert [(e.planned_start, e.planned_end, e.role) for e in entries] == [
        (local("2026-12-14 20:00"), local("2026-12-15 08:00"), "driver"),
        (local("2026-12-15 20:00"), local("2026-12-16 08:00"), "driver"),
    ]
    page = bob.get(f"/roster/?week={MONDAY}").content.decode()
    assert page.count("roster-entry src-week") == 2 and "carol" in page


def test_a_custom_shift_and_a_refusal_shown_on_the_page(world):
    bob = signed_in(world.bob)
    custom = week_form(world, template="custom", start="10:30", end="16:45", days=["2"])
    assert bob.post("/roster/week/", custom).status_code == 302
    entry = RosterEntry.objects.get(user=world.carol)
    assert (entry.planned_start, entry.planned_end) == (local("2026-12-16 10:30"), local("2026-12-16 16:45"))
    response = bob.post("/roster/week/", week_form(world, template="custom", start="25:00", end="08:00"))
    assert response.status_code == 422 and 'id="roster-error"' in response.content.decode()
    response = bob.post("/roster/week/", week_form(world, template="day", days=["2"]))
    assert response.status_code == 409 and RosterEntry.objects.filter(user=world.carol).count() == 1


def test_removing_an_entry_and_approving_from_the_page(world):
    bob = signed_in(world.bob)
    bob.post("/roster/week/", week_form(world, days=["4"]))
    entry = RosterEntry.objects.get(user=world.carol)
    assert bob.post(f"/roster/entries/{entry.pk}/remove/", {"monday": MONDAY}).status_code == 302
    assert not RosterEntry.objects.filter(pk=entry.pk).exists()
    assert Event.objects.filter(kind="roster.removed", actor=world.bob).exists()
    approval = {"user": world.carol.pk, "unit": world.als2.pk, "reason": "替班 cover", "hours": "8"}
    assert bob.post("/roster/approvals/", approval).status_code == 302
    assert ShiftApproval.objects.get().approved_by == world.bob


def test_dispatchers_read_but_do_not_write(world):
    alice = signed_in(world.alice)
    page = alice.get("/roster/").content.decode()
    assert 'id="roster-table"' in page and 'id="roster-week-form"' not in page
    assert alice.post("/roster/week/", week_form(world, days=["0"])).status_code == 403
    assert (
        alice.post(
            "/roster/approvals/", {"user": world.carol.pk, "unit": world.als2.pk, "reason": "x"}
        ).status_code
        == 403
    )
    assert not RosterEntry.objects.filter(user=world.carol).exists() and not ShiftApproval.objects.exists()


@pytest.mark.parametrize("who", ["carol", "dave"])
def test_crews_and_hospitals_have_no_roster_page(world, who):
    assert signed_in(getattr(world, who)).get("/roster/").status_code == 403


def test_the_week_shown_is_the_one_asked_for(world):
    page = signed_in(world.bob).get("/roster/?week=2026-12-17").content.decode()
    assert "2026-12-14" in page  # the Thursday's Monday
    assert signed_in(world.bob).get("/roster/?week=nonsense").status_code == 200
    assert date.fromisoformat(MONDAY).weekday() == 0
