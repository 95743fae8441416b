"""What a report covers: a period and optional filters, turned into one SQL WHERE clause."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.core.actions import ActionError
from dispatch.models import Priority

# A year report, leap years and a little slack for time-zone edges included.
MAX_SPAN = timedelta(days=370)
# The days a report may name. Python's dates end at 9999-12-31 and the local midnight of
# 0001-01-01 is in year 0 in UTC, so the extremes overflowed (500s); no 120 centre has records
# from before 2000, and a century ahead is room enough for typing errors to be refused plainly.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
# Database ids (bigint): a longer number would make PostgreSQL refuse the query.
MAX_ID = 2**63 - 1


class ReportError(ActionError):
    """Bad report parameters, answered like any refused request (422 with the message and
    `code`); `param` and `value` name the query parameter to blame, so the pages can say which
    filter is wrong."""

    def __init__(
        self, message: str, code: str = "bad_report", param: str = "", value: object = "", status: int = 422
    ) -> None:
        super().__init__(message, code, status)
        self.param = param
        self.value = "" if value is None else str(value)


@dataclass(frozen=True)
class ReportFilter:
    """Incidents created in [start, end), narrowed by the optional fields.

    Unit, station, district and hospital match incidents that had such a unit sent (and not
    stood down) or were taken to that hospital; the intervals stay the incident's own, which are
    its first unit's times (dispatch.models.Incident). The hour of day is the local hour
    (settings.TIME_ZONE) the incident was created in.
    """

    start: datetime
    end: datetime
    priority: int | None = None
    unit: int | None = None
    station: int | None = None
    district: str = ""
    hospital: int | None = None
    hour: int | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ReportError("Give the period with a time zone.")
        if self.end <= self.start:
            raise ReportError(_("The period must end on or after its first day."), "end_before_start")
        if self.end - self.start > MAX_SPAN:
            raise ReportError(_("A report covers at most one year."), "period_too_long")
        if self.priority is not None and self.priority not in Priority.values:
            raise ReportError(
                f"Priority must be 1 to 4, not {self.priority}.", "bad_priority", "priority", self.priority
            )
        if self.hour is not None and not 0 <= self.hour <= 23:
            raise ReportError(f"Hour of day must be 0 to 23, not {self.hour}.", "bad_hour", "hour", self.hour)
        for name in ("unit", "station", "hospital"):
            value = getattr(self, name)
            if value is not None and not 0 < value <= MAX_ID:
                raise ReportError(f"No {name} has the number {value}.", "bad_id", name, value)

    def where(self, alias: str = "i") -> tuple[str, list]:
        """SQL condition on dispatch_incident AS `alias`, and its parameters."""
        clauses = [f"{alias}.created_at >= %s", f"{alias}.created_at < %s"]
        params: list = [self.start, self.end]
        if self.priority is not None:
            clauses.append(f"{alias}.priority = %s")
            params.append(self.priority)
        if self.hour is not None:
            clauses.append(f"extract(hour FROM {alias}.created_at AT TIME ZONE %s) = %s")
            params += [settings.TIME_ZONE, self.hour]
        sent, sent_params = self.assignment_condition()
        if sent:
            clauses.append(
                "EXISTS (SELECT 1 FROM dispatch_assignment fa JOIN fleet_unit fu ON fu.id = fa.unit_id "
                "LEFT JOIN fleet_station fs ON fs.id = fu.home_station_id "
                f"WHERE fa.incident_id = {alias}.id AND fa.cancelled_at IS NULL AND {sent})"
            )
            params += sent_params
        return " AND ".join(clauses), params

    def assignment_condition(self) -> tuple[str, list]:
        """The unit, station, district and hospital part, on assignment fa / unit fu / station fs."""
        clauses, params = [], []
        for column, value in (
            ("fa.unit_id", self.unit),
            ("fu.home_station_id", self.station),
            ("fa.hospital_id", self.hospital),
            ("fs.district", self.district or None),
        ):
            if value is not None:
                clauses.append(f"{column} = %s")
                params.append(value)
        return " AND ".join(clauses), params

    def index_only(self) -> bool:
        """Whether a query can read the covering index alone: unit, station, district and
        hospital filters need the incident's id, which it does not hold."""
        return not self.assignment_condition()[0]

    def as_query(self) -> dict:
        """The filter as query parameters (for links and exports)."""
        query = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        for name in ("priority", "unit", "station", "hospital", "hour"):
            if getattr(self, name) is not None:
                query[name] = getattr(self, name)
        if self.district:
            query["district"] = self.district
        return query


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time()))


def period(start: date | None = None, end: date | None = None, month: str = "") -> tuple[datetime, datetime]:
    """[start, end) in local time: a month (YYYY-MM), or days start..end inclusive (default:
    the last 30 days up to today, or up to `end`). Every day given must be in the years
    reports cover, even one a month overrides."""
    for name, day in (("start", start), ("end", end)):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise out_of_range(name, day)
    if month:
        if not re.fullmatch(r"\d{4}-\d{2}", month) or not 1 <= int(month[5:]) <= 12:
            raise ReportError(f"A month is YYYY-MM, not {month!r}.", "bad_month", "month", month)
        year, number = int(month[:4]), int(month[5:])
        if not FIRST_DAY.year <= year <= LAST_DAY.year:
            raise out_of_range("month", month)
        after = date(year + number // 12, number % 12 + 1, 1)
        return local_midnight(date(year, number, 1)), local_midnight(after)
    end = end or timezone.localdate()
    # The default start stops at the first day rather than refusing an `end` nobody mistyped.
    start = start or max(end - timedelta(days=29), FIRST_DAY)
    return local_midnight(start), local_midnight(end + timedelta(days=1))


def out_of_range(param: str, value: object) -> ReportError:
    """A day or month outside FIRST_DAY..LAST_DAY: well formed, so 422 (as the API's validation)."""
    return ReportError(
        f"{param} must be in the years {FIRST_DAY.year} to {LAST_DAY.year}, not {value}.",
        "date_out_of_range",
        param,
        value,
        status=422,
    )
