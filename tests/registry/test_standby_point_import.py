"""Standby points by import: CSV and GeoJSON like the stations; every bad row reported with its
line and column and nothing written; the dry run previews; odd characters kept as typed; run
twice it changes nothing; an export imports back."""

import json

import pytest

from dispatch.models import Event
from dispatch.registry.importer import export_files, import_files
from fleet.models import StandbyPoint

pytestmark = [pytest.mark.usefixtures("in_english"), pytest.mark.django_db]

GOOD = (
    "code,name,lon,lat,name_en,district,address,capacity,active\r\n"
    'SP01,"东门, ""待命""点 <b>&amp;",119.63,24.95,East gate,东区,滨海路 1 号,2,yes\r\n'
    "SP02,北环路临时停靠点,119.61,24.97,,北区,,,\r\n"
)
BAD = (
    "code,name,lon,lat,capacity,active\r\n"
    "SP01,好的,119.63,24.95,1,yes\r\n"  # 2: right
    "SP02,,119.6,24.9,1,yes\r\n"  # 3: no name
    "SP03,坏经度,east,24.9,1,yes\r\n"  # 4: not a number
    "SP04,零容量,119.6,24.9,0,yes\r\n"  # 5: capacity 0
    "SP05,半辆,119.6,24.9,1.5,yes\r\n"  # 6: not whole
    "SP06,也许,119.6,24.9,1,maybe\r\n"  # 7: neither yes nor no
    "SP 07,空格,119.6,24.9,1,yes\r\n"  # 8: space in the code
    "SP01,重复,119.6,24.9,1,yes\r\n"  # 9: line 2 again
    "SP08,海上,0,0,1,yes\r\n"  # 10: GPS fault
    "SP09,太多,119.6,24.9,99,yes\r\n"  # 11: more than 20
)


def test_a_standby_points_file_is_imported_as_typed():
    report = import_files([("standby_points.csv", GOOD.encode("utf-8-sig"))])
    assert report.ok and report.written, report.lines()
    assert report.file_summary("standby_points.csv") == "2 created, 0 updated, 0 unchanged"
    first, second = StandbyPoint.objects.order_by("code")
    assert first.name == '东门, "待命"点 <b>&amp;' and first.capacity == 2 and first.active
    assert (first.location.x, first.location.y) == pytest.approx((119.63, 24.95))
    assert (second.capacity, second.active, second.name_en) == (1, True, "")
    assert Event.objects.filter(kind="standby_point.saved").count() == 2
    again = import_files([("standby_points.csv", GOOD.encode("utf-8"))])
    assert again.summary() == "0 created, 0 updated, 2 unchanged"
    assert Event.objects.filter(kind="standby_point.saved").count() == 2


def test_every_bad_row_is_reported_and_nothing_written():
    report = import_files([("standby_points.csv", BAD.encode("utf-8"))])
    assert not report.ok and not report.written
    assert [(p.line, p.column) for p in report.problems] == [
        (3, "name"),
        (4, "lon"),
        (5, "capacity"),
        (6, "capacity"),
        (7, "active"),
        (8, "code"),
        (9, ""),
        (10, "lon, lat"),
        (11, "capacity"),
    ]
    text = "\n".join(report.lines())
    assert "standby_points.csv:6: capacity: '1.5' is not a whole number." in text
    assert "standby_points.csv:5: capacity: Capacity is a whole number of units from 1 to 20." in text
    assert not StandbyPoint.objects.exists()
    assert not Event.objects.filter(kind="standby_point.saved").exists()


def test_the_dry_run_previews_and_writes_nothing():
    report = import_files([("standby_points.csv", GOOD.encode("utf-8"))], dry_run=True)
    assert report.ok and not report.written
    assert (
        report.lines()[-1]
        == "Dry run: 2 created, 0 updated, 0 unchanged would be the result; nothing was written."
    )
    assert not StandbyPoint.objects.exists() and not Event.objects.exists()


def test_a_geojson_file_too():
    document = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "SP10", "name": "医院前庭", "capacity": 3, "active": "no"},
                "geometry": {"type": "Point", "coordinates": [119.62, 24.93]},
            },
            {
                "type": "Feature",
                "properties": {"code": "SP11", "name": "线"},
                "geometry": {"type": "LineString", "coordinates": [[119.6, 24.9], [119.61, 24.9]]},
            },
        ],
    }
    data = json.dumps(document, ensure_ascii=False).encode()
    report = import_files([("standby_points.geojson", data)])
    assert [(p.line, p.column) for p in report.problems] == [(2, "geometry")]
    document["features"].pop()
    report = import_files([("standby_points.geojson", json.dumps(document).encode())])
    assert report.ok, report.lines()
    point = StandbyPoint.objects.get()
    assert (point.code, point.capacity, point.active) == ("SP10", 3, False)


def test_exported_standby_points_import_back_unchanged():
    assert import_files([("standby_points.csv", GOOD.encode())]).ok
    files = export_files()
    assert files["standby_points.csv"].startswith(b"\xef\xbb\xbfcode,name,lon,lat,")
    report = import_files([("standby_points.csv", files["standby_points.csv"])])
    assert report.summary() == "0 created, 0 updated, 2 unchanged"
