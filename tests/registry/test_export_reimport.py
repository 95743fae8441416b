"""Export writes the files import reads: exporting and importing again changes nothing."""

import csv
import io

import pytest
from django.contrib.gis.geos import Point

from dispatch.models import Role
from dispatch.registry.actions import put_standby_point, save_place, save_station, save_unit, save_user
from dispatch.registry.importer import export_files, import_files
from tests.registry.centre_files import example_files, row_counts

pytestmark = pytest.mark.usefixtures("in_english")


@pytest.mark.django_db
def test_export_then_import_is_a_no_op() -> None:
    assert import_files(example_files()).ok
    # Records made elsewhere too: more decimals than a file holds, a password, odd characters.
    station, _ = save_station("EX09", name='南"站", 第9', location=Point(119.612345678912, 24.9, srid=4326))
    save_unit("示例120-09", kind="neonatal", home_station=station)
    save_place('Café 1号, "东"门', kind="landmark", location=Point(119.6, 24.91, srid=4326), ref="osm:node/1")
    put_standby_point(
        "SP-09",
        name='东"门", 待命;点 <b>',
        location=Point(119.61, 24.92, srid=4326),
        capacity=3,
        active=False,
    )
    save_user("sun", role=Role.SUPERVISOR, full_name="孙 主任", password="a-long-Password-120")
    before = row_counts()
    files = export_files()
    assert set(files) == {
        "stations.csv",
        "standby_points.csv",
        "hospitals.csv",
        "units.csv",
        "districts.geojson",
        "places.csv",
        "users.csv",
    }
    assert files["stations.csv"].startswith(b"\xef\xbb\xbfcode,name,")  # Excel's UTF-8
    assert b"password" not in files["users.csv"]
    report = import_files(files.items())
    assert report.ok, report.lines()
    kinds = ("stations", "standby_points", "units", "hospitals", "districts", "places", "users")
    records = sum(before[k] for k in kinds)
    assert report.summary() == f"0 created, 0 updated, {records} unchanged"
    assert row_counts() == before


@pytest.mark.django_db
def test_an_edited_export_updates_only_the_edited_row() -> None:
    assert import_files(example_files()).ok
    files = export_files()
    rows = list(csv.DictReader(io.StringIO(files["hospitals.csv"].decode("utf-8-sig"))))
    rows[0]["phone"] = "+865998000009"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    files["hospitals.csv"] = out.getvalue().encode("utf-8")
    report = import_files(files.items())
    assert report.summary().startswith("0 created, 1 updated")
