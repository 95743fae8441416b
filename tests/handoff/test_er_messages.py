"""The crew <-> ER message line of one notice: the crew writes to the receiving ER, the ER
answers; only that crew, that hospital and the control room read it (queries, API, socket), a
patient redirected away closes the old hospital's line, and odd characters arrive as written."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from dispatch.asgi import application
from dispatch.core.event_kinds import EventKind
from dispatch.handoff.actions import send_er_message
from dispatch.incidents.actions import set_destination
from dispatch.models import ErMessage, Event
from tests.handoff.test_er_confinement import drain
from tests.support.crew_tablet import crew_member, new_key
from tests.support.er_board_world import ODD, get, patient_on_the_way, post, sweep
from tests.support.live_sockets import session_headers


def crew_writes(world, notice, text=ODD, key=None):
    return post(world.carol, f"/api/crew/assignments/{notice.assignment_id}/er-messages", {"text": text}, key)


def test_crew_writes_the_er_answers_and_both_read_it(world):
    notice = patient_on_the_way(world, world.als1, world.city, world.carol)
    status, sent = crew_writes(world, notice)
    assert status == 201, sent
    assert (
        sent["text"] == ODD.strip() and sent["direction"] == "to_er" and sent["sender"] == "T-ALS-1 · carol"
    )

    (row,) = get(world.dave, "/api/er/board")[1]["notices"]
    assert [m["text"] for m in row["messages"]] == [ODD.strip()]
    status, answer = post(
        world.dave, f"/api/er/notices/{notice.pk}/messages", {"text": "导管室已启动 cath lab ready"}
    )
    assert status == 201 and answer["direction"] == "to_crew"

    line = get(world.carol, "/api/crew/er-line")[1]
    assert line["notice"] == notice.pk and line["open"] and line["hospital_name"] == world.city.name
    assert [m["direction"] for m in line["messages"]] == ["to_er", "to_crew"]
    assert line["messages"][1]["text"] == "导管室已启动 cath lab ready"
    # the control room reads the line of any hospital's board
    (row,) = get(world.alice, f"/api/er/board?hospital={world.city.pk}")[1]["notices"]
    assert len(row["messages"]) == 2
    assert len(get(world.alice, f"/api/er/notices/{notice.pk}/messages")[1]) == 2
    # the events say who wrote to whom, never the text
    events = Event.objects.filter(kind=EventKind.NOTICE_MESSAGE)
    assert events.count() == 2 and all(e.hospital == world.city and e.unit == world.als1 for e in events)
    assert "cath" not in str([e.data for e in events]) and "STEMI" not in str([e.data for e in events])


def test_a_retried_crew_write_is_applied_once(world):
    notice = patient_on_the_way(world, world.als1, world.city, world.carol)
    key = new_key()
    first = crew_writes(world, notice, "请准备除颤", key)
    again = crew_writes(world, notice, "请准备除颤", key)
    assert first == again and first[0] == 201
    assert ErMessage.objects.count() == 1


@pytest.mark.parametrize("text, code", [("   ", "empty_message"), ("长" * 501, "validation_error")])
def test_empty_or_too_long_is_refused_and_writes_nothing(world, text, code):
    notice = patient_on_the_way(world, world.als1, world.city, world.carol)
    before = Event.objects.count()
    status, error = post(world.dave, f"/api/er/notices/{notice.pk}/messages", {"text": text})
    assert status == 422 and (error["code"] == code or code == "validation_error"), error
    assert not ErMessage.objects.exists() and Event.objects.count() == before


def test_another_hospital_and_another_crew_read_and_write_nothing(world):
    chen = crew_member("chen")
    notice = patient_on_the_way(world, world.als1, world.city, world.carol)
    theirs = patient_on_the_way(world, world.als2, world.county, chen, name="李女士")
    crew_writes(world, notice, "机密 STEMI")
    before = Event.objects.count()
    for method, url in (
        ("get", f"/api/er/notices/{notice.pk}/messages"),
        ("post", f"/api/er/notices/{notice.pk}/messages"),
    ):
        call = get if method == "get" else post
        args = (world.frank, url) if method == "get" else (world.frank, url, {"text": "x"})
        status, error = call(*args)
        assert status == 404 and error["code"] == "not_found"
    assert "机密" not in str(get(world.frank, "/api/er/board")[1])
    # chen's crew cannot write on carol's job, and sees only its own line
    status, _ = post(chen, f"/api/crew/assignments/{notice.assignment_id}/er-messages", {"text": "x"})
    assert status == 404
    assert get(chen, "/api/crew/er-line")[1]["notice"] == theirs.pk
    assert "机密" not in str(get(chen, "/api/crew/er-line")[1])
    # the control room reads but does not write on a crew's line with a hospital
    assert post(world.alice, f"/api/er/notices/{notice.pk}/messages", {"text": "x"})[0] == 403
    assert Event.objects.count() == before and ErMessage.objects.count() == 1


def test_a_redirected_patient_closes_the_old_hospitals_line(world):
    notice = patient_on_the_way(world, world.als1, world.city, world.carol)
    crew_writes(world, notice, "给市一院：STEMI")
    set_destination(notice.assignment, world.county, actor=world.alice)
    status, _ = post(world.dave, f"/api/er/notices/{notice.pk}/messages", {"text": "收到"})
    assert status == 404  # no longer the city's patient
    assert crew_writes(world, notice, "还在路上")[1]["code"] == "not_live"  # not sent on yet
    sweep()
    assert get(world.dave, f"/api/er/notices/{notice.pk}/messages")[0] == 404
    line = get(world.carol, "/api/crew/er-line")[1]
    assert (
        line["hospital"] == world.county.pk and line["messages"] == []
    )  # the old line stays with the old ER
    assert crew_writes(world, notice, "改送县医院：STEMI")[0] == 201
    (row,) = get(world.frank, "/api/er/board")[1]["notices"]
    assert [m["text"] for m in row["messages"]] == ["改送县医院：STEMI"]


def test_no_line_before_the_notice(world):
    from tests.support.er_helpers import transporting

    assignment = transporting(world, world.als1, world.city, world.carol)
    line = get(world.carol, "/api/crew/er-line")[1]
    assert line["assignment"] == assignment.pk and line["notice"] is None and not line["open"]
    status, error = post(world.carol, f"/api/crew/assignments/{assignment.pk}/er-messages", {"text": "x"})
    assert status == 409 and error["code"] == "no_notice"


@pytest.mark.django_db(transaction=True)
def test_socket_of_another_hospital_never_carries_the_line(world):
    async def scenario() -> tuple[list[dict], list[dict]]:
        frank = await sync_to_async(session_headers)(world.frank)
        dave = await sync_to_async(session_headers)(world.dave)
        theirs = WebsocketCommunicator(application, "/ws/live/?after=0", headers=frank)
        ours = WebsocketCommunicator(application, "/ws/live/?after=0", headers=dave)
        assert (await theirs.connect())[0] and (await ours.connect())[0]
        await drain(theirs, 0.5)
        await drain(ours, 0.5)
        notice = await sync_to_async(patient_on_the_way)(world, world.als1, world.city, world.carol)
        await sync_to_async(send_er_message)(notice, "STEMI", actor=world.carol)
        seen_by_them, seen_by_us = await drain(theirs), await drain(ours)
        await theirs.disconnect()
        await ours.disconnect()
        return seen_by_them, seen_by_us

    theirs, ours = asyncio.run(scenario())
    assert theirs == []
    assert EventKind.NOTICE_MESSAGE in [e["kind"] for e in ours]
    assert "STEMI" not in str(ours)
