"""Back-fill the demo city's recent history (dispatch/demo/history.py): one simulation, its
last quarter-day through the actions under a simulated clock, the days before written in bulk with
the rows and events those actions would write, so the reports and the wallboard show a working
centre at once (docs/decisions/0018-demo-history.md).

    python manage.py make_demo_history                    # the last 60 days (DEFAULT_DAYS), once
    python manage.py make_demo_history --days 2           # two days
    python manage.py make_demo_history --action-days 60   # all through the actions: over an hour
    python manage.py make_demo_history --force            # again, although a history is there

`make demo` runs it after loading the city: a database that has a history keeps it.
"""

from argparse import ArgumentParser

from django.core.management.base import BaseCommand, CommandError

from dispatch.demo.history import DEFAULT_ACTION_DAYS, DEFAULT_CALLS_PER_HOUR, DEFAULT_DAYS, make_history
from fleet.models import Unit


class Command(BaseCommand):
    help = "Back-fill a realistic recent history of calls and incidents for the demo city."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--days",
            type=float,
            default=DEFAULT_DAYS,
            help=f"how many days back, fractions welcome (default {DEFAULT_DAYS:g}: well under a minute)",
        )
        parser.add_argument(
            "--action-days",
            type=float,
            default=DEFAULT_ACTION_DAYS,
            help=f"the most recent days made by the actions themselves, the rest in bulk "
            f"(default {DEFAULT_ACTION_DAYS:g}; 0: all in bulk)",
        )
        parser.add_argument(
            "--calls-per-hour",
            type=float,
            default=DEFAULT_CALLS_PER_HOUR,
            help=f"daily average, the simulator's (default {DEFAULT_CALLS_PER_HOUR:g})",
        )
        parser.add_argument("--seed", type=int, default=120)
        parser.add_argument("--force", action="store_true", help="add a history although one is there")

    def handle(self, *args, **opts) -> None:
        if not 0 < opts["days"] <= 366:
            raise CommandError("--days must be above 0 and at most 366.")
        if not 0 <= opts["action_days"] <= 366:
            raise CommandError("--action-days must be 0 to 366.")
        if not 0 < opts["calls_per_hour"] <= 3600:
            raise CommandError("--calls-per-hour must be above 0 and at most 3600.")
        if not Unit.objects.exists():
            raise CommandError("Load a city first (make_demo_city): a history needs its units.")
        self.stderr.ending = ""  # the progress bar rewrites its own line
        result = make_history(
            opts["days"],
            calls_per_hour=opts["calls_per_hour"],
            seed=opts["seed"],
            force=opts["force"],
            progress=self.stderr,
            action_days=opts["action_days"],
        )
        if result.skipped:
            self.stdout.write("A demo history is there already: nothing added (--force adds another).")
            return
        self.stdout.write(
            f"history of {opts['days']:g} days: {result.calls} calls ({result.abandoned} abandoned), "
            f"{result.incidents} incidents, in {result.seconds:.1f} s "
            f"({result.bulk_calls} calls in bulk, {result.calls - result.bulk_calls} through the actions)"
        )
