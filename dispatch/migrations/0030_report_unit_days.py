from django.db import migrations

# Unit-hour utilisation per unit and day in the report's rollups (dispatch.reports.rollups,
# UNIT_MEASURES): rows of dispatch_report_rollup, no new table. A day rolled up before them lacks
# UNITS_MARKER, and the rollup worker builds it again (rollups.missing_days); meanwhile its units
# are counted from the jobs and shifts. What those counts need: the jobs that reach into a
# period, found by their end (cleared, stood down, or still running: infinity) rather than by
# every job dispatched before the period's end.
CREATE = (
    "CREATE INDEX assignment_report_end ON dispatch_assignment "
    "((coalesce(cleared_at, cancelled_at, 'infinity'::timestamptz)))"
)
DROP = "DROP INDEX assignment_report_end"


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0029_report_rollups_whole_seconds")]

    operations: list = [migrations.RunSQL(CREATE, DROP)]
