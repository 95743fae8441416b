"""The reports pages: the interactive report (its figures come from /api/reports/...) and the
printable month report, rendered on the server. Supervisors and admins only."""

import re
from datetime import date

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dispatch import reports
from dispatch.core.permissions import REPORT_READERS, role_required
from dispatch.core.signed_in import SignedInRequest
from dispatch.models import Priority
from dispatch.reports import charts, exports, pdf
from fleet.models import Station, Unit, UnitStatus
from hospitals.models import Hospital

# Reports are for supervisors and administrators.
for_report_readers = role_required(
    *REPORT_READERS, message=gettext_lazy("Reports are for supervisors and administrators.")
)


def filter_from(params: QueryDict) -> reports.ReportFilter:
    """The report filter from a page's query string; ReportError naming the parameter when bad."""

    def number(name: str) -> int | None:
        value = params.get(name, "").strip()
        if not value:
            return None
        if not re.fullmatch(r"[0-9]{1,19}", value):
            raise reports.ReportError(f"{name} must be a number, not {value!r}.", "not_a_number", name, value)
        return int(value)

    def day(name: str) -> date | None:
        value = params.get(name, "").strip()
        if not value:
            return None
        try:
            # fromisoformat alone would also take 20260301 and 2026-W10-1.
            if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
                return date.fromisoformat(value)
        except ValueError:
            pass
        raise reports.ReportError(f"{name} must be YYYY-MM-DD, not {value!r}.", "not_a_date", name, value)

    start, end = reports.period(day("start"), day("end"), params.get("month", "").strip())
    return reports.ReportFilter(
        start=start,
        end=end,
        priority=number("priority"),
        unit=number("unit"),
        station=number("station"),
        district=params.get("district", "").strip(),
        hospital=number("hospital"),
        hour=number("hour"),
    )


# The filters as the error page names them.
FILTER_LABELS = {
    "start": gettext_lazy("first day"),
    "end": gettext_lazy("last day"),
    "month": gettext_lazy("month"),
    "priority": gettext_lazy("Priority"),
    "unit": gettext_lazy("Unit"),
    "station": gettext_lazy("Station"),
    "hospital": gettext_lazy("Hospital"),
    "hour": gettext_lazy("Hour of day"),
}


def expected(param: str) -> str:
    """What a filter's value should look like, in the page's language."""
    years = {"first": reports.FIRST_DAY.year, "last": reports.LAST_DAY.year}
    today = timezone.localdate()
    if param in ("start", "end"):
        return _("a day written YYYY-MM-DD, such as %(example)s, in the years %(first)s to %(last)s") % {
            "example": f"{today:%Y-%m-%d}",
            **years,
        }
    if param == "month":
        return _("a month written YYYY-MM, such as %(example)s, in the years %(first)s to %(last)s") % {
            "example": f"{today:%Y-%m}",
            **years,
        }
    if param == "priority":
        return _("a priority from 1 to 4")
    if param == "hour":
        return _("an hour of the day from 0 to 23")
    return _("one of the choices in the list")


def period_problem(error: reports.ReportError, params: QueryDict) -> str:
    """The message for a period that is wrong as a whole (no one filter to blame), with the
    days given when both were (a missing one is today or 30 days before the other)."""
    given = {"start": params.get("start", "").strip(), "end": params.get("end", "").strip()}
    both = all(given.values())
    if error.code == "end_before_start" and both:
        text = _("The period must end on or after its first day, not run from %(start)s to %(end)s.")
        return text % given
    if error.code == "end_before_start":
        return _("The period must end on or after its first day.")
    if error.code == "period_too_long" and both:
        return _("A report covers at most one year, not %(start)s to %(end)s.") % given
    if error.code == "period_too_long":
        return _("A report covers at most one year.")
    return str(error)


def bad_filter(request: HttpRequest, error: reports.ReportError, back: str) -> HttpResponse:
    """The 400 page for a bad filter: which one, the value given (escaped by the template, as
    everything it shows), what it should look like, and the way back to the unfiltered report."""
    label = FILTER_LABELS.get(error.param)
    context = {
        "label": label,
        "value": Truncator(error.value).chars(80),
        "expected": expected(error.param) if label else "",
        "problem": "" if label else period_problem(error, request.GET),
        "back": reverse(back),
        **kept_form(request.GET, error.param, month=back == "reports_month"),
    }
    return render(request, "reports_bad_filter.html", context, status=400)


def kept_form(params: QueryDict, bad: str, *, month: bool) -> dict:
    """The period as given, to correct in place (the wrong value itself stays in its field for a
    period; a wrong other filter is dropped), and every other filter kept as it was."""
    shown = ("month",) if month else ("start", "end")
    fields = {name: params.get(name, "").strip()[:40] for name in shown}
    if bad in fields:
        fields[bad] = ""
    kept = [
        (name, value[:80])
        for name, value in params.items()
        if name not in (*shown, bad) and name in FILTER_LABELS | {"district": ""} and value
    ]
    return {"form_fields": fields, "form_kept": kept, "form_month": month}


def choices() -> dict:
    """What the filter lists offer."""
    stations = list(Station.objects.order_by("code"))
    return {
        "stations": stations,
        "districts": sorted({s.district for s in stations if s.district}),
        "units": Unit.objects.order_by("call_sign"),
        "hospitals": Hospital.objects.order_by("name"),
        "priorities": Priority.choices,
        "hours": range(24),
    }


def page_config() -> dict:
    """The intervals, targets and words the page's script needs, in the page's language."""
    goals = reports.targets()
    return {
        "intervals": [
            {
                "key": iv.key,
                "label": str(iv.label),
                "note": str(iv.note),
                "targets": [{"within_s": g.within_s, "goal_pct": g.goal_pct} for g in goals.get(iv.key, ())],
            }
            for iv in reports.INTERVALS
        ],
        "labels": script_labels(),
        "priorities": {value: str(label) for value, label in Priority.choices},
        # For the timeline's words: a unit's statuses and the clocks a status stamps.
        "statuses": {value: str(label) for value, label in UnitStatus.choices},
        "clocks": {
            **{name: str(label) for name, label in reports.CLOCK_LABELS.items()},
            "cleared_at": str(reports.CLOCK_LABELS["unit_available_at"]),
        },
        "time_zone": settings.TIME_ZONE,
    }


def script_labels() -> dict:
    return {
        "loading": _("Loading…"),
        "failed": _("Could not load the report"),
        "none": _("No incidents in this period."),
        "incidents": _("incidents"),
        "count": _("measured"),
        "median": _("median"),
        "p90": _("90th percentile"),
        "mean": _("mean"),
        "target": _("target"),
        "within": _("within"),
        "goal": _("goal"),
        "met": _("met"),
        "missed": _("missed"),
        "day": _("by day"),
        "hour": _("by hour of day"),
        "seconds": _("s"),
        "minutes": _("min"),
        "over_target": _("over target"),
        "number": _("Number"),
        "created": _("Created"),
        "priority": _("Priority"),
        "units": _("Units"),
        "hospitals": _("Hospitals"),
        "value": _("Value"),
        "problems": _("Data problems"),
        "timeline": _("Timeline"),
        "clocks": _("Clocks"),
        "events": _("Who did what"),
        "close": _("Close"),
        "more": _("Show more"),
        "jobs": _("jobs"),
        "busy_h": _("busy hours"),
        "uhu": _("utilisation"),
        "handover": _("handover"),
        "diversion_h": _("diversion hours"),
        "untriaged": _("Not triaged"),
        "no_target": _("no target set"),
        "hospital": _("Hospital"),
        "unit": _("Unit"),
        "station": _("Station"),
        "cell": _("area"),
        # The map's legend: how an area's times compare with the interval's first target.
        "area_ok": _("90% within target"),
        "area_warn": _("median within"),
        "area_bad": _("median over"),
        "unmeasured": _("incl. %(n)s unmeasured, counted outside"),
        "staffed_h": _("staffed hours"),
        "no_shift": _("no crew on shift in this period"),
        "eta": _("ETA"),
        "rank": _("recommendation no. %(rank)s"),
        "calls_answered": _("calls answered"),
        "incidents_dispatched": _("incidents dispatched"),
        "processing": _("median processing"),
        "overrides": _("overrides"),
        "override_eta": _("median ETA of the unit chosen"),
        "reasons": _("override reasons"),
        "dispatcher": _("Dispatcher"),
        "seat": _("Seat"),
        "no_seat": _("signed on to no seat"),
        "slower": _("median slower than the top pick"),
        "known": _("%(known)s of %(n)s known"),
        "overrides_by": _("Overrides by %(name)s"),
        "dispatched": _("Dispatched at"),
        "rank_no": _("recommendation no."),
        "eta_chosen": _("ETA of the unit chosen"),
        "eta_top": _("ETA of the top pick"),
        "slower_one": _("slower than the top pick"),
        "reason": _("Reason"),
        "districts_none": _("No district boundaries loaded: import the centre's districts."),
        "outside": _("outside every district"),
        "no_measure": _("nothing measured"),
    }


@for_report_readers
def reports_page(request: SignedInRequest) -> HttpResponse:
    try:
        f = filter_from(request.GET)
    except reports.ReportError as error:
        return bad_filter(request, error, "reports")
    return render(
        request,
        "reports.html",
        {
            "filter": f,
            "start": timezone.localtime(f.start).date(),
            "last": timezone.localtime(f.end).date() - date.resolution,
            "config": page_config(),
            **choices(),
        },
    )


def readable(seconds: float | None) -> str:
    """Seconds as the page's script shows them: "8.4 s" under two minutes, "12:05 min" above."""
    if seconds is None:
        return "–"
    if seconds < 120:
        return f"{seconds:.1f} {_('s')}"
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d} {_('min')}"


def readable_rows(rows: list[dict]) -> list[dict]:
    """The rows with mean, median and 90th percentile as text for the printed page."""
    return [
        {
            **row,
            **{f"{name}_text": readable(row.get(f"{name}_s")) for name in ("mean", "median", "p90")},
            "targets": [
                {**t, "within_text": short(t["within_s"]), "pct_text": share_text(t["within"], t["of"])}
                for t in row.get("targets", ())
            ],
            "uhu_text": percent_text(row.get("uhu")),
        }
        for row in rows
    ]


def percent_text(share: float | None) -> str:
    """A share (0.0123) as the page shows a utilisation: "1.2%", two places under 1%, "–" if none."""
    if share is None:
        return "–"
    return f"{100 * share:.2f}%" if 0 < share < 0.01 else f"{100 * share:.1f}%"


def share_text(within: int, count: int) -> str:
    """within/count as a percentage to one place, rounded down (in whole numbers): 17,999 of
    20,000 reads 89.9, never a 90.0 beside the red badge of a missed 90% goal."""
    return f"{1000 * within // count / 10:.1f}" if count else "–"


def priority_rows(rows: list[dict]) -> list[dict]:
    """Response by priority for the printed page: the figures and the targets as text."""
    return [
        {
            **row,
            "label": row["label"] or _("Not triaged"),
            "target_mean_text": short(row["target_mean_s"]) if row["target_mean_s"] else None,
            "target_p90_text": short(row["target_p90_s"]) if row["target_p90_s"] else None,
        }
        for row in readable_rows(rows)
    ]


def short(seconds: int) -> str:
    """A target as people say it: 10 s, 3 min, 15 min."""
    return f"{seconds // 60} {_('min')}" if seconds >= 120 and seconds % 60 == 0 else f"{seconds} {_('s')}"


@for_report_readers
def month_report(request: SignedInRequest) -> HttpResponse:
    """One month on paper: every interval, the days, hospitals, units and the data problems."""
    params = request.GET.copy()
    params.setdefault("month", f"{timezone.localdate():%Y-%m}")
    try:
        f = filter_from(params)
    except reports.ReportError as error:
        return bad_filter(request, error, "reports_month")
    return render(request, "reports_month.html", month_context(f, params))


@for_report_readers
def month_pdf(request: SignedInRequest) -> HttpResponse:
    """The month report as a PDF file: the same template and figures, laid out by WeasyPrint
    with the print styles (dispatch/reports/pdf.py). A month, or a period from start to end."""
    params = request.GET.copy()
    if not (params.get("start") or params.get("end")):
        params.setdefault("month", f"{timezone.localdate():%Y-%m}")
    try:
        f = filter_from(params)
    except reports.ReportError as error:
        return bad_filter(request, error, "reports_month")
    context = month_context(f, params)
    html = render(request, "reports_month.html", {**context, "pdf": True}).content.decode()
    response = HttpResponse(pdf.month_pdf_bytes(html), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{exports.filename(f, "month", "pdf")}"'
    return response


def month_context(f: reports.ReportFilter, params: QueryDict) -> dict:
    """What the month report shows, for the page and its PDF alike."""
    summary = reports.summary(f)
    units = reports.utilisation(f)
    all_units = params.get("units") == "all"
    first, last = timezone.localtime(f.start).date(), timezone.localtime(f.end).date() - date.resolution
    days = reports.trend(f, "response", "day")
    areas = reports.areas(f, "response")
    return {
        "filter": f,
        "month": params.get("month") or f"{first:%Y-%m-%d} – {last:%Y-%m-%d}",
        "pdf_link": f"{reverse('reports_month_pdf')}?{params.urlencode()}",
        "day_chart": charts.days_svg(days, reports.targets().get("response", ())),
        "district_map": charts.districts_svg(areas),
        "districts": readable_districts(areas),
        "summary": summary,
        "intervals": readable_rows(summary["intervals"]),
        "days": readable_rows(days),
        "priorities": priority_rows(reports.response_by_priority(f)),
        "hospitals": readable_rows(reports.handovers(f)),
        "units": readable_rows(units if all_units else units[:MONTH_UNITS]),
        "units_total": len(units),
        "units_all_link": "" if all_units or len(units) <= MONTH_UNITS else all_units_link(params),
        "calls": readable_calls(summary["calls"]),
        "people": readable_people(reports.people(f)),
        "problems": reports.incidents(f, reports.Drill(problems=True), limit=200),
        "generated_at": timezone.now(),
    }


def readable_districts(areas: dict) -> dict:
    """The districts' response figures as the printed page shows them, and those outside."""

    def text(row: dict) -> dict:
        target = row["target"]
        return {
            **row,
            "median_text": readable(row["median_s"]),
            "p90_text": readable(row["p90_s"]),
            "pct_text": share_text(target["within"], target["of"]) if target else "–",
            "within_text": short(target["within_s"]) if target else "",
        }

    return {"rows": [text(d) for d in areas["districts"]], "outside": text(areas["outside"])}


# The printed month lists the busiest units; the rest are a link away.
MONTH_UNITS = 30


def all_units_link(params: QueryDict) -> str:
    query = params.copy()
    query["units"] = "all"
    return f"{reverse('reports_month')}?{query.urlencode()}"


def readable_people(people: dict) -> dict:
    def text(row: dict) -> dict:
        return {
            **row,
            "processing_text": readable(row["processing_median_s"]),
            "eta_text": readable(row["override_eta_median_s"]),
            "slower_text": slower_text(row["override_slower_median_s"]),
            "override_list": [
                {
                    **o,
                    "eta_text": readable(o["eta_s"]),
                    "top_pick_text": readable(o["top_pick_eta_s"]),
                    "slower_text": slower_text(o["slower_s"]),
                }
                for o in row.get("override_list", ())
            ],
        }

    return {group: [text(row) for row in rows] for group, rows in people.items()}


def slower_text(seconds: float | None) -> str:
    """How much slower than the top pick, signed: "+1:05 min", "−12.0 s", "±0.0 s"."""
    if seconds is None:
        return "–"
    sign = "+" if seconds > 0 else "−" if seconds < 0 else "±"
    return sign + readable(abs(seconds))


def readable_calls(calls: dict) -> dict:
    return {
        **calls,
        **{f"{name}_text": readable(calls[f"abandoned_wait_{name}_s"]) for name in ("median", "p90", "max")},
    }


# Included from dispatch/urls.py under /reports/.
urlpatterns = [
    path("", reports_page, name="reports"),
    path("month/", month_report, name="reports_month"),
    path("month.pdf", month_pdf, name="reports_month_pdf"),
]
