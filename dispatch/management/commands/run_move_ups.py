"""Move-up suggestions (dispatch/coverage/moveup.py): after each dispatch, each unit coming free
(and the other events that change who covers what) and at least once a minute, reconcile the
moves under way (a unit sent to a job meanwhile, a unit whose position reached its site) and
make, keep or supersede the one open suggestion. Safe on every app node at once: one open
suggestion is a unique constraint, each decision a conditional update."""

from datetime import datetime

from django.utils import timezone

from dispatch.core.loops import LoopCommand
from dispatch.coverage import moveup
from dispatch.models import Event


class Command(LoopCommand):
    help = (
        "Suggest move-ups after dispatches, units coming free and on a timer (a loop; --once for one pass)."
    )
    interval = 3.0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.last_seq: int | None = None
        self.last_run: datetime | None = None

    def one_pass(self, **options) -> bool:
        now = timezone.now()
        latest = Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        triggered = (
            self.last_seq is None
            or Event.objects.filter(seq__gt=self.last_seq, kind__in=moveup.TRIGGER_KINDS).exists()
        )
        timer = self.last_run is None or now - self.last_run >= moveup.TIMER
        if triggered or timer:
            counts = moveup.refresh(now)
            self.last_run = now
        else:
            counts = moveup.reconcile()
        self.last_seq = latest
        self.report(counts)
        return False
