"""Send the outbox: SMS now, FHIR deliveries later (settings.OUTBOX_CHANNEL_MODULES).

Run one per app node; rows are claimed with conditional updates (claimed_until), so several
workers never send the same row twice at once. Stops cleanly on SIGTERM or Ctrl-C.
"""

from argparse import ArgumentParser

from dispatch.core import outbox
from dispatch.core.loops import LoopCommand


class Command(LoopCommand):
    help = "Deliver outbox rows with retries and backoff (a loop; --once for one batch)."
    interval = 0.5  # when nothing is due; a busy outbox is worked straight on

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--batch", type=int, default=20)

    def one_pass(self, batch: int = 20, **options) -> bool:
        return self.report(outbox.run_once(batch))
