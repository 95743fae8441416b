from django.db import migrations

# The incidents' intervals in the report rollups are now counts of whole seconds rounded up, with
# each day's exact sum of milliseconds beside them (docs/decisions/0021-whole-second-rollups.md).
# The rows built before hold milliseconds under the same measures (the intervals, the response by
# hour, the districts, the handovers, the dispatchers' processing): read as seconds, a 412.3 s
# response would count as 412,300 s. So every day rolled up so far is forgotten, its rows and its
# day row: such a day is then "missing" (rollups.missing_days), counted from the rows meanwhile,
# and the rollup worker (run_report_rollups, 31 days a pass) or `manage.py build_report_rollups`
# builds it again in whole seconds. Deleting only the interval measures would not do: the
# handover, district and people figures serve every built day (served_days without a measure),
# and would read a day without those rows as a day without handovers. Going back deletes them
# again, for the same reason the other way round.
FORGET = "DELETE FROM dispatch_report_rollup; DELETE FROM dispatch_report_rollup_day;"


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0028_report_rollups_seconds")]

    operations: list = [migrations.RunSQL(FORGET, FORGET)]
