"""A two-way line between the control room and a unit's crew: each message is an event both
screens see live, and only the receiving side marks it read."""

import pytest

from dispatch.crew.actions import end_shift, send_message
from dispatch.incidents.actions import cancel_assignment
from dispatch.models import Event, Message, User
from tests.support.crew_tablet import crew_member, post, signed_in
from tests.support.roster import on_shift


@pytest.fixture
def console(world):
    return signed_in(world.alice)


def test_control_room_writes_and_the_crew_reads(world, tablet, console, assignment):
    status, sent = post(console, f"/api/units/{world.als1.pk}/messages", {"text": "患者在3号楼2单元"})
    assert status == 201 and sent["direction"] == "to_crew" and sent["assignment"] == assignment.pk
    lines = tablet.get("/api/crew/messages").json()
    assert [m["text"] for m in lines] == ["患者在3号楼2单元"] and lines[0]["read_at"] is None
    shown = tablet.get("/api/crew/assignment").json()["assignment"]
    assert [m["id"] for m in shown["messages"]] == [sent["id"]]
    status, read = post(tablet, f"/api/crew/messages/{sent['id']}/read")
    assert status == 200 and read["read_at"]
    message = Message.objects.get(pk=sent["id"])
    assert message.read_by == world.carol and message.sender == world.alice


def test_crew_replies_and_the_control_room_marks_it_read(world, tablet, console, assignment):
    status, reply = post(
        tablet, "/api/crew/messages", {"text": "收到", "client_time": "2026-12-01T08:00:00+08:00"}
    )
    assert (
        status == 201 and reply["direction"] == "to_control" and reply["incident"] == assignment.incident_id
    )
    assert reply["client_time"].startswith("2026-12-01T08:00:00")
    line = console.get(f"/api/units/{world.als1.pk}/messages").json()
    assert [m["text"] for m in line] == ["收到"]
    response = console.post(f"/api/messages/{reply['id']}/read")
    assert response.status_code == 200 and response.json()["read_at"]
    # Reading it again changes nothing and tells nobody.
    console.post(f"/api/messages/{reply['id']}/read")
    assert Event.objects.filter(kind="message.read").count() == 1


def test_both_screens_see_each_message_as_an_event(world, tablet, console, assignment):
    post(console, f"/api/units/{world.als1.pk}/messages", {"text": "改去县医院"})
    post(tablet, "/api/crew/messages", {"text": "好的"})
    for client in (tablet, console):
        sent = [e for e in client.get("/api/events").json() if e["kind"] == "message.sent"]
        assert [e["data"]["text"] for e in sent] == ["改去县医院", "好的"]
        assert all(e["unit"] == world.als1.pk for e in sent)
    assert not [e for e in signed_in(world.dave).get("/api/events").json() if e["kind"] == "message.sent"]


def test_only_the_receiving_side_marks_read(world, tablet, assignment):
    _, mine = post(tablet, "/api/crew/messages", {"text": "到达现场"})
    status, error = post(tablet, f"/api/crew/messages/{mine['id']}/read")
    assert status == 409 and error["code"] == "not_the_recipient"
    assert Message.objects.get(pk=mine["id"]).read_at is None


def test_a_message_to_a_unit_nobody_is_on_is_refused(world, console):
    end_shift(User.objects.get(username="crew-t-bls-1"))  # the world staffs every unit
    status, error = post(console, f"/api/units/{world.bls1.pk}/messages", {"text": "在吗"})
    assert status == 409 and "T-BLS-1" in error["error"]
    assert not Message.objects.exists()


@pytest.mark.parametrize("text", ["", "长" * 501])
def test_empty_or_oversized_text_is_refused(world, tablet, console, assignment, text):
    assert post(tablet, "/api/crew/messages", {"text": text})[0] == 422
    assert post(console, f"/api/units/{world.als1.pk}/messages", {"text": text})[0] == 422
    assert not Message.objects.exists()


def test_unknown_unit_or_message_is_a_json_404(world, tablet, console, assignment):
    assert post(console, "/api/units/999999/messages", {"text": "在吗"})[0] == 404
    assert console.post("/api/messages/999999/read").status_code == 404
    assert post(tablet, "/api/crew/messages/999999/read")[0] == 404


def test_hospital_staff_are_not_on_the_line(world, assignment):
    board = signed_in(world.dave)
    assert board.get(f"/api/units/{world.als1.pk}/messages").status_code == 403
    assert post(board, f"/api/units/{world.als1.pk}/messages", {"text": "我们满了"})[0] == 403
    assert not Message.objects.exists()


def test_a_resent_console_message_with_a_key_is_sent_once(world, console, assignment):
    for _ in range(2):
        post(console, f"/api/units/{world.als1.pk}/messages", {"text": "请回电"}, key="console-msg-0001")
    assert Message.objects.count() == 1


def test_a_new_crew_does_not_see_the_last_shifts_chatter(world, assignment):
    send_message(world.als1, "旧消息", actor=world.alice)
    cancel_assignment(assignment, actor=world.alice, reason="test")
    end_shift(world.carol)
    chen = crew_member("chen")
    on_shift(chen, world.als1)
    assert signed_in(chen).get("/api/crew/messages").json() == []
