"""The pre-hospital care record as a PDF (ReportLab): the only module that imports it.

Chinese text is set in ReportLab's built-in CID font STSong-Light (Adobe-GB1), which needs no
font file on the server: the PDF names the font and every reader (Acrobat, the browsers' own
viewers, Preview, Foxit, WPS) draws it with its own Song face. So the record has no system
dependency, at the price of a font that is not embedded.
"""

import io
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

BODY = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=14)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8, leading=11, textColor=colors.HexColor("#555555"))
TITLE = ParagraphStyle("title", parent=BODY, fontSize=18, leading=24, alignment=1)
HEADING = ParagraphStyle("heading", parent=BODY, fontSize=12, leading=18, spaceBefore=8, spaceAfter=2)
GRID = TableStyle(
    [
        ("FONT", (0, 0), (-1, -1), FONT, 9),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
    ]
)


# Characters STSong-Light (Adobe-GB1) has no glyph for, and what stands in for them; beyond the
# basic plane (emoji) a "?" says something was there.
NO_GLYPH = str.maketrans({"·": "，", "₂": "2"})


def plain(value: object) -> str:
    text = str(value if value is not None else "").translate(NO_GLYPH)
    return "".join(c if ord(c) < 0x10000 else "?" for c in text)


def text(value: object) -> Paragraph:
    """A table cell or line that wraps; the text is escaped (ReportLab reads a little markup)."""
    escaped = plain(value).replace("&", "&amp;").replace("<", "&lt;")
    return Paragraph(escaped.replace(">", "&gt;").replace("\n", "<br/>"), BODY)


def clock(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def number(value: float | int | None) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def labelled(rows: list[tuple[str, object]]) -> Table:
    table = Table([[text(k), text(v)] for k, v in rows], colWidths=[38 * mm, 132 * mm])
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), FONT, 9), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def patient_lines(r: dict[str, Any]) -> list[tuple[str, object]]:
    p = r["patient"]
    sex = {"M": _("Male"), "F": _("Female")}.get(p["sex"], "")
    age = _("%(age)s y") % {"age": p["age"]} if p["age"] is not None else ""
    return [
        (_("Patient"), "，".join(x for x in (p["name"], sex, age) if x) or "—"),
        (_("Scene"), r["address"] or "—"),
        (_("Chief complaint"), r["chief_complaint"] or "—"),
    ]


def triage_lines(r: dict[str, Any]) -> list[Flowable]:
    t = r["triage"]
    if not t["path"]:
        return [text(_("No triage protocol recorded."))]
    out: list[Flowable] = [text(t["protocol_name"] or "")]
    out += [text(f"{step['question']} — {step['answer']}") for step in t["path"]]
    return out


def vitals_table(r: dict[str, Any]) -> Flowable:
    if not r["vitals"]:
        return text(_("No vital signs recorded."))
    head = [_("Time")] + [plain(f"{label} {unit}".strip()) for label, unit in r["vital_columns"]]
    body = [[clock(at)[-5:]] + [number(v) for v in values] for at, values in r["vitals"]]
    table = Table([head, *body], repeatRows=1, hAlign="LEFT")
    table.setStyle(GRID)
    return table


def drugs_table(r: dict[str, Any]) -> Flowable:
    drugs = r["patient"]["drugs"] or []
    if not drugs:
        return text("—")
    head = [_("Drug"), _("Dose"), _("Route"), _("Given at")]
    body = [
        [text(d.get("name", "")), d.get("dose", ""), d.get("route", ""), d.get("given_at", "")] for d in drugs
    ]
    table = Table([head, *body], colWidths=[60 * mm, 40 * mm, 30 * mm, 40 * mm], repeatRows=1)
    table.setStyle(GRID)
    return table


def crew_table(r: dict[str, Any]) -> Flowable:
    rows = [[c["name"], c["role"]] for c in r["crew"]] or [["—", ""]]
    table = Table([[_("Crew"), _("Role")], *rows], colWidths=[85 * mm, 85 * mm])
    table.setStyle(GRID)
    return table


def care_record_pdf(r: dict[str, Any]) -> bytes:
    """The record as A4 pages."""
    buffer = io.BytesIO()
    title = _("Pre-hospital care record")
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{title} {r['incident_number']}",
        author=r["unit"],
    )
    p = r["patient"]
    story: list[Flowable] = [
        Paragraph(title, TITLE),
        text(f"{_('Incident')} {r['incident_number']}    {r['unit']} → {r['hospital']}"),
        Spacer(1, 4 * mm),
        labelled(patient_lines(r)),
        Paragraph(_("Times"), HEADING),
        labelled([(label, clock(at)) for label, at in r["times"]]),
        Paragraph(_("Triage"), HEADING),
        *triage_lines(r),
        Paragraph(_("Findings"), HEADING),
        text(p["findings"] or "—"),
        Paragraph(_("Vital signs"), HEADING),
        vitals_table(r),
        Paragraph(_("Interventions"), HEADING),
        text(p["interventions"] or "—"),
        Paragraph(_("Drugs"), HEADING),
        drugs_table(r),
        Paragraph(_("Crew"), HEADING),
        crew_table(r),
        Spacer(1, 4 * mm),
        labelled(
            [
                (_("Unit"), f"{r['unit']} {r['unit_phone']}".strip()),
                (_("Receiving clinician"), r["receiving_clinician"] or "________________"),
            ]
        ),
        Spacer(1, 6 * mm),
        Paragraph(f"{_('Printed')} {clock(r['printed_at'])}", SMALL),
    ]
    doc.build(story)
    return buffer.getvalue()
