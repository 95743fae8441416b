"""(Re)build the report's per-day rollups (dispatch/reports/rollups.py) for a range of local days,
then merge the whole closed months among them.

    python manage.py build_report_rollups                                  # every closed day of the last year
    python manage.py build_report_rollups --start 2025-01-01 --end 2025-12-31

Safe while the centre runs: each day is rebuilt under a lock on its row, in one transaction a month.
"""

from argparse import ArgumentParser
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from dispatch.reports import rollups


class Command(BaseCommand):
    help = "Rebuild the report's per-day rollups for a range of days (default: the closed days of a year)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--start", type=date.fromisoformat, help="first local day (YYYY-MM-DD)")
        parser.add_argument("--end", type=date.fromisoformat, help="last local day, inclusive")

    def handle(self, *args, start: date | None = None, end: date | None = None, **options) -> None:
        end = end or rollups.last_closed_day()
        start = start or end - timedelta(days=365)
        if end < start:
            raise CommandError("--end must be on or after --start.")
        if end > rollups.last_closed_day():
            self.stderr.write(
                f"days after {rollups.last_closed_day()} are not closed yet: the reports count their rows"
            )
        written = rollups.build_range(start, end)
        months = rollups.build_months(start, end)
        self.stdout.write(f"rollups for {start} to {end}: {written} rows, {months} whole months merged")
