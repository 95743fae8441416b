"""The registry's upserts: one event per real change, none when nothing changed, refusals that
name the field in the user's language."""

import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.utils import translation

from dispatch.core.actions import ActionError
from dispatch.models import District, Event, Place, Role, User
from dispatch.registry.actions import (
    FieldError,
    create_hospital,
    create_station,
    save_district,
    save_hospital,
    save_place,
    save_station,
    save_unit,
    save_user,
)
from fleet.models import Station, Unit

pytestmark = pytest.mark.usefixtures("in_english")

HERE = Point(119.60, 24.90, srid=4326)


@pytest.fixture
def north(db) -> Station:
    return save_station("N1", name="北站", location=Point(119.60, 24.95, srid=4326))[0]


@pytest.fixture
def tracked(north) -> Unit:
    return save_unit("T-ALS-1", kind="als", home_station=north, tracker_id="dev-als1")[0]


def kinds() -> list[str]:
    return list(Event.objects.order_by("seq").values_list("kind", flat=True))


@pytest.mark.django_db
def test_station_created_updated_unchanged() -> None:
    station, created = save_station("X1", name="西站", location=HERE)
    assert created and station.name == "西站"
    again, created = save_station("X1", name="西站", location=Point(119.60000001, 24.9, srid=4326))
    assert not created and again.pk == station.pk
    assert kinds() == ["station.created"]  # the same station again: nothing written
    save_station("X1", name="西站新址", location=HERE, address="福民路1号")
    assert kinds() == ["station.created", "station.updated"]
    assert Event.objects.last().data["changed"] == ["name", "address"]
    assert Station.objects.get(code="X1").address == "福民路1号"


@pytest.mark.django_db
def test_create_station_refuses_a_taken_code() -> None:
    create_station("X1", "西站", HERE)
    with pytest.raises(ActionError) as refused:
        create_station("X1", "又一个西站", HERE)
    assert refused.value.status == 409
    assert Station.objects.count() == 1


@pytest.mark.django_db
def test_unit_capabilities_change_is_one_event(north, tracked) -> None:
    unit, created = save_unit("T-ALS-1", kind="als", home_station=north, tracker_id="dev-als1")
    assert not created and unit.capabilities == ["als", "bls", "defib", "ventilator"]
    assert Event.objects.filter(kind="unit.updated").count() == 0
    save_unit(
        "T-ALS-1",
        kind="als",
        home_station=north,
        tracker_id="dev-als1",
        capabilities=["als", "bariatric"],
    )
    unit.refresh_from_db()
    assert unit.capabilities == ["als", "bariatric"]
    event = Event.objects.get(kind="unit.updated")
    assert event.unit_id == unit.pk and event.data["changed"] == ["capabilities"]


@pytest.mark.django_db
def test_unit_tracker_taken_by_another_unit(north, tracked) -> None:
    save_unit("T-BLS-1", kind="bls", home_station=north)
    with pytest.raises(FieldError) as refused:
        save_unit("T-BLS-1", kind="bls", home_station=north, tracker_id="dev-als1")
    assert refused.value.field == "tracker_id" and refused.value.status == 409
    assert Unit.objects.get(call_sign="T-BLS-1").tracker_id is None


@pytest.mark.django_db
def test_refusals_name_the_field_in_chinese() -> None:
    with translation.override("zh-hans"):
        with pytest.raises(FieldError) as refused:
            save_station("X1", name="站" * 121, location=HERE)
        assert refused.value.field == "name"
        assert "121" in refused.value.message and "too long" not in refused.value.message
        with pytest.raises(FieldError) as refused:
            save_unit("X-1", kind="helicopter")
        assert refused.value.field == "kind"
        with pytest.raises(FieldError) as refused:
            save_station("X1", name="西\x07站", location=HERE)
        assert "U+0007" in refused.value.message
    assert not Station.objects.exists() and not Event.objects.exists()


@pytest.mark.django_db
def test_hospital_keyed_by_code_and_create_hospital_uses_the_name() -> None:
    old = create_hospital("市医院", HERE, capabilities=["ct"])
    assert old.code == "市医院"
    renamed, created = save_hospital(
        "市医院", name="明湾市人民医院", location=HERE, capabilities=["ct", "stroke"]
    )
    assert not created and renamed.pk == old.pk and renamed.name == "明湾市人民医院"
    with pytest.raises(FieldError) as refused:
        save_hospital("H2", name="明湾市人民医院", location=HERE)
    assert refused.value.field == "name"
    with pytest.raises(FieldError) as refused:
        save_hospital("H2", name="二院", location=HERE, fhir_endpoint="http://example.org/fhir")
    assert refused.value.field == "fhir_endpoint"
    local, _created = save_hospital(
        "H3", name="演练医院", location=HERE, fhir_endpoint="http://127.0.0.1:8999/fhir"
    )
    assert local.fhir_endpoint == "http://127.0.0.1:8999/fhir"  # loopback only, as the model allows
    assert kinds() == ["hospital.created", "hospital.updated", "hospital.created"]


@pytest.mark.django_db
def test_place_gets_pinyin_and_is_found_again() -> None:
    place, created = save_place("碧水苑", kind="compound", location=HERE, district="明湾区")
    assert created and (place.pinyin, place.initials) == ("bishuiyuan", "bsy")
    again, created = save_place("碧水苑", kind="compound", location=HERE, district="明湾区")
    assert not created and again.pk == place.pk
    moved, _ = save_place(
        "碧水苑", kind="compound", location=Point(119.61, 24.9, srid=4326), district="明湾区"
    )
    assert moved.pk == place.pk
    by_ref, created = save_place("福民路1号", kind="address", location=HERE, ref="addr-1")
    renamed, created_again = save_place("福民路1号之一", kind="address", location=HERE, ref="addr-1")
    assert created and not created_again and renamed.pk == by_ref.pk
    assert Place.objects.count() == 2
    assert kinds() == ["place.saved"] * 4


@pytest.mark.django_db
def test_district_outline() -> None:
    square = Polygon(((119.5, 24.8), (119.7, 24.8), (119.7, 25.0), (119.5, 25.0), (119.5, 24.8)), srid=4326)
    district, created = save_district("MW", name="明湾区", polygon=square)
    assert created and isinstance(district.polygon, MultiPolygon)
    assert not save_district("MW", name="明湾区", polygon=MultiPolygon(square, srid=4326))[1]
    bow_tie = Polygon(((119.5, 24.8), (119.7, 25.0), (119.7, 24.8), (119.5, 25.0), (119.5, 24.8)), srid=4326)
    with pytest.raises(FieldError) as refused:
        save_district("MW2", name="坏区", polygon=bow_tie)
    assert refused.value.field == "polygon"
    assert District.objects.count() == 1 and kinds() == ["district.saved"]


@pytest.mark.django_db
def test_users(north) -> None:
    user, created = save_user(
        "zhang", role=Role.CREW, full_name="张 三", station=north, phone="+8613900000001"
    )
    assert created and not user.has_usable_password() and user.station == north
    assert not save_user("zhang", role=Role.CREW, full_name="张 三", station=north, phone="+8613900000001")[1]
    assert Event.objects.filter(kind="user.saved").count() == 1
    with pytest.raises(FieldError) as refused:
        save_user("nurse", role=Role.HOSPITAL, full_name="护士")
    assert refused.value.field == "hospital"
    with pytest.raises(FieldError) as refused:
        save_user("weak", role=Role.DISPATCHER, password="123")
    assert refused.value.field == "password"
    admin, _ = save_user("boss", role=Role.ADMIN, password="a-long-Password-120")
    assert admin.is_staff and admin.check_password("a-long-Password-120")
    assert not User.objects.filter(username__in=["nurse", "weak"]).exists()
