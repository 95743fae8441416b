"""Raise and clear the console's alarms from the database state (dispatch/alarms/scanner.py).

Each pass reads which alarm conditions hold (an ER that has not acknowledged a notice, a crew
that has not acknowledged its job, an incident not dispatched in time, a unit not en route in
time), raises an alarm for each without one and clears each alarm whose condition went away;
escalates a crew alert nobody acknowledged (an SMS, then a voice call, to the unit's phone).
Safe on every app node at once: a raise is claimed by a unique constraint, a clear by a
conditional update. Stops cleanly on SIGTERM or Ctrl-C.
"""

from dispatch.alarms.scanner import escalate, scan
from dispatch.core.loops import LoopCommand


class Command(LoopCommand):
    help = "Raise and clear the console's alarms (a loop; --once for one pass)."
    interval = 2.0

    def one_pass(self, **options) -> bool:
        # The crew alert's escalation first: an SMS at 30 s, a call, then the alarm at 60 s.
        return self.report({**escalate(), **scan()})
