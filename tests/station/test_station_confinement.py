"""A station screen sees only the jobs sent to its own station's units, and only what the
station needs (number, priority, complaint, address, unit, time; never the caller's number or
the patient's record): in the queries, its page and API, the live socket and its catch-up;
every other page and API route refuses it, and no other role reads its board."""

import asyncio
import re

import pytest
from asgiref.sync import sync_to_async
from django.db import IntegrityError, connection, transaction
from django.test import Client

from dispatch.core.permissions import (
    visible_events,
    visible_incidents,
    visible_notices,
    visible_station_assignments,
)
from dispatch.crew.actions import update_patient_record
from dispatch.models import Role, User
from dispatch.station.actions import acknowledge_at_station
from dispatch.units.actions import set_unit_status
from fleet.models import UnitStatus
from tests.support.live_sockets import connect, receive_events, receive_until_cursor
from tests.support.station_screens import screen, sent

CALLER = "+8613800138000"


@pytest.mark.django_db
def test_queries_give_a_screen_its_own_stations_jobs_only(world):
    north = screen(world.north)
    ours, also_ours, theirs = sent(world, world.als1), sent(world, world.bls1), sent(world, world.als2)
    assert set(visible_station_assignments(north)) == {ours, also_ours}
    assert set(visible_station_assignments(screen(world.south))) == {theirs}
    for other in (world.alice, world.erin, world.carol, world.dave):
        assert not visible_station_assignments(other).exists()
    assert not visible_incidents(north).exists() and not visible_notices(north).exists()
    kinds = set(visible_events(north).values_list("kind", flat=True))
    assert kinds == {"assignment.created"}
    assert set(visible_events(north).values_list("unit_id", flat=True)) == {world.als1.pk, world.bls1.pk}
    assert CALLER not in str(list(visible_events(north).values_list("data", flat=True)))


@pytest.mark.django_db
def test_a_station_screen_needs_a_station(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("screen-nowhere", role=Role.STATION)


@pytest.mark.django_db
def test_the_board_api_shows_the_job_without_the_caller_and_refuses_everyone_else(world):
    north = screen(world.north)
    a = sent(world, world.als1)
    sent(world, world.als2)
    client = Client()
    client.force_login(north)
    response = client.get("/api/station/board")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["station"]["name"] == "北站"
    assert [u["call_sign"] for u in body["units"]] == ["T-ALS-1", "T-BLS-1"]
    (job,) = body["jobs"]
    assert set(job) == {
        "assignment",
        "number",
        "priority",
        "chief_complaint",
        "address",
        "unit",
        "unit_status",
        "dispatched_at",
        "crew_acknowledged_at",
        "station_acknowledged_at",
        "station_acknowledged_by",
    }
    assert (job["assignment"], job["unit"], job["address"]) == (a.pk, "T-ALS-1", "明湾市滨海路 88 号")
    assert CALLER not in response.content.decode()
    for user in (world.alice, world.bob, world.carol, world.dave, world.erin):
        other = Client()
        other.force_login(user)
        assert other.get("/api/station/board").status_code == 403
        assert other.post(f"/api/station/assignments/{a.pk}/acknowledge").status_code == 403
        assert other.get("/station/").status_code == 403
        assert other.get(f"/station/slip/{a.pk}/").status_code == 403


@pytest.mark.django_db
def test_another_stations_job_cannot_be_acknowledged_or_printed(world):
    north = screen(world.north)
    theirs = sent(world, world.als2)
    client = Client()
    client.force_login(north)
    assert client.post(f"/api/station/assignments/{theirs.pk}/acknowledge").status_code == 404
    assert client.get(f"/station/slip/{theirs.pk}/").status_code == 404
    assert not visible_events(world.alice).filter(kind="assignment.station_acknowledged").exists()


@pytest.mark.django_db
def test_every_other_page_and_api_route_refuses_a_station_screen(world):
    north = screen(world.north)
    a = sent(world, world.als1)
    client = Client()
    client.force_login(north)
    assert client.get("/").url == "/station/"  # its landing page is its screen
    assert client.get("/station/").status_code == 200
    for page in ("/console/", "/map/", "/er/", "/tablet/", "/reports/", "/audit/", "/admin/", "/api/docs/"):
        assert client.get(page).status_code == 403, page
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
    allowed = {k: v for k, v in answered.items() if v < 400 or v >= 500}
    assert set(allowed) == {
        ("get", "/api/station/board"),
        ("post", "/api/station/assignments/{assignment_id}/acknowledge"),
    }
    assert len(answered) > 50


@pytest.mark.django_db(transaction=True)
def test_the_socket_brings_a_screen_its_stations_dispatches_only(world):
    north = screen(world.north)
    earlier = sent(world, world.als2)  # before the socket: the south's, never caught up

    def happen() -> None:
        try:
            theirs = sent(world, world.neg1)  # the south station's
            ours = sent(world, world.als1, complaint="呼吸困难")
            # The crew's record of the patient: never the station's.
            update_patient_record(ours, actor=None, name="王某", findings="胸闷")
            set_unit_status(world.neg1, UnitStatus.ACKNOWLEDGED, actor=None)
            acknowledge_at_station(ours, actor=north)
            set_unit_status(world.als1, UnitStatus.ACKNOWLEDGED, actor=None)
            assert theirs.pk and earlier.pk
        finally:
            connection.close()

    async def scenario() -> None:
        socket = await connect(north)
        caught_up, _ = await receive_until_cursor(socket)
        assert caught_up == []
        await sync_to_async(happen)()
        events = await receive_events(socket, 3)
        assert [(e["kind"], e["unit"]) for e in events] == [
            ("assignment.created", world.als1.pk),
            ("assignment.station_acknowledged", world.als1.pk),
            ("unit.status", world.als1.pk),
        ]
        assert events[0]["data"]["incident"]["chief_complaint"] == "呼吸困难"
        assert CALLER not in str(events) and "王某" not in str(events)
        assert await socket.receive_nothing(timeout=0.5)
        await socket.disconnect()
        late = await connect(north)
        again, _ = await receive_until_cursor(late)
        assert [e["kind"] for e in again] == [e["kind"] for e in events]  # the same, and only those
        await late.disconnect()

    asyncio.run(scenario())
