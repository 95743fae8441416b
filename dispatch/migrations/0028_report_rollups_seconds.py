from django.db import migrations

# The report's rollups in whole seconds (docs/decisions/0021-whole-second-rollups.md): answering's
# measures need no new table (they are rows of dispatch_report_rollup, filled by
# build_report_rollups and the rollup worker). What the page still reads from the rows besides
# them: the people page's latest overrides, per dispatcher, newest first
# (dispatch.reports.people.override_list). This index walks one dispatcher's overrides newest
# first and stops at the few shown, instead of numbering every override of the period.
CREATE = (
    "CREATE INDEX assignment_report_overrides ON dispatch_assignment "
    "(dispatched_by_id, dispatched_at DESC, id DESC) "
    "WHERE recommended_rank > 1 AND dispatched_by_id IS NOT NULL"
)
DROP = "DROP INDEX assignment_report_overrides"


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0027_report_rollups")]

    operations: list = [migrations.RunSQL(CREATE, DROP)]
