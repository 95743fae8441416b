"""The surge bench's trackers, in a process of their own (so they never share an interpreter with
the consoles whose receive times are measured): every unit sends one fix every --interval seconds
through the OsmAnd endpoint, as a Traccar tracker does (GET /api/osmand?id=<tracker key>, unix
milliseconds, speed in knots), the units' phases spread evenly over the interval, each driving a
straight line at 40 km/h. A fix is stamped with the moment it was DUE, so a backlog on the
sending side (no free connection) shows in the position age instead of hiding in it.

  .venv/bin/python ops/bench/surge/trackers.py SPEC.json OUT.json

SPEC: {"host", "port", "units": [{"id", "key", "lon", "lat"}], "interval", "seconds",
"start_wall", "connections"}. OUT: [[unit id, due ms, HTTP status (0: none), stored, moved,
seconds, problem, seconds from due to sent], ...].
"""

import asyncio
import json
import math
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from client import HttpError, Pool, parse

SPEED_KMH = 40.0
KNOTS_PER_KMH = 1 / 1.852


def query(unit: dict, heading: float, elapsed_s: float, due_ms: int) -> str:
    metres = SPEED_KMH / 3.6 * elapsed_s
    lat = unit["lat"] + metres * math.cos(math.radians(heading)) / 111_320
    lon = unit["lon"] + metres * math.sin(math.radians(heading)) / (
        111_320 * math.cos(math.radians(unit["lat"]))
    )
    fields = {"id": unit["key"], "timestamp": due_ms, "lat": f"{lat:.7f}", "lon": f"{lon:.7f}"}
    fields.update(speed=f"{SPEED_KMH * KNOTS_PER_KMH:.2f}", bearing=f"{heading:.1f}", accuracy="6.0")
    return urlencode(fields)


async def drive(pool: Pool, unit: dict, k: int, first: float, spec: dict, wall0: float, out: list) -> None:
    loop = asyncio.get_running_loop()
    heading = (k * 137.508) % 360
    due = first
    until = spec["_start"] + spec["seconds"]
    while due < until:
        await asyncio.sleep(max(0.0, due - loop.time()))
        due_ms = int((wall0 + (due - spec["_loop0"])) * 1000)
        path = "/api/osmand?" + query(unit, heading, due - spec["_start"], due_ms)
        try:
            status, body, took = await pool.request("GET", path)
            late = loop.time() - took - due  # sent this long after it was due: the sending side's backlog
            answer = parse(body) or {}
            stored, moved = bool(answer.get("stored")), bool(answer.get("moved"))
            problem = "" if status == 200 and stored else f"HTTP {status} {str(answer)[:150]}"
            out.append([unit["id"], due_ms, status, stored, moved, took, problem, late])
        except HttpError as exc:
            out.append([unit["id"], due_ms, 0, False, False, 0.0, str(exc), loop.time() - due])
        due += spec["interval"]


async def run(spec: dict) -> list:
    loop = asyncio.get_running_loop()
    # wall0 <-> _loop0: one clock pair, so due times convert to wall time without drift
    spec["_loop0"], wall0 = loop.time(), time.time()
    spec["_start"] = spec["_loop0"] + max(0.0, spec["start_wall"] - wall0)
    pool = Pool(spec["host"], spec["port"], size=spec["connections"], timeout=30)
    out: list = []
    spacing = spec["interval"] / max(1, len(spec["units"]))
    await asyncio.gather(
        *(
            drive(pool, unit, k, spec["_start"] + k * spacing, spec, wall0, out)
            for k, unit in enumerate(spec["units"])
        )
    )
    pool.close()
    return out


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    rows = asyncio.run(run(spec))
    Path(sys.argv[2]).write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
