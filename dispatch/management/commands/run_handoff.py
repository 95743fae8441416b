"""Keep pre-arrival notices in step and alert the console when an ER has not acknowledged one.

Each pass: send the notice of every job that has a destination and a patient on board but none
yet; update each notice whose patient record or vitals changed (or whose destination changed),
which also queues its FHIR Bundle again; alert the console for each notice unacknowledged after
NOTICE_ACK_ALERT_SECONDS. Run one per app node: every write is claimed by a row lock or a
conditional update, so several loops do each thing once. Stops cleanly on SIGTERM or Ctrl-C.
"""

from dispatch.core.loops import LoopCommand
from dispatch.handoff.actions import alert_unacknowledged_notices, refresh_notices, send_due_notices


class Command(LoopCommand):
    help = "Send, update and watch pre-arrival notices (a loop; --once for one pass)."
    interval = 2.0

    def one_pass(self, **options) -> bool:
        return self.report(
            {
                "sent": send_due_notices(),
                "updated": refresh_notices(),
                "alerted": alert_unacknowledged_notices(),
            }
        )
