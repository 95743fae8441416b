"""Run every background loop of an app node in one process, each in its own thread.

    python manage.py run_workers            # outbox, call escalation, pre-arrival notices, retention, alarms,
                                            # shift ends

Each loop is also its own command (run_outbox, run_call_escalation, run_handoff, run_retention) for operators
who would rather supervise them one by one. Every loop is safe on every node at once.
"""

import signal
import threading
from argparse import ArgumentParser

from django.core.management import load_command_class
from django.core.management.base import BaseCommand

from dispatch.core.loops import LoopCommand

# Each loop's command, run_<name>, and the app that holds it.
LOOPS = {
    "outbox": "dispatch",
    "call_escalation": "dispatch",
    "handoff": "dispatch",
    "retention": "dispatch",
    "alarm_scanner": "dispatch",  # the console's alarms (dispatch/alarms/scanner.py)
    "shift_ends": "dispatch",  # crew shifts past their rostered end (dispatch/roster)
    "major_rules": "dispatch",  # major incidents declared by rule (dispatch/major/rules.py)
    "report_rollups": "dispatch",  # the report's per-day rollups (dispatch/reports/rollups.py)
    "move_ups": "dispatch",  # move-up suggestions (dispatch/coverage/moveup.py)
}


def loop_command(name: str) -> LoopCommand:
    command = load_command_class(LOOPS[name], f"run_{name}")
    assert isinstance(command, LoopCommand), f"run_{name} is not a LoopCommand"
    return command


class Command(BaseCommand):
    help = "Run every background loop together: outbox, calls, notices, retention, alarms (Ctrl-C stops)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--only", nargs="*", choices=sorted(LOOPS), help="run just these loops")

    def handle(self, *args: str, only: list[str] | None = None, **options: object) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        threads = []
        for name in only or LOOPS:
            loop = loop_command(name)
            loop.stdout, loop.stderr = self.stdout, self.stderr
            defaults = loop.create_parser("manage.py", f"run_{name}").parse_args([])
            loop_options = {k: v for k, v in vars(defaults).items() if k not in ("once", "interval")}
            thread = threading.Thread(
                target=loop.loop, args=(stop, defaults.interval), kwargs=loop_options, name=name, daemon=True
            )
            thread.start()
            threads.append(thread)
        self.stdout.write(f"running {', '.join(t.name for t in threads)} (Ctrl-C stops)")
        while not stop.wait(1):
            pass
        for thread in threads:
            thread.join(timeout=10)
