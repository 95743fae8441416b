"""A file with errors: every error is reported with its file, line and column, and nothing is
written, not even the rows that were right."""

import pytest
from django.utils import translation

from dispatch.registry.importer import import_files
from tests.registry.centre_files import example_files, replaced, row_counts

pytestmark = pytest.mark.usefixtures("in_english")

UNITS_WITH_ERRORS = (
    "call_sign,kind,station,capabilities,phone,plate,tracker_id\r\n"
    "示例120-01,als,EX01,,+8613900000101,示A12001,860000000000011\r\n"  # 2: right
    "示例120-02,helicopter,EX01,,,,\r\n"  # 3: unknown kind
    "示例120-03,bls,NOPE,,,,\r\n"  # 4: unknown station
    "示例120-04,als,EX01,als;jetpack,,,\r\n"  # 5: unknown capability
    "示例120-05,bls,EX01,,,,860000000000011\r\n"  # 6: tracker bound to line 2's unit
    ",bls,EX01,,,,\r\n"  # 7: no call sign
    "示例120-01,bls,EX01,,,,\r\n"  # 8: line 2 again
    "示例120-06,bls,EX02,,12345,,\r\n"  # 9: EX02 refused in stations.csv, and a bad phone
)
STATIONS_WITH_ERRORS = (
    "code,name,lon,lat\r\n"
    "EX01,示例市急救中心,119.6012,24.9034\r\n"
    "EX02,北岭急救站,east,24.98\r\n"  # 3: not a number
    "EX03,海上站,0,0\r\n"  # 4: GPS fault
    "EX04,南站,119.6,95\r\n"  # 5: out of range
)


def problems_of(report) -> list[tuple[str, int, str]]:
    return [(p.file, p.line, p.column) for p in report.problems]


@pytest.mark.django_db
def test_every_error_reported_with_its_line_and_nothing_written() -> None:
    before = row_counts()
    files = replaced(
        replaced(example_files(), "units.csv", UNITS_WITH_ERRORS), "stations.csv", STATIONS_WITH_ERRORS
    )
    report = import_files(files)
    assert not report.ok and not report.written
    assert problems_of(report) == [
        ("stations.csv", 3, "lon"),
        ("stations.csv", 4, "lon, lat"),
        ("stations.csv", 5, "lon, lat"),
        ("units.csv", 3, "kind"),
        ("units.csv", 4, "station"),
        ("units.csv", 5, "capabilities"),
        ("units.csv", 6, "tracker_id"),
        ("units.csv", 7, "call_sign"),
        ("units.csv", 8, ""),
        ("units.csv", 9, "station"),
        ("units.csv", 9, "phone"),
        # EX02 is refused above, so its crew's station is unknown too
        ("users.csv", 3, "station"),
    ]
    text = "\n".join(report.lines())
    assert "units.csv:5: capabilities: Unknown capabilities: jetpack" in text
    assert "units.csv:8: The same record as line 2" in text
    assert "Problems: 12. Nothing was written" in text
    assert row_counts() == before  # not the good rows of units.csv either, and no events


@pytest.mark.django_db
def test_the_header_is_checked_first() -> None:
    files = replaced(example_files(), "stations.csv", "code;名称;lon\r\nEX01;x;1\r\n")
    report = import_files(files)
    assert problems_of(report)[:3] == [
        ("stations.csv", 1, "名称"),
        ("stations.csv", 1, "name"),
        ("stations.csv", 1, "lat"),
    ]


@pytest.mark.django_db
def test_odd_characters_and_oversized_fields() -> None:
    before = row_counts()
    stations = (
        "code,name,lon,lat,address\r\n"
        f"EX01,{'长' * 121},119.6,24.9,\r\n"  # 2: name of 121 characters
        "EX02,北岭\x07站,119.6,24.9,\r\n"  # 3: a control character
        "EX 03,南站,119.6,24.9,\r\n"  # 4: a space in a code
        f'EX04,东站,119.6,24.9,"{"x" * 20000}"\r\n'  # 5: a cell no column holds
    )
    report = import_files(replaced(example_files(), "stations.csv", stations))
    lines = "\n".join(report.lines())
    assert "stations.csv:2: name: Name is too long: 121 characters, at most 120." in lines
    assert "stations.csv:3: name: Name contains a character that cannot be stored (U+0007)." in lines
    assert "stations.csv:4: code: Station code must not contain spaces." in lines
    assert "stations.csv:5: This line cannot be read: field larger than field limit" in lines
    assert row_counts() == before


@pytest.mark.django_db
def test_a_file_not_in_utf8_is_named() -> None:
    gbk = "code,name,lon,lat\r\nEX01,示例站,119.6,24.9\r\n".encode("gbk")
    report = import_files([("stations.csv", gbk), ("notes.txt", b"hello")])
    assert problems_of(report) == [("notes.txt", 0, ""), ("stations.csv", 2, "")]
    assert 'stations.csv:2: The file is not UTF-8 text (byte 27). Save it as "CSV UTF-8"' in "\n".join(
        report.lines()
    )


@pytest.mark.django_db
def test_errors_in_the_users_language() -> None:
    with translation.override("zh-hans"):
        report = import_files(replaced(example_files(), "units.csv", UNITS_WITH_ERRORS))
        text = "\n".join(report.lines())
    assert "未知" in text and "没有写入" in text
