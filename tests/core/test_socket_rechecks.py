"""A live socket keeps what it may receive in step with its user: signed out, disabled or
given another role, it is closed at the next heartbeat; a crew whose shift ended gets nothing
more of its old unit, from the very next event."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.test import Client

from dispatch.asgi import application
from dispatch.crew.actions import end_shift
from dispatch.models import Role
from dispatch.units.actions import set_unit_status
from fleet.models import UnitStatus
from tests.support.live_sockets import SITE, events_in, receive_until_cursor
from tests.support.roster import on_shift

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def quick_heartbeat(settings) -> None:
    settings.LIVE_HEARTBEAT_SECONDS = 0.5


def signed_in_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def open_socket(user) -> WebsocketCommunicator:
    cookie = await sync_to_async(signed_in_cookie)(user)
    socket = WebsocketCommunicator(application, "/ws/live/", headers=[(b"cookie", cookie), *SITE])
    connected, _ = await socket.connect()
    assert connected
    await receive_until_cursor(socket)
    return socket


async def close_code(socket: WebsocketCommunicator, seconds: float = 5) -> int | None:
    """The code the server closed the socket with, or None if it stayed open that long."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        message = await socket.receive_output(timeout=seconds)
        if message["type"] == "websocket.close":
            return message["code"]
    return None


@pytest.mark.parametrize(
    "change, code",
    [
        (lambda user: Session.objects.all().delete(), 4401),  # signed out (everywhere)
        (lambda user: type(user).objects.filter(pk=user.pk).update(is_active=False), 4401),
        (lambda user: type(user).objects.filter(pk=user.pk).update(role=Role.CREW), 4403),
        (lambda user: user.set_password("a-new-long-password") or user.save(), 4401),
    ],
    ids=["signed-out", "disabled", "role-changed", "password-changed"],
)
def test_a_changed_user_is_closed_at_the_next_heartbeat(world, quick_heartbeat, change, code):
    async def scenario() -> int | None:
        socket = await open_socket(world.alice)
        await sync_to_async(change)(world.alice)
        return await close_code(socket)

    assert asyncio.run(scenario()) == code


def test_an_unchanged_user_stays(world, quick_heartbeat):
    async def scenario() -> int | None:
        socket = await open_socket(world.alice)
        try:
            return await close_code(socket, seconds=2)
        except TimeoutError:
            return None

    assert asyncio.run(scenario()) is None


def test_a_crew_off_shift_gets_nothing_more_of_its_unit(world, settings):
    settings.LIVE_HEARTBEAT_SECONDS = 60  # no heartbeat in between: the event itself re-checks

    async def scenario() -> list[str]:
        await sync_to_async(on_shift)(world.carol, world.als1)
        socket = await open_socket(world.carol)
        await sync_to_async(end_shift)(world.carol)
        await sync_to_async(set_unit_status)(world.als1, UnitStatus.OUT_OF_SERVICE, actor=world.bob)
        kinds = []
        while not await socket.receive_nothing(timeout=0.3):
            kinds.extend(e["kind"] for e in events_in(await socket.receive_json_from()))
        await socket.disconnect()
        return kinds

    kinds = asyncio.run(scenario())
    assert "unit.status" not in kinds
    assert "shift.ended" in kinds  # its own shift's end it hears: the tablet clears the job


def test_a_crew_moved_to_another_unit_follows_it_from_the_next_event(world, settings):
    """Starting a shift on another unit ends the old one without an event of the old unit: the
    new shift's event names the member, and from it on the tablet has the new unit's events only."""
    settings.LIVE_HEARTBEAT_SECONDS = 60  # no heartbeat in between

    async def scenario() -> list[tuple[str, int | None]]:
        await sync_to_async(on_shift)(world.carol, world.als1)
        socket = await open_socket(world.carol)
        await sync_to_async(on_shift)(world.carol, world.bls1)
        for unit in (world.als1, world.bls1):
            await sync_to_async(set_unit_status)(unit, UnitStatus.OUT_OF_SERVICE, actor=world.bob)
        seen = []
        while not await socket.receive_nothing(timeout=0.3):
            seen.extend((e["kind"], e["unit"]) for e in events_in(await socket.receive_json_from()))
        await socket.disconnect()
        return seen

    seen = asyncio.run(scenario())
    assert ("shift.started", world.bls1.pk) in seen
    assert ("unit.status", world.bls1.pk) in seen
    assert ("unit.status", world.als1.pk) not in seen


def test_a_crew_starting_a_shift_hears_its_unit_at_once(world, settings):
    """A tablet signed in before its shift gets the unit's events from the shift's start, not
    from the next heartbeat."""
    settings.LIVE_HEARTBEAT_SECONDS = 60

    async def scenario() -> list[tuple[str, int | None]]:
        socket = await open_socket(world.carol)
        await sync_to_async(on_shift)(world.carol, world.als1)
        for status in (UnitStatus.OUT_OF_SERVICE, UnitStatus.AVAILABLE):
            await sync_to_async(set_unit_status)(world.als1, status, actor=world.bob)
        seen = []
        while not await socket.receive_nothing(timeout=0.3):
            seen.extend((e["kind"], e["data"].get("to")) for e in events_in(await socket.receive_json_from()))
        await socket.disconnect()
        return seen

    seen = asyncio.run(scenario())
    statuses = [status for kind, status in seen if kind == "unit.status"]
    assert statuses == [UnitStatus.OUT_OF_SERVICE, UnitStatus.AVAILABLE]


def test_a_crew_hears_only_its_own_shift_end(world):
    """Ended on another tablet or by the control room, the member's shift end reaches the tablet
    (live and on catch-up); another crew member's does not."""
    from dispatch.core.permissions import visible_events

    on_shift(world.carol, world.als1)
    end_shift(world.carol)
    ended = visible_events(world.carol).filter(kind="shift.ended")
    assert [e.data["user"] for e in ended] == [world.carol.username]
    on_other_units = type(world.carol).objects.filter(shifts__unit__in=[world.bls1, world.neg1]).distinct()
    assert on_other_units
    assert not any(visible_events(u).filter(kind="shift.ended").exists() for u in on_other_units)
