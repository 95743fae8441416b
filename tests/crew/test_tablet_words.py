"""What the tablet reads says words, not codes: the caller instruction by its name, a crew's
message with the unit's call sign (the person beside it), and the shift list with what it is
searched by (call sign, station, plate, the station's pinyin and initials)."""

from dispatch.crew.actions import send_message
from dispatch.incidents.actions import triage_incident
from dispatch.models import CallerInstruction


def test_the_instruction_comes_with_its_name(world, tablet, assignment, triage_defaults):
    cpr = CallerInstruction.objects.get(code="cpr")
    triage_incident(
        assignment.incident,
        actor=world.alice,
        priority=1,
        chief_complaint="心脏骤停",
        answers={"instruction": "cpr"},
    )
    triage = tablet.get("/api/crew/assignment").json()["assignment"]["incident"]["triage"]
    assert triage["instruction"] == "cpr"
    assert triage["instruction_title"] == cpr.title and triage["instruction_title"] != "cpr"
    assert triage["instruction_title_en"] == (cpr.title_en or cpr.title)


def test_an_unknown_instruction_has_no_name(world, tablet, assignment):
    triage_incident(assignment.incident, actor=world.alice, priority=2, chief_complaint="x", answers={})
    triage = tablet.get("/api/crew/assignment").json()["assignment"]["incident"]["triage"]
    assert triage["instruction"] is None and triage["instruction_title"] is None


def test_messages_carry_the_call_sign_and_the_person(world, tablet, assignment):
    world.carol.first_name, world.carol.last_name = "卡", "罗"
    world.carol.save(update_fields=["first_name", "last_name"])
    send_message(world.als1, "STEMI，请通知导管室", actor=world.carol)
    send_message(world.als1, "收到", actor=world.alice)
    lines = tablet.get("/api/crew/messages").json()
    assert [(m["call_sign"], m["sender"]) for m in lines] == [("T-ALS-1", "carol"), ("T-ALS-1", "alice")]
    assert lines[0]["sender_name"] == "卡 罗" and lines[1]["sender_name"] == "alice"
    job = tablet.get("/api/crew/assignment").json()["assignment"]
    assert job["messages"][0]["call_sign"] == "T-ALS-1"


def test_the_shift_list_is_searchable_by_station_pinyin(world, tablet):
    units = {u["call_sign"]: u for u in tablet.get("/api/crew/units").json()}
    assert list(units) == sorted(units)
    north = units["T-ALS-1"]
    assert north["home_station"] == "北站" and "plate" in north
    for word in ("t-als-1", "北站", "beizhan", "bz"):
        assert word in north["search"]
    assert "nz" in units["T-ALS-2"]["search"] and "bz" not in units["T-ALS-2"]["search"]
