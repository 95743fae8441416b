"""What the crew tablet tests share: a job for a crew on shift, and JSON writes with keys."""

import json
import uuid

from django.contrib.gis.geos import Point
from django.test import Client

from dispatch.incidents.actions import create_incident, dispatch_unit
from dispatch.models import Assignment, Role, User
from tests.support.roster import on_shift


def new_key() -> str:
    return str(uuid.uuid4())


def crew_member(username: str) -> User:
    return User.objects.create_user(username, password=f"pw-{username}-120", role=Role.CREW)


def job(world, unit, *, hospital=None, crew: User | None = None, complaint: str = "胸痛") -> Assignment:
    """An incident at a known place with `unit` sent to it and `crew` on shift on that unit."""
    incident = create_incident(
        actor=world.alice,
        caller_number="+8613800138000",
        location=Point(119.6, 24.9, srid=4326),
        location_source="pin",
        address="明湾市滨海路 88 号",
        priority=1,
        chief_complaint=complaint,
    )
    if crew is not None and not crew.shifts.current().filter(unit=unit).exists():
        on_shift(crew, unit)
    return dispatch_unit(incident, unit, actor=world.alice, hospital=hospital)


def post(client: Client, url: str, body: dict | None = None, key: str | None = None) -> tuple[int, dict]:
    """POST JSON with an Idempotency-Key header (a fresh one unless given), in English."""
    headers = {"Idempotency-Key": key or new_key(), "Accept-Language": "en"}
    response = client.post(url, data=json.dumps(body or {}), content_type="application/json", headers=headers)
    assert response["Content-Type"].startswith("application/json"), response.content
    return response.status_code, response.json()


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def op(kind: str, data: dict, minute: int) -> dict:
    return {
        "key": new_key(),
        "kind": kind,
        "client_time": f"2026-12-01T08:{minute:02d}:00+08:00",
        "data": data,
    }


def sync(client, operations: list[dict]) -> list[dict]:
    response = client.post(
        "/api/crew/sync",
        data=json.dumps({"operations": operations}),
        content_type="application/json",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200, response.content
    return response.json()["results"]
