"""Declare major incidents by rule (dispatch/major/rules.py): a patient count over the threshold,
or a mass-casualty complaint.

    python manage.py run_major_rules [--once]

One query a pass over open incidents not yet major; also run by run_workers.
"""

from dispatch.core.loops import LoopCommand
from dispatch.major.rules import declare_due


class Command(LoopCommand):
    help = "Declare major incidents by rule (patients reported, mass-casualty complaints) (Ctrl-C stops)."
    interval = 2.0

    def one_pass(self, **options) -> bool:
        return self.report({"major_incidents_declared": declare_due()})
