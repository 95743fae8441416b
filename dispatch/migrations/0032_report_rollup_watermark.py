from django.db import migrations

# Which rolled-up days an event has made stale (dispatch/reports/rollups.py, mark_stale): the
# rollup worker reads the events once, as they come, and flags the days they touch; `watch.seq`
# is the last event it has read. A report then reads only the events after it (the last minute's)
# instead of every event since the oldest day was rolled up, a year of them on a year's page.
# It starts at the oldest rolled-up day's event number, so the events since then are read once.
CREATE = """
ALTER TABLE dispatch_report_rollup_day ADD COLUMN stale boolean NOT NULL DEFAULT false;
CREATE TABLE dispatch_report_rollup_watch (
    id smallint PRIMARY KEY CHECK (id = 1),
    seq bigint NOT NULL
);
INSERT INTO dispatch_report_rollup_watch (id, seq)
SELECT 1, coalesce(
    (SELECT min(seq) FROM dispatch_report_rollup_day WHERE seq >= 0),
    (SELECT last_seq FROM dispatch_eventcounter LIMIT 1),
    0);
"""
DROP = """
DROP TABLE dispatch_report_rollup_watch;
ALTER TABLE dispatch_report_rollup_day DROP COLUMN stale;
"""


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0031_report_rollup_months")]

    operations: list = [migrations.RunSQL(CREATE, DROP)]
