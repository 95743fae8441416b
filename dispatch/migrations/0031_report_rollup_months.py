from django.db import migrations

# Month rows beside the day rows (dispatch/reports/rollups.py, build_months): a closed month whose
# days are all rolled up is also kept merged, each group's counts summed per value, so that a year
# reads twelve rows a group instead of 365 (a month's distinct whole seconds are not many more
# than a day's). `days` is the digest of its days' build times when it was merged: a day rebuilt
# since (stale, or built again with new measures) changes it, and the month is not read until
# merged again. Plain tables, read and written in SQL by the reports only, as the day rows.
CREATE = """
CREATE TABLE dispatch_report_rollup_month (
    month date NOT NULL,
    measure smallint NOT NULL,
    priority smallint NULL,
    k1 bigint NULL,
    k2 bigint NULL,
    label text NOT NULL DEFAULT '',
    n_null bigint NOT NULL,
    n_unmeasured bigint NOT NULL,
    vals bytea NOT NULL,
    counts bytea NOT NULL
);
CREATE INDEX dispatch_report_rollup_month_measure ON dispatch_report_rollup_month (measure, month);
CREATE INDEX dispatch_report_rollup_month_month ON dispatch_report_rollup_month (month);
CREATE TABLE dispatch_report_rollup_month_built (
    month date PRIMARY KEY,
    days text NOT NULL,
    built_at timestamptz NOT NULL
);
"""
DROP = "DROP TABLE dispatch_report_rollup_month; DROP TABLE dispatch_report_rollup_month_built;"


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0030_report_unit_days")]

    operations: list = [migrations.RunSQL(CREATE, DROP)]
