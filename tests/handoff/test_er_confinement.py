"""Staff of hospital A see nothing of hospital B's patients, through the board, a notice by id,
any write, the events API, the page, or the live socket; every refusal writes nothing."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from dispatch.asgi import application
from dispatch.handoff.actions import acknowledge_notice
from dispatch.models import Event, NoticeAcknowledgement
from tests.support.crew_tablet import crew_member
from tests.support.er_helpers import notified, staff_get, staff_post
from tests.support.live_sockets import events_in, session_headers


@pytest.fixture
def two_patients(world):
    """Carol brings 王先生 to the city hospital (dave's); Chen brings 李女士 to the county (frank's)."""
    chen = crew_member("chen")
    mine = notified(world, world.als1, world.city, world.carol, name="王先生")
    theirs = notified(world, world.als2, world.county, chen, complaint="跌倒", name="李女士")
    return mine, theirs


def test_board_lists_only_the_hospitals_own_patients(world, two_patients):
    mine, theirs = two_patients
    status, board = staff_get(world.dave, "/api/er/board")
    assert status == 200
    assert [n["id"] for n in board["notices"]] == [mine.pk]
    assert board["hospital"]["id"] == world.city.pk
    assert "李女士" not in str(board)
    # asking for the other hospital's board is the same 404 as asking for none at all
    status, error = staff_get(world.dave, f"/api/er/board?hospital={world.county.pk}")
    assert status == 404 and error["code"] == "not_found"


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/er/notices/{id}"),
        ("post", "/api/er/notices/{id}/acknowledge"),
        ("post", "/api/er/notices/{id}/arrived"),
        ("post", "/api/er/notices/{id}/handover"),
    ],
)
def test_another_hospitals_notice_looks_like_no_notice(world, two_patients, method, path):
    _, theirs = two_patients
    before = Event.objects.count()
    call = staff_get if method == "get" else staff_post
    status, error = call(world.dave, path.format(id=theirs.pk))
    missing_status, missing = call(world.dave, path.format(id=999_999))
    assert status == missing_status == 404 and error["code"] == missing["code"] == "not_found"
    assert "李女士" not in str(error)
    assert Event.objects.count() == before
    assert not NoticeAcknowledgement.objects.exists()
    theirs.assignment.refresh_from_db()
    assert theirs.assignment.at_hospital_at is None


def test_staff_cannot_change_another_hospitals_status_or_beds(world, two_patients):
    before = Event.objects.count()
    body = {"hospital": world.county.pk, "diverting": ["all"], "reason": "x"}
    assert staff_post(world.dave, "/api/er/status", body)[0] == 404
    assert (
        staff_post(
            world.dave, "/api/er/beds", {"hospital": world.county.pk, "category": "er", "available": 0}
        )[0]
        == 404
    )
    world.county.refresh_from_db()
    assert world.county.diverting == [] and Event.objects.count() == before


def test_events_api_and_page_show_only_the_own_hospital(world, two_patients):
    events = staff_get(world.dave, "/api/events")[1]
    assert events and all(e["hospital"] == world.city.pk for e in events)
    assert "李女士" not in str(events)
    client = Client()
    client.force_login(world.dave)
    page = client.get("/er/").content.decode()
    assert world.city.name in page and world.county.name not in page


def test_crews_and_dispatchers_roles(world, two_patients):
    assert staff_get(world.carol, "/api/er/board")[0] == 403  # a crew has no ER board
    status, board = staff_get(world.alice, f"/api/er/board?hospital={world.county.pk}")
    assert status == 200 and [n["id"] for n in board["notices"]] == [two_patients[1].pk]


async def drain(communicator, quiet: float = 1.0) -> list[dict]:
    """Events until the socket has been quiet for `quiet` seconds (a receive that times out
    would cancel the consumer, so ask receive_nothing first)."""
    events = []
    while not await communicator.receive_nothing(timeout=quiet):
        events.extend(events_in(await communicator.receive_json_from()))
    return events


@pytest.mark.django_db(transaction=True)
def test_socket_of_hospital_a_never_carries_hospital_bs_notice(world):
    chen = sync_to_async(crew_member)

    async def scenario() -> tuple[list[dict], list[dict]]:
        headers = await sync_to_async(session_headers)(world.dave)
        socket = WebsocketCommunicator(application, "/ws/live/?after=0", headers=headers)
        assert (await socket.connect())[0]
        await drain(socket, 0.5)  # the catch-up
        crew_b = await chen("chen")
        await sync_to_async(notified)(
            world, world.als2, world.county, crew_b, complaint="跌倒", name="李女士"
        )
        theirs = await drain(socket)
        mine = await sync_to_async(notified)(world, world.als1, world.city, world.carol, name="王先生")
        await sync_to_async(acknowledge_notice)(mine, actor=world.dave)
        ours = await drain(socket)
        await socket.disconnect()
        return theirs, ours

    theirs, ours = asyncio.run(scenario())
    assert theirs == []
    kinds = [e["kind"] for e in ours]
    assert "notice.sent" in kinds and "notice.acknowledged" in kinds
    assert all(e["hospital"] == world.city.pk for e in ours)
