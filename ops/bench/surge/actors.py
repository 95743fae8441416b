"""The surge bench's people, in a process of their own: callers, dispatchers, crews, an admin.

  .venv/bin/python ops/bench/surge/actors.py SPEC.json OUT.json

- Callers: a signed Twilio voice webhook (X-Twilio-Signature made by the twilio library over the
  URL requested, as Twilio does) every 1/rate seconds, each from its own number.
- A call distributor: one more dispatcher socket on /ws/live/ that hands each call.ringing event
  to the next free dispatcher (the queue a centre's ACD keeps).
- Dispatchers (--dispatchers of them, each its own session): the console's requests in its
  order (static/js/calls.js take; static/js/console.js locate, triage, recommendation,
  dispatch of the first unit and hospital; a 409 unit_busy asks for the recommendation again,
  as the console does).
- Crews: the dispatched unit's crew, through the tablet API with an idempotency key on every
  write: reads its assignment, acknowledges (and sends the acknowledgement again with the same
  key, which must answer the same), then taps en route, on scene, patient contact, available
  (treated on scene), --tap-gap seconds apart, so units come back for the next calls.
- An admin loading the year report (the report page's requests, at once) at 5 s and every 60 s.

SPEC: {"host", "port", "rate", "seconds", "start_wall", "token", "account", "dispatchers": [session
keys], "crews": {unit id: session key}, "admin", "points": [[lon, lat]], "tap_gap", "tag"}.
OUT: the timings (seconds) and counts, see `Tally`.
"""

import asyncio
import json
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

from client import HttpError, Pool, Session

CSRF = "surgebenchcsrf0123456789abcdefgh"  # 32 characters: a CSRF secret of our own
VOICE = "/api/telephony/twilio/voice"
REPORT_PATHS = [
    ("/api/reports/summary", {}),
    ("/api/reports/units", {}),
    ("/api/reports/hospitals", {}),
    ("/api/reports/priorities", {}),
    ("/api/reports/people", {}),
    ("/api/reports/distribution", {"interval": "response"}),
    ("/api/reports/trend", {"interval": "response", "bucket": "day"}),
    ("/api/reports/trend", {"interval": "response", "bucket": "hour"}),
    ("/api/reports/areas", {"interval": "response"}),
]
CREW_TAPS = [
    {"status": "en_route"},
    {"status": "on_scene"},
    {"status": "patient_contact"},
    {"status": "available", "end_reason": "treated_on_scene"},
]


@dataclass
class Tally:
    webhook: list[float] = field(default_factory=list)
    answer_wait: list[float] = field(default_factory=list)  # webhook sent -> take sent
    take: list[float] = field(default_factory=list)
    locate: list[float] = field(default_factory=list)
    triage: list[float] = field(default_factory=list)
    recommendation: list[float] = field(default_factory=list)
    dispatch: list[float] = field(default_factory=list)
    crew_read: list[float] = field(default_factory=list)
    crew_tap: list[float] = field(default_factory=list)
    report: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    calls_sent: int = 0
    calls_taken: int = 0
    dispatched: int = 0
    conflicts: int = 0
    replays_same: int = 0
    jobs_done: int = 0
    no_unit: int = 0
    unfinished_calls: int = 0  # taken, neither dispatched nor failed, when the wait ended
    unfinished_jobs: int = 0  # dispatched, the crew not yet back, when the wait ended


class Surge:
    def __init__(self, spec: dict) -> None:
        self.spec = spec
        self.pool = Pool(spec["host"], spec["port"], size=256)
        self.tally = Tally()
        self.queue: asyncio.Queue = asyncio.Queue()
        self.sent_at: dict[str, float] = {}
        self.crews: set[asyncio.Task] = set()
        self.protocols: list[dict] = []
        self.handled = 0

    def error(self, what: str) -> None:
        self.tally.errors.append(what[:300])

    # ------------------------------------------------------------------ callers

    async def callers(self, start: float) -> None:
        from twilio.request_validator import RequestValidator

        spec, loop = self.spec, asyncio.get_running_loop()
        validator = RequestValidator(spec["token"])
        url = f"http://{spec['host']}:{spec['port']}{VOICE}"
        count = round(spec["rate"] * spec["seconds"])
        calls = []
        for k in range(count):
            await asyncio.sleep(max(0.0, start + k / spec["rate"] - loop.time()))
            caller = f"+86139{spec['tag']:03d}{k:05d}"
            params = {
                "AccountSid": spec["account"],
                "CallSid": f"CA{spec['tag']:03d}{uuid.uuid4().hex[:29]}",
                "From": caller,
                "To": "+8659112000",
                "CallStatus": "ringing",
                "Direction": "inbound",
                "ApiVersion": "2010-04-01",
            }
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": validator.compute_signature(url, params),
            }
            self.sent_at[caller] = time.perf_counter()
            calls.append(asyncio.create_task(self.one_call(headers, urlencode(params).encode())))
        await asyncio.gather(*calls)

    async def one_call(self, headers: dict[str, str], body: bytes) -> None:
        try:
            status, answer, took = await self.pool.request("POST", VOICE, body=body, headers=headers)
        except HttpError as exc:
            self.error(f"webhook: {exc}")
            return
        if status != 200 or b"<Response" not in answer:
            self.error(f"webhook {status}: {answer[:150]!r}")
            return
        self.tally.calls_sent += 1
        self.tally.webhook.append(took)

    # ------------------------------------------------------------------ the call distributor

    async def distributor(self, ready: asyncio.Event) -> None:
        from websockets.asyncio.client import connect

        spec = self.spec
        uri = f"ws://{spec['host']}:{spec['port']}/ws/live/?after={spec['after']}"
        headers = {"Cookie": f"sessionid={spec['dispatchers'][0]}"}
        async with connect(
            uri, origin=f"http://{spec['host']}:{spec['port']}", additional_headers=headers,
            compression=None, proxy=None, open_timeout=30, max_size=2**24,
        ) as ws:  # fmt: skip
            async for raw in ws:
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "cursor":
                    ready.set()
                # One event, or several that came close together.
                events = message.get("events") or ([message["event"]] if kind == "event" else [])
                for event in events:
                    data = event["data"]
                    if event["kind"] == "call.ringing" and data.get("status") == "ringing":
                        self.queue.put_nowait((data["id"], data.get("caller_number", "")))

    # ------------------------------------------------------------------ dispatchers

    async def dispatcher(self, index: int) -> None:
        me = Session(self.pool, self.spec["dispatchers"][index % len(self.spec["dispatchers"])], CSRF)
        k = index
        while True:
            call_id, caller = await self.queue.get()
            try:
                await self.handle(me, call_id, caller, k)
            except HttpError as exc:
                self.error(f"dispatcher: {exc}")
            except Exception as exc:  # noqa: BLE001  (counted; the dispatcher takes the next call)
                self.error(f"dispatcher: {type(exc).__name__} {exc}")
            finally:
                self.handled += 1
            k += len(self.spec["dispatchers"])

    async def handle(self, me: Session, call_id: int, caller: str, k: int) -> None:
        tally, points = self.tally, self.spec["points"]
        if caller in self.sent_at:
            tally.answer_wait.append(time.perf_counter() - self.sent_at.pop(caller))
        status, call, took = await me.post(f"/api/calls/{call_id}/take")
        if status != 200:
            self.error(f"take {status}: {str(call)[:150]}")
            return
        tally.take.append(took)
        tally.calls_taken += 1
        incident = call["incident"]
        lon, lat = points[k % len(points)]
        status, body, took = await me.post(
            f"/api/incidents/{incident}/locate", {"lon": lon, "lat": lat, "source": "pin", "address": ""}
        )
        if status != 200:
            self.error(f"locate {status}: {str(body)[:150]}")
            return
        tally.locate.append(took)
        protocol, outcome, answer = self.protocols[k % len(self.protocols)]
        status, body, took = await me.post(
            f"/api/incidents/{incident}/triage",
            {
                "priority": outcome["priority"],
                "chief_complaint": protocol["name"],
                "capability": outcome.get("capability") or "",
                "protocol": protocol["code"],
                "answers": [answer],
                "hospital_capability": outcome.get("hospital_capability") or "",
                "instruction": outcome.get("instruction") or "",
            },
        )
        if status != 200:
            self.error(f"triage {status}: {str(body)[:150]}")
            return
        tally.triage.append(took)
        params = (
            {"hospital_capability": outcome["hospital_capability"]}
            if outcome.get("hospital_capability")
            else {}
        )
        for _attempt in range(4):
            status, rec, took = await me.get(f"/api/incidents/{incident}/recommendation", params)
            if status != 200:
                self.error(f"recommendation {status}: {str(rec)[:150]}")
                return
            tally.recommendation.append(took)
            if not rec["units"]:
                tally.no_unit += 1
                self.error("recommendation: no unit to send")
                return
            unit = rec["units"][0]
            hospital = rec["hospitals"][0] if rec.get("hospitals") else None
            status, body, took = await me.post(
                f"/api/incidents/{incident}/dispatch",
                {
                    "unit": unit["id"],
                    "hospital": hospital["id"] if hospital else None,
                    "recommended_rank": 1,
                    "eta_s": unit["eta_s"] if unit.get("eta_s") is not None else None,
                    "hospital_rank": 1 if hospital else None,
                    "override_reason": "",
                },
            )
            if status == 409 and isinstance(body, dict) and body.get("code") == "unit_busy":
                tally.conflicts += 1  # taken meanwhile: the console asks again
                continue
            if status != 201:
                self.error(f"dispatch {status}: {str(body)[:150]}")
                return
            tally.dispatch.append(took)
            tally.dispatched += 1
            task = asyncio.create_task(self.crew(unit["id"], body.get("id")))
            self.crews.add(task)
            task.add_done_callback(self.crews.discard)
            return
        self.error("dispatch: unit busy four times")

    # ------------------------------------------------------------------ crews

    async def crew(self, unit_id: int, assignment_id: int | None) -> None:
        session = self.spec["crews"].get(str(unit_id))
        if session is None:
            self.error(f"crew: no session for unit {unit_id}")
            return
        me, gap = Session(self.pool, session, CSRF), self.spec["tap_gap"]
        try:
            await asyncio.sleep(gap)
            status, body, took = await me.get("/api/crew/assignment")
            if status != 200 or not body.get("assignment"):
                self.error(f"crew read {status}: {str(body)[:150]}")
                return
            self.tally.crew_read.append(took)
            job = body["assignment"]["id"]
            if assignment_id is not None and job != assignment_id:
                self.error(f"crew read: assignment {job}, dispatched {assignment_id}")
            key = str(uuid.uuid4())
            ack = {"idempotency_key": key, "client_time": now_iso()}
            status, first, took = await me.post(f"/api/crew/assignments/{job}/acknowledge", ack)
            if status != 200:
                self.error(f"crew acknowledge {status}: {str(first)[:150]}")
                return
            self.tally.crew_tap.append(took)
            # the tablet resending after a lost answer: same key, same answer, nothing done twice
            status, again, _took = await me.post(f"/api/crew/assignments/{job}/acknowledge", ack)
            if status == 200 and again == first:
                self.tally.replays_same += 1
            else:
                self.error(f"crew acknowledge replay {status}: {str(again)[:150]}")
            for tap in CREW_TAPS:
                await asyncio.sleep(gap)
                payload = {
                    **tap,
                    "assignment": job,
                    "idempotency_key": str(uuid.uuid4()),
                    "client_time": now_iso(),
                }
                status, body, took = await me.post("/api/crew/status", payload)
                if status != 200:
                    self.error(f"crew {tap['status']} {status}: {str(body)[:150]}")
                    return
                self.tally.crew_tap.append(took)
            self.tally.jobs_done += 1
        except HttpError as exc:
            self.error(f"crew: {exc}")

    # ------------------------------------------------------------------ admin

    async def admin(self, start: float, until: float) -> None:
        me = Session(self.pool, self.spec["admin"], CSRF)
        loop = asyncio.get_running_loop()
        today = date.today()
        period = {"start": (today - timedelta(days=364)).isoformat(), "end": today.isoformat()}
        due = start + min(5.0, self.spec["seconds"] / 2)
        while due < until:
            await asyncio.sleep(max(0.0, due - loop.time()))
            started = time.perf_counter()
            answers = await asyncio.gather(
                *(me.get(path, {**period, **extra}) for path, extra in REPORT_PATHS), return_exceptions=True
            )
            bad = [a for a in answers if isinstance(a, BaseException) or a[0] != 200]
            if bad:
                self.error(f"year report: {str(bad[0])[:200]}")
            else:
                self.tally.report.append(time.perf_counter() - started)
            due += 60.0

    # ------------------------------------------------------------------ the run

    async def load_protocols(self) -> None:
        me = Session(self.pool, self.spec["dispatchers"][0], CSRF)
        status, protocols, _took = await me.get("/api/triage/protocols")
        if status != 200:
            raise RuntimeError(f"triage protocols {status}: {str(protocols)[:200]}")
        for protocol in protocols:
            start = (protocol.get("questions") or {}).get(protocol.get("start"))
            for question in [start] if start else []:
                found = [(n, a["outcome"]) for n, a in enumerate(question["answers"]) if a.get("outcome")]
                if found:
                    answer, outcome = found[0]
                    self.protocols.append((protocol, outcome, answer))
                    break
        if not self.protocols:
            raise RuntimeError("no triage protocol with an outcome")

    async def run(self) -> dict:
        spec, loop = self.spec, asyncio.get_running_loop()
        await self.load_protocols()
        ready = asyncio.Event()
        listener = asyncio.create_task(self.distributor(ready))
        await asyncio.wait_for(ready.wait(), 30)
        start = loop.time() + max(0.0, spec["start_wall"] - time.time())
        until = start + spec["seconds"]
        desks = [asyncio.create_task(self.dispatcher(i)) for i in range(spec["dispatcher_count"])]
        admin = asyncio.create_task(self.admin(start, until))
        await self.callers(start)
        # every call rung is handled and every unit sent comes back, or the wait ends
        deadline = loop.time() + spec["finish_within"]
        while loop.time() < deadline and (self.handled < self.tally.calls_sent or self.crews):
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)
        for task in [*desks, admin, listener, *self.crews]:
            task.cancel()
        await asyncio.gather(*desks, admin, listener, *self.crews, return_exceptions=True)
        untaken = self.tally.calls_sent - self.tally.calls_taken
        if untaken > 0:
            self.error(f"{untaken} calls rung and never taken within the run")
        # work the load left undone when the wait ended: never silently dropped from the figures
        self.tally.unfinished_calls = self.tally.calls_taken - self.tally.dispatched - self.tally.no_unit
        self.tally.unfinished_jobs = self.tally.dispatched - self.tally.jobs_done
        self.pool.close()
        return asdict(self.tally)


def now_iso() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat()


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    result = asyncio.run(Surge(spec).run())
    Path(sys.argv[2]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
