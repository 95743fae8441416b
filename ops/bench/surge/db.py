"""The surge bench's database side, run with the bench database's environment (never the dev or
test database: ops/bench/surge/__main__.py creates bench_surge_<pid> and drops it after).

  populate: the demo city 明湾市 (make_demo_city's generator), more units up to --units placed on
            its places with a crew rostered and on shift (the actions, as the system makes them),
            and the people of the run with their sessions (no password hashed: a sign-in per
            console would only time PBKDF2). Prints one JSON object.
  events:   after a step, the events a dispatcher may see after --after (seq, epoch at).

Run by the bench as `.venv/bin/python ops/bench/surge/db.py populate ...`.
"""

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatch.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.gis.geos import Point  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from dispatch.core.signin import session_ends  # noqa: E402
from dispatch.demo.crews import crew_username, staff_units  # noqa: E402
from dispatch.models import Event, Place, Role, User  # noqa: E402
from dispatch.registry.actions import create_unit  # noqa: E402
from fleet.models import Unit  # noqa: E402
from hospitals.models import Hospital  # noqa: E402

BACKEND = "django.contrib.auth.backends.ModelBackend"
CALL_SIGN = "SG-{:05d}"
# About 250 m: extra units stand near a place of the city, never in the sea.
JITTER_DEG = 0.0025


def sessions_for(people: list[tuple[User, TOTPDevice | None]]) -> list[str]:
    """Signed-in sessions as django.contrib.auth.login leaves them, with the role's lifetime,
    written in one statement (the database session engine's rows)."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session

    keys, rows = [], []
    for person, device in people:
        store = SessionStore()
        data = {
            SESSION_KEY: str(person.pk),
            BACKEND_SESSION_KEY: BACKEND,
            HASH_SESSION_KEY: person.get_session_auth_hash(),
        }
        if device is not None:
            data[DEVICE_ID_SESSION_KEY] = device.persistent_id
        key = store._get_new_session_key()
        keys.append(key)
        rows.append(
            Session(session_key=key, session_data=store.encode(data), expire_date=session_ends(person))
        )
    Session.objects.bulk_create(rows, batch_size=1000)
    return keys


def user(username: str, role: str, **fields) -> User:
    return User.objects.create_user(username, role=role, **fields)


def populate(args: argparse.Namespace) -> dict:
    started = time.perf_counter()
    call_command("make_demo_city", verbosity=0)
    log(f"demo city made in {time.perf_counter() - started:.1f} s")
    rng = random.Random(120)
    places = [(p.point.x, p.point.y) for p in Place.objects.only("point")]
    started = time.perf_counter()
    have = Unit.objects.count()
    extra = max(0, args.units - have)
    # one transaction per 500 units: the actions as the system runs them, without a commit each
    for first in range(0, extra, 500):
        with transaction.atomic():
            for k in range(first, min(extra, first + 500)):
                lon, lat = rng.choice(places)
                point = Point(
                    lon + rng.uniform(-JITTER_DEG, JITTER_DEG), lat + rng.uniform(-JITTER_DEG, JITTER_DEG)
                )
                create_unit(CALL_SIGN.format(k), "als" if k % 3 else "bls", position=point)
        log(f"{min(extra, first + 500)} units made")
    log(f"{extra} units added to the city's {have} in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    fleet = list(Unit.objects.order_by("pk"))
    for first in range(0, len(fleet), 500):
        with transaction.atomic():
            staff_units(fleet[first : first + 500])
        log(f"{min(len(fleet), first + 500)} units staffed")
    log(f"every unit staffed in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    crews = {u.username: u for u in User.objects.filter(role=Role.CREW)}
    dispatchers = [user(f"sg-disp-{k:03d}", Role.DISPATCHER) for k in range(args.consoles)]
    hospitals = list(Hospital.objects.order_by("pk"))
    boards = [
        user(f"sg-er-{k:02d}", Role.HOSPITAL, hospital=hospitals[k % len(hospitals)])
        for k in range(args.boards)
    ]
    admin = user("sg-admin", Role.ADMIN)
    device = TOTPDevice.objects.create(user=admin, name="bench", confirmed=True)
    people = [(crews[crew_username(u)], None) for u in fleet] + [(p, None) for p in dispatchers + boards]
    keys = sessions_for([*people, (admin, device)])
    units = [
        {
            "id": unit.pk,
            "key": unit.tracker_key,
            "lon": unit.position.x if unit.position else places[0][0],
            "lat": unit.position.y if unit.position else places[0][1],
            "crew": keys[k],
        }
        for k, unit in enumerate(fleet)
    ]
    consoles = keys[len(fleet) : len(fleet) + len(dispatchers)]
    boards_keys = keys[len(fleet) + len(dispatchers) : -1]
    log(f"{len(keys)} sessions in {time.perf_counter() - started:.1f} s")
    incident_points = [list(rng.choice(places)) for _ in range(2000)]
    return {
        "units": units,
        "consoles": consoles,
        "boards": boards_keys,
        "admin": keys[-1],
        "points": incident_points,
        "hospitals": len(hospitals),
        "last_seq": Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0,
    }


def events(args: argparse.Namespace) -> dict:
    """What a dispatcher's console is owed: the live socket's own filter (visible_events)."""
    from dispatch.core.permissions import visible_events

    dispatcher = User.objects.get(username="sg-disp-000")
    rows = visible_events(dispatcher).filter(seq__gt=args.after).order_by("seq").values_list("seq", "at")
    return {"events": [[seq, at.timestamp()] for seq, at in rows]}


def log(message: str) -> None:
    print(f"bench/surge db: {message}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("populate")
    p.add_argument("--units", type=int, required=True)
    p.add_argument("--consoles", type=int, required=True)
    p.add_argument("--boards", type=int, required=True)
    e = sub.add_parser("events")
    e.add_argument("--after", type=int, required=True)
    args = parser.parse_args()
    result = populate(args) if args.command == "populate" else events(args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
