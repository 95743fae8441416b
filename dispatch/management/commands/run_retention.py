"""Apply the retention periods (dispatch/core/retention.py, settings.RETENTION_DAYS) every hour.

python manage.py run_retention --once     # one pass, e.g. from cron
"""

from dispatch.core.loops import LoopCommand
from dispatch.core.retention import purge


class Command(LoopCommand):
    help = "Delete or reduce personal data past its retention period, every hour (Ctrl-C stops)."
    interval = 3600.0

    def one_pass(self, **options: object) -> bool:
        counts = purge()
        self.report(counts)
        return False  # a full batch of thinning continues at the next hour: nothing is urgent
