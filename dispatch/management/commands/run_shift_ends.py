"""End crew shifts past their planned end plus SHIFT_END_GRACE_MINUTES (dispatch/roster).

    python manage.py run_shift_ends [--once]

One cheap query a pass (open shifts joined to their roster entries); also run by run_workers.
"""

from dispatch.core.loops import LoopCommand
from dispatch.roster.actions import end_overdue_shifts


class Command(LoopCommand):
    help = "End crew shifts past their rostered end plus the grace period (Ctrl-C stops)."
    interval = 30.0

    def one_pass(self, **options) -> bool:
        return self.report({"shifts_ended": end_overdue_shifts()})
