"""Background loops (docs/house-style.md, practice 6): the outbox, call escalation, pre-arrival notices.

Each is a management command built on LoopCommand, safe to run on every app node at once (the
work is claimed with conditional updates or row locks), and `run_workers` runs them all in one
process. A pass that fails (a database failover, a provider outage) is logged and tried again;
the loop stops cleanly on SIGTERM or Ctrl-C.
"""

import logging
import signal
import threading
from argparse import ArgumentParser

from django.core.management.base import BaseCommand
from django.db import close_old_connections

log = logging.getLogger(__name__)


class LoopCommand(BaseCommand):
    interval = 1.0  # seconds between passes when there was nothing to do

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument(
            "--interval", type=float, default=self.interval, help="seconds between idle passes"
        )

    def handle(self, *args, once: bool = False, interval: float | None = None, **options) -> None:
        if once:
            self.one_pass(**options)
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        self.loop(stop, interval or self.interval, **options)

    def loop(self, stop: threading.Event, interval: float, **options) -> None:
        """Pass after pass until `stop` is set; straight on while there is work."""
        while not stop.is_set():
            busy = False
            try:
                busy = bool(self.one_pass(**options))
            except Exception:  # a failover or an outage: log it and try again next pass
                log.exception("%s pass failed", self.__module__.rsplit(".", 1)[-1])
            close_old_connections()  # drop a connection a failover broke
            if not busy:
                stop.wait(interval)

    def one_pass(self, **options) -> bool:
        """Do one pass; return True when it found work (the next pass follows at once)."""
        raise NotImplementedError

    def report(self, counts: dict[str, int]) -> bool:
        """Print the counts of a pass that did something; True when it did."""
        if any(counts.values()):
            self.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()))
            return True
        return False
