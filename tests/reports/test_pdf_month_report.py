"""The month report as a real PDF (WeasyPrint over the month page's own template): a PDF file
named like the exports, whose text holds the month's figures and its Chinese labels, with the
server-drawn charts; a period that ends before it starts is refused with the reason."""

import io
import math
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.test import Client
from pypdf import PdfReader

from dispatch.registry.actions import save_district
from tests.reports.test_areas_by_district import square
from tests.support.report_world import MARCH, Job, make, signed_in, steady

# Response (call to on scene) is 105 s plus the travel.
TRAVELS = [300, 420, 555, 900]


@pytest.fixture
def march(world):
    save_district("A1", name="西城区", name_en="West", polygon=square(119.50, 24.80, 119.60, 24.90))
    for n, travel in enumerate(TRAVELS):
        point = Point(119.55, 24.85, srid=4326) if n < 3 else Point(119.80, 24.95, srid=4326)
        make(world, Job(MARCH + timedelta(days=2 * n, hours=10), steady(travel=travel), point=point))


def pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def client_in(language: str, user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def test_the_month_is_a_pdf_with_its_figures_in_chinese(world, march):
    response = client_in("zh-hans", world.bob).get("/reports/month.pdf?month=2026-03")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="120-month-20260301-20260331.pdf"'
    assert response.content.startswith(b"%PDF-")
    if os.environ.get("REPORT_SCREENSHOTS"):  # to look at: pdftoppm -png -r 80 month.pdf month
        Path(os.environ["REPORT_SCREENSHOTS"], "month.pdf").write_bytes(response.content)
    text = pdf_text(response.content)
    # The labels in Chinese, the district on its map and in its table.
    for label in ("各行政区响应时间", "调度员", "第90百分位", "西城区", "不在任何行政区内"):
        assert label in text, label
    # The month's figures: 4 incidents; response p90 (nearest rank) 1005 s = 16:45.
    responses = sorted(105 + t for t in TRAVELS)
    p90 = responses[math.ceil(0.9 * len(responses)) - 1]
    assert f"{p90 // 60}:{p90 % 60:02d}" in text
    assert "2026-03" in text and "4" in text


def test_in_english_too(world, march):
    response = client_in("en", world.bob).get("/reports/month.pdf?month=2026-03")
    text = pdf_text(response.content)
    assert "Response by district" in text and "Intervals and compliance" in text


def test_a_period_that_ends_before_it_starts_is_refused_with_the_reason(world):
    response = client_in("en", world.bob).get("/reports/month.pdf?start=2026-03-10&end=2026-03-01")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    assert "must end on or after its first day" in response.content.decode()


def test_a_range_of_days_names_its_days(world, march):
    response = signed_in(world.bob).get("/reports/month.pdf?start=2026-03-01&end=2026-03-05")
    assert response["Content-Disposition"] == 'attachment; filename="120-month-20260301-20260305.pdf"'
    assert "2026-03-01 – 2026-03-05" in pdf_text(response.content)


def test_only_supervisors_and_admins(world):
    assert signed_in(world.alice).get("/reports/month.pdf?month=2026-03").status_code == 403
