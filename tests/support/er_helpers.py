"""What the hospital handoff tests share: a small road grid around the test world, a patient on
the way to a hospital, and JSON calls as hospital staff."""

import json

from django.test import Client

from dispatch.crew.actions import record_vitals, update_patient_record
from dispatch.handoff.actions import send_notice
from dispatch.models import Assignment, PreArrivalNotice, User
from dispatch.units.actions import set_unit_status
from fleet.models import UnitStatus
from fleet.roads.data import RoadData
from fleet.roads.store import save_network
from tests.support.crew_tablet import job
from tests.support.road_grids import two_way_streets

GRID_LONS = [119.56, 119.58, 119.60, 119.62]
GRID_LATS = [24.85, 24.87, 24.89, 24.91, 24.93, 24.95]
GRID_SPEED_MPS = 36 / 3.6


def grid_city() -> RoadData:
    """A two-way street grid under the `world` fixture's stations and hospitals."""
    points = [(lon, lat) for lat in GRID_LATS for lon in GRID_LONS]
    pairs = [
        ((a, lat), (b, lat)) for lat in GRID_LATS for a, b in zip(GRID_LONS, GRID_LONS[1:], strict=False)
    ]
    pairs += [
        ((lon, a), (lon, b)) for lon in GRID_LONS for a, b in zip(GRID_LATS, GRID_LATS[1:], strict=False)
    ]
    return two_way_streets(points, pairs, GRID_SPEED_MPS)


def load_grid() -> None:
    save_network(grid_city(), "test grid", "tests/er_helpers.py")


def transporting(world, unit, hospital, crew: User, complaint: str = "胸痛") -> Assignment:
    """A crew on `unit` with a patient on board, bound for `hospital`."""
    assignment = job(world, unit, hospital=hospital, crew=crew, complaint=complaint)
    for status in (UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE, UnitStatus.TRANSPORTING):
        set_unit_status(unit, status, actor=crew)
    return Assignment.objects.get(pk=assignment.pk)


def notified(world, unit, hospital, crew: User, complaint: str = "胸痛", **patient) -> PreArrivalNotice:
    """`transporting`, with a patient record, one set of vitals and the notice sent."""
    assignment = transporting(world, unit, hospital, crew, complaint)
    update_patient_record(assignment, actor=crew, chief_complaint=complaint, **patient)
    record_vitals(assignment, actor=crew, heart_rate=110, systolic_bp=150, diastolic_bp=90, spo2=94)
    return send_notice(assignment, actor=crew)


def staff_post(user: User, url: str, body: dict | None = None) -> tuple[int, dict]:
    client = Client()
    client.force_login(user)
    response = client.post(
        url, data=json.dumps(body or {}), content_type="application/json", headers={"Accept-Language": "en"}
    )
    return response.status_code, response.json()


def staff_get(user: User, url: str) -> tuple[int, dict]:
    client = Client()
    client.force_login(user)
    response = client.get(url, headers={"Accept-Language": "en"})
    return response.status_code, response.json()
