"""Escalate calls nobody has answered within CALL_ESCALATION_SECONDS to the supervisors.

Run one per app node: each call is claimed by a conditional update, so several loops escalate
it once. Stops cleanly on SIGTERM or Ctrl-C.
"""

from dispatch.calls.actions import escalate_unanswered_calls
from dispatch.core.loops import LoopCommand


class Command(LoopCommand):
    help = "Escalate unanswered calls to supervisors (a loop; --once for one pass)."

    def one_pass(self, **options) -> bool:
        calls = escalate_unanswered_calls()
        for call in calls:
            self.stdout.write(f"escalated call {call.pk} from {call.caller_number or '-'}")
        return False  # an escalation pass never needs repeating at once
