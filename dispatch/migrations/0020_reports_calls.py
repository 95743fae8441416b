"""Reports (issue 18): a handover never completed is a data problem of its own.

An incident whose unit reached the hospital but whose handover was never recorded, although the
unit cleared or the incident was closed, cannot be measured for the handover interval; the
reports count it outside the handover targets (dispatch.reports.intervals.UNFINISHED_HANDOVER_BIT,
bit 17 of report_problems, after migration 0008's bits 0-16). A generated column's expression
cannot be changed in place on PostgreSQL 15, so report_problems is dropped and added again, and
the two indexes that hold it are built again as migration 0008 built them. An index of the
calls by their ring serves the answering figures.
"""

import importlib

from django.db import migrations

BEFORE = importlib.import_module("dispatch.migrations.0008_report_intervals")

UNFINISHED_HANDOVER_BIT = 17
UNFINISHED_HANDOVER = (
    "CASE WHEN at_hospital_at IS NOT NULL AND handover_at IS NULL "
    f"AND (unit_available_at IS NOT NULL OR status <> 'open') THEN {1 << UNFINISHED_HANDOVER_BIT} ELSE 0 END"
)


def problems_column(expression: str) -> list[str]:
    return [
        "DROP INDEX IF EXISTS incident_report_problems",
        "DROP INDEX IF EXISTS incident_report_created",
        "ALTER TABLE dispatch_incident DROP COLUMN IF EXISTS report_problems",
        "ALTER TABLE dispatch_incident ADD COLUMN report_problems integer "
        f"GENERATED ALWAYS AS ({expression}) STORED",
        *BEFORE.FORWARD[1:],
    ]


# Answering is measured from the calls (dispatch.reports.calls): a period's calls by their ring,
# read from the index alone once vacuumed. Plain SQL, as migration 0008's report indexes.
CALLS_INDEX = (
    "CREATE INDEX call_report_ringing ON dispatch_call (ringing_at) "
    "INCLUDE (answered_at, ended_at, status, answered_by_id)"
)


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0019_crew_corrections")]

    operations = [
        migrations.RunSQL(
            problems_column(f"{BEFORE.PROBLEMS} + {UNFINISHED_HANDOVER}"), problems_column(BEFORE.PROBLEMS)
        ),
        migrations.RunSQL(CALLS_INDEX, "DROP INDEX IF EXISTS call_report_ringing"),
    ]
