"""What an exported file says of its period and its cells: the file name ends on the last day
chosen (it ended a day later), `created` is ISO 8601 with the centre's offset (it was local time
with no zone), and a text a spreadsheet would run as a formula is made inert, in the CSV and in
the Excel workbook alike (the audit CSV's guard, dispatch.core.spreadsheet.inert)."""

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from dispatch.models import Role, User
from dispatch.registry.actions import create_unit
from tests.support.report_world import MARCH, MONTH_QUERY, Job, make, signed_in, steady
from tests.support.roster import on_shift

# (A tab or carriage return cannot start a call sign: the unit's action strips them.)
FORMULAS = ('=HYPERLINK("x")', "+1+1", "-2+3", "@SUM(A1)")


def export(client, path: str):
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response


def filename(response) -> str:
    return response["Content-Disposition"].split('filename="')[1].rstrip('"')


@pytest.mark.parametrize(
    "query, days",
    [(MONTH_QUERY, "20260301-20260331"), ("start=2026-03-05&end=2026-03-09", "20260305-20260309")],
)
def test_file_names_end_on_the_last_day_chosen(world, query, days):
    client = signed_in(world.bob)
    assert filename(export(client, f"/api/reports/export.csv?{query}")) == f"120-summary-{days}.csv"
    incidents = export(client, f"/api/reports/export.csv?{query}&table=incidents")
    assert filename(incidents) == f"120-incidents-{days}.csv"
    assert filename(export(client, f"/api/reports/export.xlsx?{query}")) == f"120-report-{days}.xlsx"


def test_created_is_iso_8601_with_the_offset(world):
    incident = make(world, Job(MARCH + timedelta(hours=9), steady()))
    response = export(signed_in(world.bob), f"/api/reports/export.csv?{MONTH_QUERY}&table=incidents")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    (row,) = csv.DictReader(io.StringIO(text))
    assert row["number"] == incident.number
    assert row["created"] == "2026-03-01T09:00:01+08:00"


@pytest.fixture
def formula_units(world):
    """Units whose call signs a spreadsheet would take for formulas, each sent to one job."""
    incidents = []
    for n, sign in enumerate(FORMULAS):
        unit = create_unit(sign, "bls", home_station=world.north)
        on_shift(User.objects.create_user(f"crew-formula-{n}", role=Role.CREW), unit)
        incidents.append(make(world, Job(MARCH + timedelta(hours=n), steady(), unit=unit)))
    return incidents


def test_formula_cells_are_inert_in_the_csv(world, formula_units):
    response = export(signed_in(world.bob), f"/api/reports/export.csv?{MONTH_QUERY}&table=incidents")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert sorted(row["units"] for row in rows) == sorted(f"'{sign}" for sign in FORMULAS)


def test_formula_cells_are_inert_in_the_workbook(world, formula_units):
    response = export(signed_in(world.bob), f"/api/reports/export.xlsx?{MONTH_QUERY}")
    book = load_workbook(io.BytesIO(response.content))
    incidents = list(book[book.sheetnames[1]].iter_rows(values_only=True))
    units = incidents[0].index("units")
    assert sorted(row[units] for row in incidents[1:]) == sorted(f"'{sign}" for sign in FORMULAS)
    assert all(cell.data_type != "f" for row in book[book.sheetnames[1]].iter_rows() for cell in row)
