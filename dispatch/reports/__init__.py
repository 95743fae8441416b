"""Response-time reports for supervisors and admins (read only: nothing here writes).

Intervals between the incident clocks (intervals.INTERVALS: answer, processing, turnout and
departure from the call, travel, response, on scene, transport, handover, job cycle) as
count, mean, median, exact 90th percentile and "X% within Y" against targets, computed in SQL
over the incidents of a period; the figures behind the charts; the incidents behind each
figure and their timelines; the data-quality list; CSV and Excel exports.

Decisions:
- Percentile: percentile_disc, nearest rank (numpy method="inverted_cdf"), over every incident
  of the period, never from daily figures. Values are milliseconds rounded up, so compliance
  ("<= 10 s") is exact; the percentiles are given in whole seconds rounded up, the exact ones
  rounded up (as the per-day rollups count them: docs/decisions/0021-whole-second-rollups.md),
  the means exact to the millisecond.
- The intervals are stored by PostgreSQL beside each incident (generated columns, migration
  0008) with a covering index on created_at: a report sorts small integers instead of
  subtracting timestamps. A year's summary runs as UNION ALL parts that PostgreSQL's parallel
  workers take one each (settings.REPORT_WORKERS).
- Data quality: an interval whose clocks are out of order or over a day is impossible; a clock
  missing while a later one is set is missing; a handover never completed although the unit
  cleared or the incident closed is unfinished (migration 0020). Such incidents are listed and
  counted, left out of the means and percentiles they would distort, and counted OUTSIDE the
  targets of those intervals ("unmeasured", shown beside each "X% within Y"): the worst delays
  cannot leave the denominator (intervals.unmeasurable_mask).
- Answering is measured from the calls, not the incidents (calls.py): every call that rang
  counts, abandoned and unmeasurable ones outside the target; an incident opened without a
  ringing call is left out, not a 0 s answer.
- Unit-hour utilisation is committed time over staffed time (crew shifts), per unit.
- Per dispatcher and per seat (people.py): calls answered, incidents dispatched, median
  processing, overrides of the recommendation.
- Targets: settings.REPORT_TARGETS (docs/targets.md defaults), overridden by the REPORT_TARGETS
  environment variable (see intervals.targets).
- Period and hour of day go by when the incident was created (local time); unit, station,
  district (the station's) and hospital filters match the units sent and not stood down.
  A period's days lie in the years FIRST_DAY.year to LAST_DAY.year (2000 to 2100).
- A goal is met when 100 x within >= goal x count, on the counts: never on a rounded
  percentage (figures.goal_met).
"""

from dispatch.reports.calls import answering
from dispatch.reports.figures import areas, distribution, summary, trend
from dispatch.reports.filters import FIRST_DAY, LAST_DAY, ReportError, ReportFilter, period
from dispatch.reports.incidents import Drill, all_incidents, incidents, timeline
from dispatch.reports.intervals import BY_KEY, CLOCK_LABELS, INTERVALS, targets
from dispatch.reports.people import people
from dispatch.reports.resources import handovers, response_by_priority, utilisation

__all__ = [
    "BY_KEY",
    "CLOCK_LABELS",
    "INTERVALS",
    "Drill",
    "FIRST_DAY",
    "LAST_DAY",
    "ReportError",
    "ReportFilter",
    "period",
    "all_incidents",
    "answering",
    "areas",
    "distribution",
    "handovers",
    "incidents",
    "people",
    "response_by_priority",
    "summary",
    "targets",
    "timeline",
    "trend",
    "utilisation",
]
