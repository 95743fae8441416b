"""The demo city loads through the centre importer, as a real centre's files would: every
station, hospital, unit and place of the generated city, each one event; and its export imports
again without a change."""

import pytest

from dispatch.demo.city import DISTRICTS, centre_rows, generate
from dispatch.models import District, Event, Place
from dispatch.registry.importer import export_files, import_files, import_rows
from fleet.models import Station, Unit
from hospitals.models import Hospital

pytestmark = pytest.mark.usefixtures("in_english")


@pytest.fixture(scope="module")
def city():
    return generate(120)


@pytest.mark.django_db
def test_the_demo_city_goes_through_the_importer(city) -> None:
    report = import_rows(centre_rows(city), source="demo")
    assert report.ok, report.lines()[-5:]
    districts = len(centre_rows(city)["districts.geojson"])
    records = len(city.stations) + len(city.hospitals) + len(city.units) + len(city.places) + districts
    assert report.summary() == f"{records} created, 0 updated, 0 unchanged"
    assert Event.objects.count() == records
    assert Unit.objects.count() == 40 == len(city.units)
    assert sorted(District.objects.values_list("name", flat=True)) == sorted(d.name for d in DISTRICTS)
    assert sorted(Unit.objects.values_list("call_sign", flat=True)) == sorted(u.call_sign for u in city.units)
    for spec in city.units[:5]:
        unit = Unit.objects.get(call_sign=spec.call_sign)
        assert unit.home_station.code == spec.station_code and unit.position == unit.home_station.location
        assert unit.tracker_id == spec.tracker_id and unit.plate == spec.plate
    station = Station.objects.get(code=city.stations[0].code)
    assert (station.location.x, station.location.y) == (city.stations[0].lon, city.stations[0].lat)
    assert list(Hospital.objects.order_by("code").values_list("name", flat=True)) == [
        h.name for h in city.hospitals
    ]
    assert Place.objects.count() == len(city.places) and set(
        Place.objects.values_list("source", flat=True)
    ) == {"demo"}

    report = import_files(export_files().items())
    assert report.ok and report.summary() == f"0 created, 0 updated, {records} unchanged"
