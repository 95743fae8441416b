"""What a card carries and how long it stays: the dispatcher's triage in words, the unit's phone,
the caller and the dispatcher's notes for the control room only (a hospital's view never has
them); a handed-over patient stays ER_HANDED_OVER_VISIBLE_MINUTES in its own section."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch.handoff.reads import board_sections
from dispatch.models import Assignment
from tests.support.er_board_world import get, handed_over, patient_on_the_way


@pytest.fixture
def coming(world, triage_defaults):
    world.als1.phone = "+8613900000001"
    world.als1.save()
    return patient_on_the_way(world, world.als1, world.city, world.carol, triaged=True)


def test_a_card_has_the_triage_in_words_and_the_units_phone(world, coming):
    (row,) = get(world.dave, "/api/er/board")[1]["notices"]
    triage = row["triage"]
    assert triage["protocol_name"] == "胸痛"
    assert [(s["answer"], s["answer_en"]) for s in triage["path"]] == [
        ("清醒，呼吸正常", "Awake, breathing normally"),
        ("有", "Yes"),
    ]
    assert triage["path"][0]["question"] == "患者现在清醒吗？呼吸正常吗？"
    assert row["unit"]["phone"] == "+8613900000001"


def test_the_caller_and_the_dispatchers_notes_are_for_the_control_room_only(world, coming):
    body = get(world.dave, "/api/er/board")[1]
    (row,) = body["notices"]
    assert row["caller"] is None and row["dispatcher_notes"] is None
    assert "13800138000" not in str(body) and "门禁" not in str(body) and "李四" not in str(body)
    detail = get(world.dave, f"/api/er/notices/{coming.pk}")[1]
    assert "13800138000" not in str(detail) and "门禁" not in str(detail)

    (row,) = get(world.alice, f"/api/er/board?hospital={world.city.pk}")[1]["notices"]
    assert row["caller"] == {"number": "+8613800138000", "name": "儿子李四"}
    assert row["dispatcher_notes"] == "家属在小区南门接应，门禁 1234"


def test_handed_over_stays_for_the_set_minutes_then_goes(world, coming, settings):
    settings.ER_HANDED_OVER_VISIBLE_MINUTES = 30
    notice = handed_over(world, coming, world.dave)
    body = get(world.dave, "/api/er/board")[1]
    assert body["notices"] == [] and body["handed_over_minutes"] == 30
    (row,) = body["handed_over"]
    assert row["id"] == notice.pk and row["handover_at"] and row["departed_at"] == row["handover_at"]
    assert row["latest"] and row["patient"]["findings"] == "胸骨后压榨样疼痛"

    a = Assignment.objects.get(pk=notice.assignment_id)
    assert board_sections(world.city, now=a.handover_at + timedelta(minutes=29))["handed_over"]
    assert board_sections(world.city, now=a.handover_at + timedelta(minutes=31))["handed_over"] == []
    settings.ER_HANDED_OVER_VISIBLE_MINUTES = 60
    assert board_sections(world.city, now=a.handover_at + timedelta(minutes=31))["handed_over"]
    assert get(world.frank, "/api/er/board")[1]["handed_over"] == []  # never another hospital's


def test_the_crews_returning_tap_after_arrival_counts_as_handed_over(world, coming):
    from dispatch.handoff.actions import record_arrival
    from dispatch.units.actions import set_unit_status
    from fleet.models import UnitStatus

    record_arrival(coming.assignment, actor=world.dave)
    set_unit_status(world.als1, UnitStatus.RETURNING, actor=world.carol)
    set_unit_status(world.als1, UnitStatus.AVAILABLE, actor=world.carol)
    sections = board_sections(world.city, now=timezone.now())
    assert sections["notices"] == [] and sections["withdrawn"] == []
    assert [r["id"] for r in sections["handed_over"]] == [coming.pk]
