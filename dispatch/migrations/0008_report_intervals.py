"""Response-time reports: each interval stored beside the incident, for dispatch.reports.

PostgreSQL computes them (STORED generated columns), so every write through the actions keeps
them current and a year report sorts small integers instead of subtracting a million pairs of
timestamps per interval (measured: computing the intervals at read time cost more than the whole
1,000 ms budget). They are plain SQL, outside Django's model state, because the Incident model is
not the reports' to change: Django never selects or writes them, and `makemigrations` does not
see them.

Each value is milliseconds rounded UP (so "within 10 s" is exact: ceil(x ms) <= 10000 exactly
when x <= 10 s) and NULL when either clock is missing, the clocks are out of order, or the
interval is longer than a day (impossible; dispatch.reports lists those as data problems).
"""

from django.db import migrations

# (column suffix, start clock, end clock): the same table as dispatch.reports.INTERVALS.
INTERVALS = [
    ("answer", "call_received_at", "call_answered_at"),
    ("processing", "call_answered_at", "dispatched_at"),
    ("turnout", "dispatched_at", "en_route_at"),
    ("departure", "call_answered_at", "en_route_at"),
    ("travel", "en_route_at", "on_scene_at"),
    ("response", "call_received_at", "on_scene_at"),
    ("on_scene", "on_scene_at", "transport_started_at"),
    ("transport", "transport_started_at", "at_hospital_at"),
    ("handover", "at_hospital_at", "handover_at"),
    ("job_cycle", "dispatched_at", "unit_available_at"),
]


# The clocks in the order a job runs; a missing one with a later one present is a data problem.
CHAIN = [
    "call_received_at",
    "call_answered_at",
    "dispatched_at",
    "en_route_at",
    "on_scene_at",
    "transport_started_at",
    "at_hospital_at",
    "handover_at",
]
# A unit clears only after reaching the scene (fleet's status machine), so its clock proves the
# clocks up to on scene; after that, clearing without transport is normal.
PROVES_UP_TO_SCENE = "unit_available_at"


def add_column(name: str, start: str, end: str) -> str:
    return (
        f"ADD COLUMN report_{name}_ms integer GENERATED ALWAYS AS ("
        f"CASE WHEN {end} >= {start} AND {end} - {start} <= interval '1 day' "
        f"THEN ceil(extract(epoch FROM {end} - {start}) * 1000)::integer END) STORED"
    )


def impossible_bit(bit: int, start: str, end: str) -> str:
    return f"CASE WHEN {end} < {start} OR {end} - {start} > interval '1 day' THEN {1 << bit} ELSE 0 END"


def missing_bit(bit: int, index: int) -> str:
    later = CHAIN[index + 1 :] + ([PROVES_UP_TO_SCENE] if index <= CHAIN.index("on_scene_at") else [])
    present = " OR ".join(f"{clock} IS NOT NULL" for clock in later)
    return f"CASE WHEN {CHAIN[index]} IS NULL AND ({present}) THEN {1 << bit} ELSE 0 END"


# Bits 0-9: interval i impossible (out of order, or over a day). Bits 10-16: clock CHAIN[j]
# missing although a later one is set. dispatch.reports decodes them.
PROBLEMS = " + ".join(
    [impossible_bit(i, start, end) for i, (_, start, end) in enumerate(INTERVALS)]
    + [missing_bit(len(INTERVALS) + j, j) for j in range(len(CHAIN) - 1)]
)

FORWARD = [
    "ALTER TABLE dispatch_incident "
    + ", ".join(add_column(*interval) for interval in INTERVALS)
    + f", ADD COLUMN report_problems integer GENERATED ALWAYS AS ({PROBLEMS}) STORED",
    # Month and year reports read a range of created_at: an index-only scan once vacuumed.
    "CREATE INDEX incident_report_created ON dispatch_incident (created_at) "
    "INCLUDE (priority, report_problems, " + ", ".join(f"report_{name}_ms" for name, _, _ in INTERVALS) + ")",
    # The data-quality list (a few percent of the incidents), and its counts in every summary.
    "CREATE INDEX incident_report_problems ON dispatch_incident (created_at, report_problems) "
    "WHERE report_problems <> 0",
]
BACKWARD = [
    "DROP INDEX IF EXISTS incident_report_problems",
    "DROP INDEX IF EXISTS incident_report_created",
    "ALTER TABLE dispatch_incident "
    + ", ".join(f"DROP COLUMN IF EXISTS report_{name}_ms" for name, _, _ in INTERVALS)
    + ", DROP COLUMN IF EXISTS report_problems",
]


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0007_calls_caller_location")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
