"""The exports open and say what the report says: the CSV parses (summary, every incident,
the data-quality list) and the Excel file opens with openpyxl. Headers are in the reader's
language; these tests read the English ones."""

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from tests.support.report_world import MARCH, MONTH_QUERY, Job, make, signed_in, steady


@pytest.fixture
def month(world):
    jobs = [Job(MARCH + timedelta(hours=n), steady(travel=300.0 + 60 * n), unit=world.als1) for n in range(4)]
    broken = steady()
    broken["en_route_at"] = broken["dispatched_at"] - 10
    jobs.append(Job(MARCH + timedelta(hours=5), broken))
    return [make(world, job) for job in jobs]


def csv_rows(client, table: str) -> list[dict]:
    response = client.get(f"/api/reports/export.csv?{MONTH_QUERY}&table={table}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_summary_csv_matches_the_api(world, month):
    client = signed_in(world.bob)
    api = {row["key"]: row for row in client.get(f"/api/reports/summary?{MONTH_QUERY}").json()["intervals"]}
    rows = csv_rows(client, "summary")
    response_rows = [row for row in rows if row["interval"] == "response"]
    assert len(response_rows) == 1
    assert float(response_rows[0]["90th percentile (s)"]) == api["response"]["p90_s"]
    assert int(response_rows[0]["count"]) == api["response"]["count"] == 5  # the broken turnout still has one
    handover = [row for row in rows if row["interval"] == "handover"]
    assert [int(row["target (s)"]) for row in handover] == [900, 1800, 3600]


def test_incident_and_quality_csv_list_the_incidents(world, month):
    client = signed_in(world.erin)
    rows = csv_rows(client, "incidents")
    assert [row["number"] for row in rows] == [i.number for i in month]
    assert float(rows[1]["travel (s)"]) == 360.0
    quality = csv_rows(client, "quality")
    assert [row["number"] for row in quality] == [month[-1].number]
    assert quality[0]["turnout (s)"] == ""  # impossible: not a negative number
    assert quality[0]["data problems"]


def test_excel_workbook_opens_with_three_sheets(world, month):
    response = signed_in(world.bob).get(f"/api/reports/export.xlsx?{MONTH_QUERY}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert len(book.sheetnames) == 3
    summary, incidents, quality = (list(book[name].iter_rows(values_only=True)) for name in book.sheetnames)
    header = summary[3]
    response_row = next(row for row in summary[4:] if row[0] == "response")
    assert response_row[header.index("count")] == 5
    assert [row[1] for row in incidents[1:]] == [i.number for i in month]
    assert [row[1] for row in quality[1:]] == [month[-1].number]


def test_a_bad_table_is_refused_with_a_message(world, month):
    response = signed_in(world.bob).get(f"/api/reports/export.csv?{MONTH_QUERY}&table=patients")
    assert response.status_code == 422
    assert "table must be one of" in response.json()["error"]
