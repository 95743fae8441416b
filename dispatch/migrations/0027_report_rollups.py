from django.db import migrations

# Figures kept as incidents close (dispatch/reports/rollups.py, docs/decisions/0020-report-rollups.md):
# per local day, measure and grouping key, how many rows had each value (packed: the values
# ascending as big-endian float8, their counts as big-endian int4). Plain tables, read and
# written in SQL by the reports only; no model, nothing else writes them.
CREATE = """
CREATE TABLE dispatch_report_rollup (
    day date NOT NULL,
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
CREATE INDEX dispatch_report_rollup_measure_day ON dispatch_report_rollup (measure, day);
CREATE INDEX dispatch_report_rollup_day_idx ON dispatch_report_rollup (day);
CREATE TABLE dispatch_report_rollup_day (
    day date PRIMARY KEY,
    seq bigint NOT NULL,
    districts text NOT NULL,
    built_at timestamptz NOT NULL
);
"""
DROP = "DROP TABLE dispatch_report_rollup; DROP TABLE dispatch_report_rollup_day;"


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0026_move_ups")]

    operations: list = [migrations.RunSQL(CREATE, DROP)]
