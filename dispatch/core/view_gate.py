"""At most VIEW_CONCURRENCY of Django's requests run at once in an app process under daphne; the
others wait their turn on the event loop, in the order they came, except that the reports and
the audit trail get only every fourth place while others wait, and never more than half the
places.

Django runs each request's view in a thread of its own. In a surge (ops/bench/surge: twenty
dispatchers, fifty tablets, the admin's report) that was dozens of threads at once, each wanting
the one interpreter lock that the event loop also needs for every socket frame and every
tracker's fix. The loop gives the lock up at each wait on the network and then queues for it
behind all of them, so the consoles fell seconds behind while the process still showed spare
CPU, and the requests themselves, sharing the lock many ways, all got slower together. A few
threads keep the database and the interpreter busy as well as dozens do; a request waiting
here costs the loop nothing. A director's year report (nine requests of up to a second each)
must not take every place from a dispatcher at a ringing call, nor wait for good on a node that
stays busy: it gets every fourth place freed, and never more than half of them.

The health probe and the trackers' fast path are in front of the gate (dispatch/asgi.py): a busy
node still answers HAProxy, and fixes are stored by their own writer threads. WebSockets never
pass through it. One gate per event loop (tests may run several loops, one after another).
"""

import asyncio
from collections import deque

from django.conf import settings

from dispatch.core.per_loop import PerLoop

FIRST, LATER = 0, 1
# Figures and records read at leisure: they wait behind the requests of the calls in hand.
LATER_PREFIXES = ("/api/reports", "/reports", "/api/audit", "/audit")
# While both wait, every fourth place freed goes to them.
LATER_TURN = 4


def priority_of(path: str) -> int:
    return LATER if path.startswith(LATER_PREFIXES) else FIRST


class Places:
    """The places of one event loop: `limit` in all, at most `later_limit` held by LATER
    requests. A freed place goes to the longest-waiting FIRST request, except that every
    LATER_TURN-th place goes to the longest-waiting LATER one (when it may have one), so a
    report waits behind the calls in hand but is never starved by a node that stays busy."""

    def __init__(self, limit: int, later_limit: int) -> None:
        self.free = limit
        self.later_free = later_limit
        self.waiting: dict[int, deque[asyncio.Future]] = {FIRST: deque(), LATER: deque()}
        self.turn = 0

    async def enter(self, priority: int) -> None:
        granted = asyncio.get_running_loop().create_future()
        self.waiting[priority].append(granted)
        self.hand_on()  # at once when a place is free and nobody is before it
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self.leave(priority)  # granted as the request went away: hand the place on
            elif granted in self.waiting[priority]:
                self.waiting[priority].remove(granted)
            raise

    def leave(self, priority: int) -> None:
        self.free += 1
        if priority == LATER:
            self.later_free += 1
        self.hand_on()

    def hand_on(self) -> None:
        while self.free > 0:
            priority = self.next_priority()
            if priority is None:
                return
            self.free -= 1
            if priority == LATER:
                self.later_free -= 1
            self.turn += 1
            self.waiting[priority].popleft().set_result(None)

    def next_priority(self) -> int | None:
        """Whose turn it is, or None when nobody waiting may have the free place."""
        for line in self.waiting.values():
            while line and line[0].done():  # gone while waiting
                line.popleft()
        later = bool(self.waiting[LATER]) and self.later_free > 0
        if later and (not self.waiting[FIRST] or self.turn % LATER_TURN == LATER_TURN - 1):
            return LATER
        if self.waiting[FIRST]:
            return FIRST
        return None


class ViewGate:
    """ASGI middleware: each HTTP request holds one of the process's places while Django serves
    it (the whole response, a streamed one included)."""

    def __init__(self, app, limit: int | None = None) -> None:
        self.app = app
        self.limit = limit if limit is not None else settings.VIEW_CONCURRENCY
        self.places = PerLoop(lambda: Places(self.limit, max(1, self.limit // 2)))

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or self.limit <= 0:
            return await self.app(scope, receive, send)
        places = self.places.here()
        priority = priority_of(scope["path"])
        await places.enter(priority)
        try:
            await self.app(scope, receive, send)
        finally:
            places.leave(priority)
