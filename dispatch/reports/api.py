"""Response-time reports: figures, the incidents behind them, timelines and exports.

Supervisors and admins only (every endpoint here, exports included). Read only.
"""

from datetime import date, datetime

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from dispatch import reports
from dispatch.core.openapi import errors
from dispatch.core.permissions import REPORT_READERS, require_role
from dispatch.core.signed_in import SignedInRequest
from dispatch.models import Incident
from dispatch.reports import exports

router = Router(tags=["reports"])


class PeriodQuery(Schema):
    start: date | None = Field(None, description="first local day (default: 30 days ago)")
    end: date | None = Field(None, description="last local day, inclusive (default: today)")
    month: str = Field("", pattern=r"^(\d{4}-\d{2})?$", description="YYYY-MM instead of start/end")
    priority: int | None = Field(None, ge=1, le=4)
    unit: int | None = None
    station: int | None = None
    district: str = Field("", max_length=60)
    hospital: int | None = None
    hour: int | None = Field(None, ge=0, le=23, description="local hour of day the incident was created")


class IntervalQuery(Schema):
    interval: str = Field("response", max_length=20)


class TrendQuery(IntervalQuery):
    bucket: str = Field("day", pattern="^(day|hour)$")


class DrillQuery(Schema):
    interval: str = Field("", max_length=20)
    min_s: float | None = Field(
        None, ge=0, description="a histogram bin: intervals over this many seconds (0: from 0), with interval"
    )
    max_s: float | None = Field(
        None, ge=0, description="a histogram bin: intervals up to and including this many seconds"
    )
    over_target: bool = False
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    size: float | None = Field(None, gt=0, le=10, description="map cell size in degrees, with lon/lat")
    problems: bool = False
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0)


# The percentiles of the intervals (decision 0021): the exact ones rounded up to the whole second.
WHOLE_MEDIAN = "median (nearest rank), in whole seconds: the exact median rounded up"
WHOLE_P90 = "90th percentile (nearest rank), in whole seconds: the exact percentile rounded up"


class TargetOut(Schema):
    within_s: int
    goal_pct: float
    within: int
    of: int = Field(description="the denominator: measured and unmeasured (outside the target) together")
    pct: float | None
    met: bool


class IntervalOut(Schema):
    key: str
    label: str
    note: str
    count: int
    impossible: int = Field(description="incidents whose clocks for this interval are impossible")
    unmeasured: int = Field(
        description="should have this interval but cannot be measured (impossible, a clock missing, a "
        "handover never completed; for answering: abandoned and unmeasurable calls): outside every target"
    )
    mean_s: float | None = Field(description="the mean, in seconds (exact, to the millisecond)")
    median_s: float | None = Field(
        description="median (nearest rank), in whole seconds: the exact median rounded up"
    )
    p90_s: float | None = Field(
        description="90th percentile (nearest rank), in whole seconds: the exact percentile rounded up"
    )
    targets: list[TargetOut]


class CallsOut(Schema):
    offered: int = Field(description="calls that rang in the period, except those ringing now")
    answered: int
    abandoned: int = Field(description="the caller hung up before anyone answered")
    unmeasurable: int = Field(description="answered or ended with times that cannot be measured")
    ringing_now: int
    abandoned_wait_median_s: float | None = Field(
        description="how long the abandoned callers waited before hanging up, median, in whole seconds "
        "rounded up"
    )
    abandoned_wait_p90_s: float | None = Field(description="the same wait, 90th centile, whole seconds")
    abandoned_wait_max_s: float | None = Field(description="the same wait, the longest, whole seconds")
    called_back: int = Field(description="abandoned calls with at least one call back placed")
    called_back_pct: float | None = Field(description="called_back as a share of abandoned, in percent")
    call_back_median_s: float | None = Field(description="hang-up to the first call back placed, median")
    call_back_p90_s: float | None = Field(description="hang-up to the first call back placed, 90th centile")
    incident_filters_ignored: bool = Field(description="the incident filters set do not apply to calls")


class SummaryOut(Schema):
    start: datetime
    end: datetime
    incidents: int
    with_problems: int
    intervals: list[IntervalOut]
    calls: CallsOut


class BucketOut(Schema):
    bucket: str | int
    incidents: int
    count: int
    median_s: float | None = Field(None, description=WHOLE_MEDIAN)
    p90_s: float | None = Field(None, description=WHOLE_P90)
    pct: float | None


class BinOut(Schema):
    from_s: float = Field(description="the bin holds intervals over this (the first bin: from 0)")
    to_s: float | None = Field(description="up to and including this; None: the last bin, all beyond")
    count: int


class GoalOut(Schema):
    within_s: int
    goal_pct: float


class DistributionOut(Schema):
    interval: str
    bin_s: float = Field(description="the bins' width, whole seconds")
    bins: list[BinOut]
    targets: list[GoalOut]


class CellOut(Schema):
    lon: float
    lat: float
    incidents: int
    count: int
    median_s: float | None = Field(None, description=WHOLE_MEDIAN)
    p90_s: float | None = Field(None, description=WHOLE_P90)
    pct: float | None


class DistrictFiguresOut(Schema):
    incidents: int
    count: int = Field(description="incidents whose interval was measured")
    unmeasured: int = Field(description="should have the interval but cannot be measured: outside the target")
    median_s: float | None = Field(None, description=WHOLE_MEDIAN)
    p90_s: float | None = Field(None, description=WHOLE_P90)
    target: TargetOut | None = Field(description="compliance with the interval's first target")


class ReportDistrictOut(DistrictFiguresOut):
    id: int
    code: str
    name: str
    name_en: str
    outline: list = Field(description="the outline, simplified: GeoJSON MultiPolygon coordinates")
    label_at: list[float] = Field(description="lon, lat of a point inside the district, for its name")


class MapRoadsOut(Schema):
    road_class: int
    lines: list = Field(description="GeoJSON MultiLineString coordinates")


class AreasOut(Schema):
    interval: str
    cell_deg: float | None
    box: list[float] | None
    target_s: float | None
    cells: list[CellOut]
    districts: list[ReportDistrictOut] = Field(
        description="every district, with its incidents (point in polygon)"
    )
    outside: DistrictFiguresOut = Field(description="incidents located outside every district")
    unlocated: int = Field(description="incidents with no location")
    district_box: list[float] | None = Field(description="west, south, east, north of the districts")
    roads: list[MapRoadsOut] = Field(description="the road map's main roads in the districts' box")


class ReportUnitOut(Schema):
    id: int
    unit: str
    station: str
    jobs: int
    busy_h: float
    staffed_h: float = Field(description="hours a crew was on shift on the unit in the period")
    uhu: float | None = Field(description="unit-hour utilisation: committed share of the staffed time")


class ReportHospitalOut(Schema):
    hospital: int
    name: str
    count: int
    unmeasured: int = 0
    mean_s: float | None = Field(None, description="the mean, in seconds (exact, to the millisecond)")
    median_s: float | None = Field(None, description=WHOLE_MEDIAN)
    p90_s: float | None = Field(None, description=WHOLE_P90)
    targets: list[TargetOut] = []
    diversion_h: float


class PriorityOut(Schema):
    priority: int | None
    label: str | None
    incidents: int
    count: int
    mean_s: float | None = Field(None, description="the mean, in seconds (exact, to the millisecond)")
    median_s: float | None = Field(None, description=WHOLE_MEDIAN)
    p90_s: float | None = Field(None, description=WHOLE_P90)
    target_mean_s: int | None = None
    target_p90_s: int | None = None
    mean_met: bool | None = None
    p90_met: bool | None = None


class PersonFiguresOut(Schema):
    name: str
    calls_answered: int
    incidents_dispatched: int = Field(description="incidents whose first unit this one sent")
    processing_median_s: float | None = Field(
        description="median call processing (nearest rank), in whole seconds rounded up"
    )
    overrides: int = Field(description="units sent other than the first recommended")
    override_rank_median: int | None
    override_eta_median_s: float | None = Field(description="median ETA of the units chosen instead")
    override_slower_median_s: float | None = Field(
        description="median of how many seconds slower the unit chosen was than the top pick (the first "
        "recommended), over the overrides whose top pick's ETA is known; negative: faster"
    )
    override_eta_known: int = Field(description="overrides whose top pick's ETA is known")


class OverrideReasonOut(Schema):
    reason: str
    count: int


class ReportOverrideOut(Schema):
    assignment: int
    incident: str
    dispatched_at: datetime
    unit: str
    rank: int
    eta_s: float | None = Field(description="the unit chosen: its ETA at dispatch")
    top_pick_eta_s: float | None = Field(description="the first recommended unit's ETA at dispatch")
    slower_s: float | None = Field(description="eta_s minus top_pick_eta_s")
    reason: str


class DispatcherOut(PersonFiguresOut):
    user: int
    reasons: list[OverrideReasonOut]
    override_list: list[ReportOverrideOut] = Field(description="the most recent overrides, one by one")


class SeatFiguresOut(PersonFiguresOut):
    seat: int | None = Field(description="None: signed on to no seat")


class PeopleOut(Schema):
    dispatchers: list[DispatcherOut]
    seats: list[SeatFiguresOut]


class ProblemOut(Schema):
    code: str
    text: str
    interval: str | None = None
    clock: str | None = None


class IncidentRowOut(Schema):
    id: int
    number: str
    created_at: datetime
    priority: int | None
    status: str
    units: str
    hospitals: str
    intervals: dict[str, float | None]
    problems: list[ProblemOut]


class IncidentPageOut(Schema):
    total: int
    limit: int
    offset: int
    rows: list[IncidentRowOut]


class ClockOut(Schema):
    clock: str
    label: str
    at: datetime


class TimelineAssignmentOut(Schema):
    unit: str
    hospital: str
    dispatched_at: datetime
    on_scene_at: datetime | None
    handover_at: datetime | None
    cleared_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str


class TimelineEventOut(Schema):
    seq: int
    at: datetime
    kind: str
    actor: str
    unit: str
    hospital: str
    data: dict


class TimelineOut(Schema):
    id: int
    number: str
    status: str
    priority: int | None
    clocks: list[ClockOut]
    problems: list[ProblemOut]
    assignments: list[TimelineAssignmentOut]
    events: list[TimelineEventOut]


# Reports are for supervisors and admins (403 for everyone else).
REPORT_ERRORS = errors(403)


def download(media_type: str) -> dict:
    """An export's answer: a file of this type (Content-Disposition names it)."""
    binary = {"type": "string", "format": "binary"}
    return {"responses": {200: {"description": "the file", "content": {media_type: {"schema": binary}}}}}


def report_filter(request: HttpRequest, q: PeriodQuery) -> reports.ReportFilter:
    """The filter for a supervisor or admin (403 for anyone else; a bad period raises
    ReportError, answered as every ActionError is)."""
    require_role(request, *REPORT_READERS)
    start, end = reports.period(q.start, q.end, q.month)
    return reports.ReportFilter(
        start=start,
        end=end,
        priority=q.priority,
        unit=q.unit,
        station=q.station,
        district=q.district.strip(),
        hospital=q.hospital,
        hour=q.hour,
    )


def drill(q: DrillQuery) -> reports.Drill:
    area = None
    if q.lon is not None or q.lat is not None or q.size is not None:
        if q.lon is None or q.lat is None or q.size is None:
            raise HttpError(422, "A map cell needs lon, lat and size.")
        area = (q.lon, q.lat, q.size)
    return reports.Drill(
        interval=q.interval,
        min_s=q.min_s,
        max_s=q.max_s,
        over_target=q.over_target,
        area=area,
        problems=q.problems,
    )


@router.get(
    "/reports/summary",
    response={200: SummaryOut, **REPORT_ERRORS},
    summary="Every interval: count, mean, median, p90, compliance",
)
def report_summary(request: SignedInRequest, q: Query[PeriodQuery]) -> dict:
    f = report_filter(request, q)
    return {"start": f.start, "end": f.end, **reports.summary(f)}


@router.get(
    "/reports/trend",
    response={200: list[BucketOut], **REPORT_ERRORS},
    summary="One interval by day or by hour of day",
)
def report_trend(request: SignedInRequest, q: Query[PeriodQuery], t: Query[TrendQuery]) -> list[dict]:
    return reports.trend(report_filter(request, q), t.interval, t.bucket)


@router.get(
    "/reports/distribution",
    response={200: DistributionOut, **REPORT_ERRORS},
    summary="A histogram of one interval",
)
def report_distribution(request: SignedInRequest, q: Query[PeriodQuery], i: Query[IntervalQuery]) -> dict:
    return reports.distribution(report_filter(request, q), i.interval)


@router.get(
    "/reports/areas",
    response={200: AreasOut, **REPORT_ERRORS},
    summary="Incidents and one interval by map area",
)
def report_areas(request: SignedInRequest, q: Query[PeriodQuery], i: Query[IntervalQuery]) -> dict:
    return reports.areas(report_filter(request, q), i.interval)


@router.get(
    "/reports/units",
    response={200: list[ReportUnitOut], **REPORT_ERRORS},
    summary="Unit-hour utilisation per unit",
)
def report_units(request: SignedInRequest, q: Query[PeriodQuery]) -> list[dict]:
    return reports.utilisation(report_filter(request, q))


@router.get(
    "/reports/hospitals",
    response={200: list[ReportHospitalOut], **REPORT_ERRORS},
    summary="Handover times and diversion hours",
)
def report_hospitals(request: SignedInRequest, q: Query[PeriodQuery]) -> list[dict]:
    return reports.handovers(report_filter(request, q))


@router.get(
    "/reports/priorities",
    response={200: list[PriorityOut], **REPORT_ERRORS},
    summary="Response by priority against its own targets",
)
def report_priorities(request: SignedInRequest, q: Query[PeriodQuery]) -> list[dict]:
    return reports.response_by_priority(report_filter(request, q))


@router.get(
    "/reports/people",
    response={200: PeopleOut, **REPORT_ERRORS},
    summary="Per dispatcher and per seat: calls, dispatches, processing, overrides",
)
def report_people(request: SignedInRequest, q: Query[PeriodQuery]) -> dict:
    return reports.people(report_filter(request, q))


@router.get(
    "/reports/incidents",
    response={200: IncidentPageOut, **REPORT_ERRORS},
    summary="The incidents behind a figure",
)
def report_incidents(request: SignedInRequest, q: Query[PeriodQuery], d: Query[DrillQuery]) -> dict:
    f = report_filter(request, q)
    return reports.incidents(f, drill(d), limit=d.limit, offset=d.offset)


@router.get(
    "/reports/incidents/{incident_id}/timeline",
    response={200: TimelineOut, **REPORT_ERRORS},
    summary="One incident's full timeline",
)
def report_timeline(request: SignedInRequest, incident_id: int) -> dict:
    require_role(request, *REPORT_READERS)
    return reports.timeline(get_object_or_404(Incident, pk=incident_id))


@router.get(
    "/reports/export.csv",
    response={200: None, **REPORT_ERRORS},
    openapi_extra=download("text/csv"),
    summary="CSV: the summary, or every incident (table=incidents), or the data-quality list",
)
def export_csv(
    request: SignedInRequest, q: Query[PeriodQuery], table: str = "summary"
) -> StreamingHttpResponse:
    f = report_filter(request, q)
    if table not in exports.CSV_TABLES:
        raise HttpError(422, f"table must be one of {', '.join(exports.CSV_TABLES)}.")
    response = StreamingHttpResponse(exports.csv_lines(f, table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{exports.filename(f, table, "csv")}"'
    return response


@router.get(
    "/reports/export.xlsx",
    response={200: None, **REPORT_ERRORS},
    summary="Excel workbook of the report",
    openapi_extra=download(exports.XLSX_TYPE),
)
def export_xlsx(request: SignedInRequest, q: Query[PeriodQuery]) -> HttpResponse:
    f = report_filter(request, q)
    response = HttpResponse(exports.workbook_bytes(f), content_type=exports.XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{exports.filename(f, "report", "xlsx")}"'
    return response
