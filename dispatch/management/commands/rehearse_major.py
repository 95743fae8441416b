"""A major-incident rehearsal through the public API (dispatch/demo/major_rehearsal.py).

    python manage.py rehearse_major [--patients 30] [--units 8] [--base-url http://127.0.0.1:8000]

Needs a running system with a city loaded (make demo); with the simulator running, the crews
sent work their jobs on their own.
"""

import random
from argparse import ArgumentParser

from django.core.management.base import BaseCommand, CommandError

from dispatch.demo.major_rehearsal import RehearsalError, rehearse
from dispatch.demo.simulator import Session
from dispatch.management.commands.simulate import SIM_DISPATCHER, sim_account, wait_for, world_places
from dispatch.models import Role


class Command(BaseCommand):
    help = "Rehearse a major incident (a bus crash, 30 casualties by default) through the public API."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="the running system")
        parser.add_argument("--patients", type=int, default=30, help="casualties (1 to 150)")
        parser.add_argument("--units", type=int, default=8, help="ambulances to send at once (1 to 50)")
        parser.add_argument("--seed", type=int, default=120)
        parser.add_argument("--wait", type=float, default=30, help="seconds to wait for the server to be up")

    def handle(self, *args, **opts) -> None:
        if not 1 <= opts["patients"] <= 150 or not 1 <= opts["units"] <= 50:
            raise CommandError("Keep to 1..150 casualties and 1..50 units.")
        base = opts["base_url"].rstrip("/")
        wait_for(base, opts["wait"])
        places = world_places()
        if not places:
            raise CommandError("No places: load a city first (make_demo_city).")
        place = random.Random(opts["seed"]).choice(places)
        dispatcher = Session(base, SIM_DISPATCHER, sim_account(SIM_DISPATCHER, Role.DISPATCHER))
        try:
            done = rehearse(
                dispatcher, place, patients=opts["patients"], units=opts["units"], seed=opts["seed"]
            )
        except RehearsalError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(done.line())
