"""Standby points in the admin: added and changed through the registry's action (one event and
one audit each), odd characters kept, bad input (no name, impossible coordinates, a capacity of
0 or 21, a code with spaces or taken) a form error that writes nothing; never deleted (retired
by unticking "in use"); not for a dispatcher."""

import pytest
from django.test import Client

from dispatch.models import Event
from fleet.models import StandbyPoint
from tests.support.audit_trail import admin_form

pytestmark = pytest.mark.django_db

POINT = {"code": "SP7", "name": '东门 <b>&amp; "待命"点', "name_en": "East gate", "district": "东湖区"}
POINT |= {"address": "湖滨路 1 号", "longitude": "119.6512345", "latitude": "24.9012345", "capacity": "2"}
POINT |= {"active": "on"}


@pytest.fixture
def admin_client(world) -> Client:
    world.erin.is_superuser = True
    world.erin.save(update_fields=["is_superuser"])
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.erin)
    return client


def save(client: Client, url: str, data: dict):
    return client.post(url, {**data, "_save": "Save"})


def last_seq() -> int:
    return Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def kinds_since(seq: int) -> list[str]:
    return list(Event.objects.filter(seq__gt=seq).order_by("seq").values_list("kind", flat=True))


def test_a_standby_point_added_and_changed(admin_client, world):
    before = last_seq()
    response = save(admin_client, "/admin/fleet/standbypoint/add/", POINT)
    assert response.status_code == 302, response.content.decode()[-2000:]
    point = StandbyPoint.objects.get(code="SP7")
    assert point.name == '东门 <b>&amp; "待命"点'
    assert point.location.coords == (119.6512345, 24.9012345) and point.capacity == 2 and point.active
    assert kinds_since(before) == ["standby_point.saved", "audit.admin_edit"]
    listing = admin_client.get("/admin/fleet/standbypoint/").content.decode()
    assert "东门 &lt;b&gt;&amp;amp;" in listing  # escaped, as typed

    url = f"/admin/fleet/standbypoint/{point.pk}/change/"
    data = admin_form(admin_client, url, "standbypoint_form")
    assert data["longitude"] == "119.6512345"
    data.pop("active")  # unticked: retired
    data["capacity"] = "3"
    before = last_seq()
    assert save(admin_client, url, data).status_code == 302
    point.refresh_from_db()
    assert (point.capacity, point.active, point.code) == (3, False, "SP7")
    assert kinds_since(before) == ["standby_point.saved", "audit.admin_edit"]
    assert (
        admin_client.post(f"/admin/fleet/standbypoint/{point.pk}/delete/", {"post": "yes"}).status_code == 403
    )


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"name": ""}, "This field is required."),
        ({"longitude": "0", "latitude": "0"}, ""),
        ({"latitude": "95"}, "Ensure this value is less than or equal to 90."),
        ({"capacity": "0"}, "Capacity is a whole number of units from 1 to 20."),
        ({"capacity": "21"}, "Capacity is a whole number of units from 1 to 20."),
        ({"code": "SP 7"}, "must not contain spaces"),
    ],
)
def test_bad_input_is_a_form_error_and_writes_nothing(admin_client, world, change, error):
    before = last_seq()
    response = save(admin_client, "/admin/fleet/standbypoint/add/", {**POINT, **change})
    assert response.status_code == 200
    html = response.content.decode()
    assert "errornote" in html or "errorlist" in html
    assert error in html
    assert not StandbyPoint.objects.exists() and kinds_since(before) == []


def test_a_taken_code_is_refused(admin_client, world):
    assert save(admin_client, "/admin/fleet/standbypoint/add/", POINT).status_code == 302
    before = last_seq()
    response = save(admin_client, "/admin/fleet/standbypoint/add/", {**POINT, "name": "另一个"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert StandbyPoint.objects.get().name != "另一个" and kinds_since(before) == []


def test_a_dispatcher_cannot_edit_standby_points(world):
    client = Client()
    client.force_login(world.alice)
    response = client.get("/admin/fleet/standbypoint/add/")
    assert response.status_code in (302, 403)
    assert not StandbyPoint.objects.exists()
