"""A crew member starts a shift only on a unit they are rostered to now: anywhere else the API
answers 403 with the reason in the user's language, and nothing is written."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch.core.actions import ActionError
from dispatch.crew.actions import start_shift
from dispatch.models import Event
from dispatch.roster.actions import add_roster_entry
from fleet.models import CrewShift
from tests.support.crew_tablet import new_key, post


def test_a_crew_member_not_rostered_is_refused_with_the_reason(world, tablet):
    shifts, events = CrewShift.objects.count(), Event.objects.count()
    status, body = post(tablet, "/api/crew/shift", {"unit": world.als1.pk})
    assert status == 403 and body["code"] == "unit_crewed"
    assert "T-ALS-1" in body["error"] and "not rostered" in body["error"]
    assert "supervisor" in body["error"]
    assert CrewShift.objects.count() == shifts and Event.objects.count() == events


def test_the_reason_comes_in_chinese_by_default(world, tablet):
    response = tablet.post(
        "/api/crew/shift",
        data={"unit": world.als1.pk},
        content_type="application/json",
        headers={"Idempotency-Key": new_key()},
    )
    assert response.status_code == 403
    assert "T-ALS-1" in response.json()["error"] and "排班" in response.json()["error"]


def test_rostered_on_another_unit_is_told_where(world, tablet):
    now = timezone.now()
    add_roster_entry(
        world.bls1, world.carol, now - timedelta(hours=1), now + timedelta(hours=8), actor=world.bob
    )
    status, body = post(tablet, "/api/crew/shift", {"unit": world.als1.pk})
    assert status == 403 and "T-BLS-1" in body["error"]
    status, body = post(tablet, "/api/crew/shift", {"unit": world.bls1.pk})
    assert status == 200 and body["shift"]["unit"]["call_sign"] == "T-BLS-1"


def test_the_early_window_and_the_planned_end(world, settings):
    settings.ROSTER_EARLY_START_MINUTES = 30
    start = timezone.now().replace(microsecond=0) + timedelta(hours=2)
    add_roster_entry(world.bls1, world.carol, start, start + timedelta(hours=12), actor=world.bob)
    with pytest.raises(ActionError) as refused:
        start_shift(world.carol, world.bls1, now=start - timedelta(minutes=31))
    assert refused.value.status == 403
    start_shift(world.carol, world.bls1, now=start - timedelta(minutes=30))
    with pytest.raises(ActionError):
        start_shift(world.carol, world.bls1, now=start + timedelta(hours=12))


def test_an_unknown_crew_role_is_not_a_reason_to_skip_the_roster(world, tablet):
    assert post(tablet, "/api/crew/shift", {"unit": world.bls1.pk, "role": "pilot"})[0] == 422
    assert not CrewShift.objects.current().filter(user=world.carol).exists()
