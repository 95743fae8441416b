"""GET /api/roads/unit-routes: the road route of each unit on its way, for the city map: from the
unit's last position to its incident while sent or en route, to its hospital while transporting;
none on scene or at the hospital. The control room only."""

import pytest
from django.test import Client

from dispatch.models import Role, User
from tests.support.busy_city import busy_shift
from tests.support.console_desk import demo_city  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def near(a: list[float], lon: float, lat: float, metres: float = 400) -> bool:
    return abs(a[0] - lon) * 101_000 < metres and abs(a[1] - lat) * 111_000 < metres


def test_routes_of_units_on_their_way(demo_city):  # noqa: F811
    alice = User.objects.create_user("alice", role=Role.DISPATCHER)
    shift = busy_shift(alice)
    answer = signed_in(alice).get("/api/roads/unit-routes")
    assert answer.status_code == 200, answer.content
    routes = {r["unit"]: r for r in answer.json()}
    by_status = {u.status: u for u in shift.busy}
    # 120-40 dispatched, 120-39 and 120-02 en route, 120-33 transporting; on scene and at hospital: none.
    assert set(routes) == {u.pk for u in shift.busy if u.status in ("dispatched", "en_route", "transporting")}
    for unit, incident in zip(shift.busy, shift.incidents, strict=True):
        route = routes.get(unit.pk)
        if route is None:
            continue
        assert route["call_sign"] == unit.call_sign and route["incident"] == incident.pk
        assert route["seconds"] > 0 and route["metres"] > 0 and len(route["coordinates"]) > 2
        assert near(route["coordinates"][0], unit.position.x, unit.position.y)
        target = shift.hospital.location if unit.status == "transporting" else incident.location
        assert route["to"] == ("hospital" if unit.status == "transporting" else "scene")
        assert near(route["coordinates"][-1], target.x, target.y)
    assert by_status["on_scene"].pk not in routes and by_status["at_hospital"].pk not in routes

    # Where units are going is the control room's: not a crew's, not a hospital's.
    crew = User.objects.create_user("crew", role=Role.CREW)
    er = User.objects.create_user("er", role=Role.HOSPITAL, hospital=shift.hospital)
    for outsider in (crew, er):
        assert signed_in(outsider).get("/api/roads/unit-routes").status_code == 403
