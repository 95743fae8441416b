"""CSV and Excel exports of a report: the summary, every incident, the data-quality list."""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.core.spreadsheet import cell, inert
from dispatch.reports.figures import summary
from dispatch.reports.filters import ReportFilter
from dispatch.reports.incidents import Drill, all_incidents
from dispatch.reports.intervals import INTERVALS

CSV_TABLES = ("summary", "incidents", "quality")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A workbook is built in memory: past this many incidents, export the CSV (which streams).
XLSX_MAX_INCIDENTS = 100_000


def filename(f: ReportFilter, table: str, extension: str) -> str:
    """120-<table>-<first day>-<last day>: the days as chosen, the last one included (the period
    ends at the midnight after it)."""
    last = timezone.localtime(f.end - timedelta(microseconds=1)).date()
    return f"120-{table}-{timezone.localtime(f.start):%Y%m%d}-{last:%Y%m%d}.{extension}"


def summary_header() -> list[str]:
    return [
        _("interval"),
        _("name"),
        _("count"),
        _("impossible"),
        _("unmeasured (outside target)"),
        _("mean (s)"),
        _("median (s)"),
        _("90th percentile (s)"),
        _("target (s)"),
        _("goal (%)"),
        _("within target"),
        _("within target (%)"),
        _("goal met"),
    ]


def summary_rows(f: ReportFilter) -> Iterator[list]:
    """One row per interval and target (an interval without a target has one row)."""
    for iv in summary(f)["intervals"]:
        head = [
            iv["key"],
            iv["label"],
            iv["count"],
            iv["impossible"],
            iv["unmeasured"],
            iv["mean_s"],
            iv["median_s"],
            iv["p90_s"],
        ]
        for target in iv["targets"] or [None]:
            if target is None:
                yield [*head, None, None, None, None, None]
            else:
                yield [
                    *head,
                    target["within_s"],
                    target["goal_pct"],
                    target["within"],
                    target["pct"],
                    target["met"],
                ]


def incident_header() -> list[str]:
    return [
        _("id"),
        _("number"),
        _("created"),
        _("priority"),
        _("status"),
        _("units"),
        _("hospitals"),
        *(f"{iv.key} (s)" for iv in INTERVALS),
        _("data problems"),
    ]


def incident_rows(f: ReportFilter, drill: Drill, cap: int | None = None, zone: bool = True) -> Iterator[list]:
    """Every incident's row. `created` is local time; with `zone` (CSV) it carries its offset
    (ISO 8601, 2026-03-01T09:00:00+08:00), without (Excel, whose cells hold no zone) it is bare."""
    for row in all_incidents(f, drill, cap=cap):
        created = timezone.localtime(row["created_at"])
        yield [
            row["id"],
            row["number"],
            created if zone else created.replace(tzinfo=None),
            row["priority"],
            row["status"],
            row["units"],
            row["hospitals"],
            *(row["intervals"][iv.key] for iv in INTERVALS),
            "; ".join(p["text"] for p in row["problems"]),
        ]


def table_rows(f: ReportFilter, table: str) -> tuple[list[str], Iterable[list]]:
    if table == "summary":
        return summary_header(), summary_rows(f)
    return incident_header(), incident_rows(f, Drill(problems=table == "quality"))


def csv_lines(f: ReportFilter, table: str) -> Iterator[str]:
    """The CSV text, line by line (streamed: a year of incidents is a million lines). A byte
    order mark first, so spreadsheet programs read the Chinese as UTF-8."""
    header, rows = table_rows(f, table)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield "\ufeff" + pop(buffer)
    for row in rows:
        writer.writerow([cell(value) for value in row])
        yield pop(buffer)


def pop(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def workbook_bytes(f: ReportFilter) -> bytes:
    """An .xlsx with three sheets: Summary, Incidents (at most XLSX_MAX_INCIDENTS) and Data quality."""
    # Imported here, as pdf.py imports WeasyPrint: openpyxl takes a quarter of a second to import,
    # which every app process would otherwise pay on its first request to any page.
    from openpyxl import Workbook  # noqa: PLC0415

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Summary"))
    sheet.append([_("From"), timezone.localtime(f.start).replace(tzinfo=None)])
    sheet.append([_("Until"), timezone.localtime(f.end).replace(tzinfo=None)])
    sheet.append([])
    fill(sheet, summary_header(), summary_rows(f))
    sheet = book.create_sheet(_("Incidents"))
    count = fill(sheet, incident_header(), incident_rows(f, Drill(), cap=XLSX_MAX_INCIDENTS + 1, zone=False))
    if count > XLSX_MAX_INCIDENTS:
        sheet.append([_("More incidents than fit here: export the CSV for all of them.")])
    fill(
        book.create_sheet(_("Data quality")),
        incident_header(),
        incident_rows(f, Drill(problems=True), zone=False),
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def fill(sheet, header: list[str], rows: Iterable[list]) -> int:
    sheet.append(header)
    count = 0
    for row in rows:
        count += 1
        if count <= XLSX_MAX_INCIDENTS:
            # openpyxl stores a text that starts with "=" as a formula.
            sheet.append([inert(value) if isinstance(value, str) else value for value in row])
    return count
