"""The wallboard screen opens the wallboard and nothing else: every other page refuses it, every
API route answers 403, its live socket carries no event (only the number the log reached, as a
doorbell), and the figures hold no patient. Supervisors and admins open it too; nobody else."""

import asyncio
import re

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import Client

from dispatch.core.permissions import visible_events, visible_incidents
from dispatch.models import Role, User
from tests.support.live_sockets import connect, receive_until_cursor
from tests.support.report_world import signed_in
from tests.support.station_screens import sent

CALLER = "+8613800138000"


def wallboard_screen() -> User:
    return User.objects.create_user("wall", password="pw-wall-120", role=Role.WALLBOARD, first_name="大屏")


@pytest.mark.django_db
def test_every_other_page_and_api_route_refuses_the_wallboard_screen(world):
    wall = wallboard_screen()
    a = sent(world, world.als1)
    client = signed_in(wall)
    assert client.get("/").url == "/wallboard/"
    page = client.get("/wallboard/")
    assert page.status_code == 200
    assert CALLER not in page.content.decode() and "滨海路" not in page.content.decode()
    assert client.get("/wallboard/figures/").status_code == 200
    for path in ("/console/", "/map/", "/er/", "/tablet/", "/reports/", "/audit/", "/admin/", "/api/docs/"):
        assert client.get(path).status_code == 403, path
    assert client.get("/station/").status_code == 403
    admin = Client()
    admin.force_login(world.erin)
    paths = admin.get("/api/schema/").json()["paths"]
    answered = {}
    for path, operations in paths.items():
        url = re.sub(r"\{[^}]+\}", str(a.pk), path)
        for method in operations:
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            response = getattr(client, method)(
                url, {} if method == "get" else "{}", content_type="application/json"
            )
            answered[(method, path)] = response.status_code
    assert len(answered) > 50
    assert {k: v for k, v in answered.items() if v != 403} == {}
    assert not visible_incidents(wall).exists() and not visible_events(wall).exists()


@pytest.mark.django_db
def test_who_else_may_open_the_wallboard(world):
    for user, status in (
        (world.bob, 200),
        (world.erin, 200),
        (world.alice, 403),
        (world.carol, 403),
        (world.dave, 403),
    ):
        client = signed_in(user)
        assert client.get("/wallboard/").status_code == status, user.username
        assert client.get("/wallboard/figures/").status_code == status, user.username
    assert Client().get("/wallboard/figures/").status_code == 401
    assert Client().get("/wallboard/").status_code == 302  # to sign in


@pytest.mark.django_db(transaction=True)
def test_its_socket_rings_with_no_event_in_it(world):
    wall = wallboard_screen()
    sent(world, world.als2)  # before the socket: never caught up

    def happen() -> None:
        try:
            sent(world, world.als1, complaint="呼吸困难")
        finally:
            connection.close()

    async def scenario() -> None:
        socket = await connect(wall)
        caught_up, cursor = await receive_until_cursor(socket)
        assert caught_up == [] and cursor > 0
        await sync_to_async(happen)()
        frames = []
        while not await socket.receive_nothing(timeout=1.0):
            frames.append(await socket.receive_json_from(timeout=5))
        assert frames and {f["type"] for f in frames} == {"cursor"}
        assert frames[-1]["seq"] > cursor
        assert "呼吸困难" not in str(frames) and CALLER not in str(frames)
        await socket.disconnect()

    asyncio.run(scenario())
