"""The admin's registry screens: stations, units and hospitals are created and edited there, every
save through the registry's actions (one event each, which every console follows) and audited
(one audit.admin_edit, in the same transaction). Bad input (a call sign or tracker already
taken, an unknown capability, impossible coordinates) is a clear form error and writes nothing.
A unit goes out of service with a reason and an expected return and back, through the unit
actions; its tracker is bound by its IMEI and its key rotated, the new key shown once."""

import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from dispatch.models import Event, User
from fleet.models import Station, Unit, UnitStatus
from hospitals.models import Hospital
from tests.support.audit_trail import admin_edits, admin_form, as_text

pytestmark = pytest.mark.django_db

STATION = {"code": "E7", "name": "东湖急救站 <b>&", "name_en": "East Lake", "district": "东湖区"}
STATION |= {"address": "湖滨路 1 号", "longitude": "119.6512345", "latitude": "24.9012345"}


@pytest.fixture
def admin_client(world) -> Client:
    world.erin.is_superuser = True
    world.erin.save(update_fields=["is_superuser"])
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.erin)
    return client


def save(client: Client, url: str, data: dict) -> object:
    return client.post(url, {**data, "_save": "Save"})


def errors_of(response) -> str:
    """The form's error messages as the page shows them."""
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert "errornote" in html or "errorlist" in html, html[-2000:]
    return html


def written_since(seq: int) -> list[Event]:
    return list(Event.objects.filter(seq__gt=seq).order_by("seq"))


def last_seq() -> int:
    return Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def test_a_station_added_and_changed_is_an_event_and_an_audit_each(admin_client, world):
    before = last_seq()
    response = save(admin_client, "/admin/fleet/station/add/", STATION)
    assert response.status_code == 302, response.content.decode()[-2000:]
    station = Station.objects.get(code="E7")
    assert station.name == "东湖急救站 <b>&" and station.location.coords == (119.6512345, 24.9012345)
    kinds = [(e.kind, e.actor) for e in written_since(before)]
    assert kinds == [("station.created", world.erin), ("audit.admin_edit", world.erin)]

    url = f"/admin/fleet/station/{station.pk}/change/"
    data = admin_form(admin_client, url, "station_form")
    assert data["longitude"] == "119.6512345"  # shown as stored
    data["name"] = "东湖站"
    before = last_seq()
    assert save(admin_client, url, data).status_code == 302
    updated, audit = written_since(before)
    assert updated.kind == "station.updated" and updated.data["changed"] == ["name"]
    assert audit.data["changes"] == {"name": ["东湖急救站 <b>&", "东湖站"]}
    # The code is the station's key: shown, never edited (a new code would be a new station).
    assert 'name="code"' not in admin_client.get(url).content.decode()


def test_a_unit_added_with_its_tracker_then_its_capabilities_changed(admin_client, world):
    data = {
        "call_sign": "T-ALS-9",
        "kind": "als",
        "home_station": str(world.north.pk),
        "capabilities": "als, bls, defib, ventilator, bariatric",
        "phone": "+8613800000009",
        "plate": "闽A·12009",
        "tracker_id": "860000000000009",
    }
    before = last_seq()
    response = save(admin_client, "/admin/fleet/unit/add/", data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    unit = Unit.objects.get(call_sign="T-ALS-9")
    assert unit.capabilities == ["als", "bls", "defib", "ventilator", "bariatric"]
    assert (unit.home_station, unit.tracker_id, unit.phone) == (
        world.north,
        "860000000000009",
        "+8613800000009",
    )
    assert unit.position == world.north.location  # starts at its station
    created, audit = written_since(before)
    assert (created.kind, created.unit, created.actor) == ("unit.created", unit, world.erin)
    assert audit.data["action"] == "added" and unit.tracker_key not in as_text(audit)

    url = f"/admin/fleet/unit/{unit.pk}/change/"
    data = admin_form(admin_client, url, "unit_form")
    assert data["capabilities"] == "als, bls, defib, ventilator, bariatric"
    data.update(capabilities="bls defib", tracker_id="860000000000010")  # rebound to a new tracker
    before = last_seq()
    assert save(admin_client, url, data).status_code == 302
    updated, audit = written_since(before)
    assert updated.kind == "unit.updated" and updated.data["capabilities"] == ["bls", "defib"]
    assert set(updated.data["changed"]) == {"capabilities", "tracker_id"}
    assert audit.data["changes"]["tracker_id"] == ["860000000000009", "860000000000010"]
    # The recommendation reads the row: the unit is no longer an ALS candidate.
    assert not Unit.objects.with_capability("als").filter(pk=unit.pk).exists()
    # Its kind's own capabilities when left empty.
    data.update(capabilities="", kind="bls")
    assert save(admin_client, url, data).status_code == 302
    assert Unit.objects.get(pk=unit.pk).capabilities == ["bls", "defib"]


def test_bad_input_is_a_clear_form_error_and_writes_nothing(admin_client, world):
    unit = {"kind": "als", "home_station": str(world.north.pk), "capabilities": "", "phone": "", "plate": ""}
    before, logged = last_seq(), LogEntry.objects.count()
    hospital = {"code": "H9", "name": "新医院", "longitude": "119.6", "latitude": "24.9"}
    hospital |= {"beds-TOTAL_FORMS": "0", "beds-INITIAL_FORMS": "0"}
    units, stations = "/admin/fleet/unit/add/", "/admin/fleet/station/add/"
    cases = [
        (units, {**unit, "call_sign": "T-ALS-1", "tracker_id": ""}, "already exists"),
        (
            units,
            {**unit, "call_sign": "T-X", "capabilities": "als, jetpack"},
            "Unknown capabilities: jetpack",
        ),
        (units, {**unit, "call_sign": "T-Y", "tracker_id": "dev-als1"}, "already exists"),
        (units, {**unit, "call_sign": "T-Z", "phone": "13800000000"}, "E.164"),
        (stations, {**STATION, "longitude": "200"}, "less than or equal to 180"),
        (stations, {**STATION, "longitude": "0", "latitude": "0"}, "GPS fault"),
        (stations, {**STATION, "latitude": "north"}, "Enter a number"),
        (stations, {**STATION, "code": "N1"}, "already exists"),
        (
            "/admin/hospitals/hospital/add/",
            {**hospital, "capabilities": "stroke, teleportation"},
            "Unknown capabilities: teleportation",
        ),
    ]
    for url, data, message in cases:
        html = errors_of(save(admin_client, url, data))
        assert message in html, (data, message)
    assert last_seq() == before and LogEntry.objects.count() == logged
    assert not Unit.objects.filter(call_sign__in=["T-X", "T-Y", "T-Z"]).exists()
    assert Station.objects.count() == 2 and not Hospital.objects.filter(code="H9").exists()
    # A tracker already bound to another unit, on a unit's own page.
    url = f"/admin/fleet/unit/{world.als2.pk}/change/"
    data = admin_form(admin_client, url, "unit_form") | {"tracker_id": "dev-als1"}
    assert "already exists" in errors_of(save(admin_client, url, data))
    assert Unit.objects.get(pk=world.als2.pk).tracker_id is None and last_seq() == before


def test_a_hospital_added_and_its_capabilities_changed(admin_client, world):
    data = {
        "code": "H-EAST",
        "name": "东区医院",
        "name_en": "East District Hospital",
        "level": "三级甲等",
        "longitude": "119.62",
        "latitude": "24.91",
        "phone": "+8659100000001",
        "capabilities": "stroke, ct",
        "has_board": "on",
    }
    data = admin_form(admin_client, "/admin/hospitals/hospital/add/", "hospital_form") | data
    before = last_seq()
    response = save(admin_client, "/admin/hospitals/hospital/add/", data)
    assert response.status_code == 302, re.findall(r"errorlist[^>]*>(.*?)</ul>", response.content.decode())
    hospital = Hospital.objects.get(code="H-EAST")
    assert hospital.capabilities == ["stroke", "ct"] and hospital.level == "三级甲等"
    assert [e.kind for e in written_since(before)] == ["hospital.created", "audit.admin_edit"]

    url = f"/admin/hospitals/hospital/{hospital.pk}/change/"
    data = admin_form(admin_client, url, "hospital_form") | {"capabilities": "stroke, ct, pci, chest_pain"}
    before = last_seq()
    assert save(admin_client, url, data).status_code == 302
    updated, audit = written_since(before)
    assert (updated.kind, updated.hospital) == ("hospital.updated", hospital)
    assert updated.data["changed"] == ["capabilities"]
    assert audit.data["changes"]["capabilities"][1] == '["stroke", "ct", "pci", "chest_pain"]'
    assert Hospital.objects.with_capability("pci").filter(pk=hospital.pk).exists()


def test_out_of_service_with_a_reason_and_an_expected_return_then_back(admin_client, world):
    unit = world.bls1
    page = admin_client.get(f"/admin/fleet/unit/{unit.pk}/change/").content.decode()
    assert f"/admin/fleet/unit/{unit.pk}/out-of-service/" in page
    back = timezone.localtime() + timedelta(hours=5)
    url = f"/admin/fleet/unit/{unit.pk}/out-of-service/"
    before = last_seq()
    # A return in the past is refused, nothing written.
    past = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    assert (
        "later than now"
        in admin_client.post(url, {"reason": "刹车故障", "expected_back_at": past}).content.decode()
    )
    assert last_seq() == before and Unit.objects.get(pk=unit.pk).status == UnitStatus.AVAILABLE

    response = admin_client.post(
        url, {"reason": "刹车故障 <b>", "expected_back_at": back.strftime("%Y-%m-%dT%H:%M")}
    )
    assert response.status_code == 302
    unit.refresh_from_db()
    assert (unit.status, unit.out_of_service_reason) == (UnitStatus.OUT_OF_SERVICE, "刹车故障 <b>")
    assert timezone.localtime(unit.expected_back_at).strftime("%H:%M") == back.strftime("%H:%M")
    status, audit = written_since(before)
    assert status.kind == "unit.status" and status.actor == world.erin
    assert (status.data["to"], status.data["reason"]) == ("out_of_service", "刹车故障 <b>")
    assert status.data["expected_back_at"]  # what the console's board shows beside the reason
    assert audit.kind == "audit.admin_edit" and audit.data["changes"]["status"][1] == "out_of_service"

    before = last_seq()
    assert admin_client.post(f"/admin/fleet/unit/{unit.pk}/return-to-service/").status_code == 302
    unit.refresh_from_db()
    assert (unit.status, unit.out_of_service_reason, unit.expected_back_at) == (
        UnitStatus.AVAILABLE,
        "",
        None,
    )
    assert [e.kind for e in written_since(before)] == ["unit.status", "audit.admin_edit"]
    # Back again: refused with a message, nothing written.
    before = last_seq()
    response = admin_client.post(f"/admin/fleet/unit/{unit.pk}/return-to-service/", follow=True)
    assert "is not out of service" in response.content.decode() and last_seq() == before


def test_rotating_the_key_shows_it_once_with_the_tracker_urls(admin_client, world):
    unit = world.als1
    old = unit.tracker_key
    response = admin_client.post(f"/admin/fleet/unit/{unit.pk}/tracker-key/")
    html = response.content.decode()
    unit.refresh_from_db()
    assert unit.tracker_key != old and "no-store" in response["Cache-Control"]
    assert f"/api/osmand/{unit.tracker_key}</code>" in html and "lat={0}&amp;lon={1}" in html
    assert old not in html
    audit = admin_edits()[-1]
    assert audit.data["changes"] == {"tracker_key": "changed"} and unit.tracker_key not in as_text(audit)
    assert admin_client.get(f"/admin/fleet/unit/{unit.pk}/tracker-key/").status_code == 302  # POST only


def test_who_may_only_look_may_not_add_change_or_rotate(world):
    viewer = User.objects.create_user("viewer", password="pw-viewer-120", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_unit", "view_station"]))
    client = Client()
    client.force_login(viewer)
    assert client.get("/admin/fleet/unit/").status_code == 200
    assert client.get("/admin/fleet/unit/add/").status_code == 403
    assert save(client, "/admin/fleet/station/add/", STATION).status_code == 403
    before = last_seq()
    for action in ("out-of-service", "return-to-service", "tracker-key"):
        assert client.post(f"/admin/fleet/unit/{world.als1.pk}/{action}/", {"reason": "x"}).status_code == 403
    assert Unit.objects.get(pk=world.als1.pk).tracker_key == world.als1.tracker_key and last_seq() == before
