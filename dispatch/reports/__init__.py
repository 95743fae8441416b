"""Response-time reports for supervisors and admins (read only: nothing here writes).

Intervals between the incident clocks (intervals.INTERVALS: answer, processing, turnout and
departure from the call, travel, response, on scene, transport, handover, job cycle) as
count, mean, median, exact 90th percentile and "X% within Y" against targets, computed in SQL
over the incidents of a period; the figures behind the charts; the incidents behind each
figure and their timelines; the data-quality list; CSV and Excel exports.

Decisions:
- Percentile: percentile_disc, nearest rank (numpy method="inverted_cdf"), over every incident
  of the period, never from daily figures. Values are milliseconds rounded up, so compliance
  ("<= 10 s") is exact and a percentile is exact to the millisecond.
- The intervals are stored by PostgreSQL beside each incident (generated columns, migration
  0008) with a covering index on created_at: a report sorts small integers instead of
  subtracting timestamps. A year's summary runs as UNION ALL parts that PostgreSQL's parallel
  workers take one each (settings.REPORT_WORKERS).
- Data quality: an interval whose clocks are out of order or over a day is impossible; a clock
  missing while a later one is set is missing. Such incidents are listed and counted, and left
  out of only the intervals they would distort (an unanswered call is not a 0 s answer).
- Targets: settings.REPORT_TARGETS (docs/targets.md defaults), overridden by the REPORT_TARGETS
  environment variable (see intervals.targets).
- Period and hour of day go by when the incident was created (local time); unit, station,
  district (the station's) and hospital filters match the units sent and not stood down.
  A period's days lie in the years FIRST_DAY.year to LAST_DAY.year (2000 to 2100).
- A goal is met when 100 x within >= goal x count, on the counts: never on a rounded
  percentage (figures.goal_met).
"""

from dispatch.reports.figures import areas, distribution, summary, trend
from dispatch.reports.filters import FIRST_DAY, LAST_DAY, ReportError, ReportFilter, period
from dispatch.reports.incidents import Drill, all_incidents, incidents, timeline
from dispatch.reports.intervals import BY_KEY, INTERVALS, targets
from dispatch.reports.resources import handovers, response_by_priority, utilisation

__all__ = [
    "BY_KEY",
    "INTERVALS",
    "Drill",
    "FIRST_DAY",
    "LAST_DAY",
    "ReportError",
    "ReportFilter",
    "period",
    "all_incidents",
    "areas",
    "distribution",
    "handovers",
    "incidents",
    "response_by_priority",
    "summary",
    "targets",
    "timeline",
    "trend",
    "utilisation",
]
