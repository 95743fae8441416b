"""Keep the report's per-day rollups current (dispatch/reports/rollups.py): each pass rebuilds the
closed days an event has touched since their rollup and builds the closed days that lack one,
then merges the closed months whose days are all rolled up (when their days changed since).

    python manage.py run_report_rollups          # loop (also run by run_workers)
    python manage.py run_report_rollups --once

The reports stay exact without it (a stale or missing day is counted from the rows); it keeps
them fast. Safe on every app node at once: a day is rebuilt under a lock on its row.
"""

from dispatch.core.loops import LoopCommand
from dispatch.reports import rollups


class Command(LoopCommand):
    help = "Build and refresh the report's per-day rollups."
    interval = 60.0

    def one_pass(self, **options) -> bool:
        return self.report({**rollups.catch_up(), "months_merged": rollups.build_months()})
