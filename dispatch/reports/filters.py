"""What a report covers: a period and optional filters, turned into one SQL WHERE clause."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from ..models import Priority

# A year report, leap years and a little slack for time-zone edges included.
MAX_SPAN = timedelta(days=370)


class ReportError(ValueError):
    """Bad report parameters: the API answers 400 with this message."""


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
            raise ReportError("The period must end after it starts.")
        if self.end - self.start > MAX_SPAN:
            raise ReportError("A report covers at most one year.")
        if self.priority is not None and self.priority not in Priority.values:
            raise ReportError(f"Priority must be 1 to 4, not {self.priority}.")
        if self.hour is not None and not 0 <= self.hour <= 23:
            raise ReportError(f"Hour of day must be 0 to 23, not {self.hour}.")

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
    the last 30 days up to today)."""
    if month:
        if not re.fullmatch(r"\d{4}-\d{2}", month) or not 1 <= int(month[5:]) <= 12:
            raise ReportError(f"A month is YYYY-MM, not {month!r}.")
        year, number = int(month[:4]), int(month[5:])
        after = date(year + number // 12, number % 12 + 1, 1)
        return local_midnight(date(year, number, 1)), local_midnight(after)
    end = end or timezone.localdate()
    start = start or end - timedelta(days=29)
    return local_midnight(start), local_midnight(end + timedelta(days=1))
