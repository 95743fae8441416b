"""The documented example set imports, each record through its action with one event, and
importing it again (or a dry run) changes nothing."""

import pytest

from dispatch.models import District, Event, Place, Role, User
from dispatch.registry.importer import files_in, import_files
from fleet.models import Unit
from hospitals.models import Hospital
from tests.registry.centre_files import EXAMPLES, example_files, row_counts

pytestmark = pytest.mark.usefixtures("in_english")

EXPECTED = {
    "stations.csv": 2,
    "hospitals.csv": 2,
    "units.csv": 4,
    "districts.geojson": 1,
    "places.csv": 3,
    "addresses.csv": 3,
    "users.csv": 4,
}


@pytest.mark.django_db
def test_the_example_set_imports() -> None:
    report = import_files(files_in([EXAMPLES]))
    assert report.ok, report.lines()
    assert {name: c["created"] for name, c in report.counts.items()} == EXPECTED
    assert report.summary() == "19 created, 0 updated, 0 unchanged"
    assert Event.objects.count() == 19  # one event per record
    unit = Unit.objects.get(call_sign="示例120-02")
    assert unit.capabilities == ["als", "bls", "defib", "ventilator", "bariatric"]
    assert unit.home_station.code == "EX01" and unit.position == unit.home_station.location
    assert Unit.objects.get(call_sign="示例120-01").capabilities == ["als", "bls", "defib", "ventilator"]
    assert Unit.objects.get(call_sign="示例120-01").tracker_id == "860000000000011"
    hospital = Hospital.objects.get(code="EXH01")
    assert hospital.capabilities == ["chest_pain", "stroke", "trauma", "pci", "ct"]
    assert hospital.fhir_endpoint == "https://fhir.example-hospital.cn/r4" and hospital.has_board
    assert not Hospital.objects.get(code="EXH02").has_board
    place = Place.objects.get(name="碧水苑")
    assert (place.pinyin, place.initials, place.kind) == ("bishuiyuan", "bsy", "compound")
    assert Place.objects.get(ref="A-0003").kind == "address"
    assert District.objects.get(code="EXD01").polygon.contains(place.point)
    nurse = User.objects.get(username="zhao.er")
    assert nurse.role == Role.HOSPITAL and nurse.hospital == hospital and not nurse.has_usable_password()
    assert User.objects.get(username="li.crew").station.code == "EX02"
    assert User.objects.get(username="chen.admin").is_staff


@pytest.mark.django_db
def test_importing_again_changes_nothing() -> None:
    assert import_files(example_files()).ok
    before = row_counts()
    report = import_files(example_files())
    assert report.ok and report.summary() == "0 created, 0 updated, 19 unchanged"
    assert row_counts() == before  # no duplicates, and no event either


@pytest.mark.django_db
def test_dry_run_reports_and_writes_nothing() -> None:
    before = row_counts()
    report = import_files(example_files(), dry_run=True)
    assert report.ok and report.summary() == "19 created, 0 updated, 0 unchanged"
    assert report.lines()[-1].startswith("Dry run: 19 created")
    assert row_counts() == before
    assert import_files(example_files()).ok
    changed = [
        (name, data.replace("示例广场".encode(), "示例大广场".encode()) if name == "places.csv" else data)
        for name, data in example_files()
    ]
    report = import_files(changed, dry_run=True)
    assert report.summary() == "1 created, 0 updated, 18 unchanged"  # a new name is a new place
    assert not Place.objects.filter(name="示例大广场").exists()


@pytest.mark.django_db
def test_a_changed_row_is_one_update() -> None:
    assert import_files(example_files()).ok
    events = Event.objects.count()
    files = [
        (
            name,
            data.replace(b"als;bls;defib;ventilator;bariatric", b"als;bls;defib")
            if name == "units.csv"
            else data,
        )
        for name, data in example_files()
    ]
    report = import_files(files)
    assert report.summary() == "0 created, 1 updated, 18 unchanged"
    assert Unit.objects.get(call_sign="示例120-02").capabilities == ["als", "bls", "defib"]
    event = Event.objects.get(seq__gt=events)
    assert event.kind == "unit.updated" and event.data["changed"] == ["capabilities"]
