"""At most VIEW_CONCURRENCY of Django's requests run at once in an app process under daphne; the
others wait their turn on the event loop, in the order they came.

Django runs each request's view in a thread of its own. In a surge (ops/bench/surge: twenty
dispatchers, fifty tablets, the admin's report) that was dozens of threads at once, each wanting
the one interpreter lock that the event loop also needs for every socket frame and every
tracker's fix. The loop gives the lock up at each wait on the network and then queues for it
behind all of them, so the consoles fell seconds behind while the process still showed spare
CPU, and the requests themselves, sharing the lock many ways, all got slower together. A few
threads keep the database and the interpreter busy as well as dozens do; a request waiting
here costs the loop nothing.

The health probe and the trackers' fast path are in front of the gate (dispatch/asgi.py): a busy
node still answers HAProxy, and fixes are stored by their own writer threads. WebSockets never
pass through it. One gate per event loop (tests may run several loops, one after another).
"""

import asyncio
import weakref

from django.conf import settings


class ViewGate:
    """ASGI middleware: each HTTP request holds one of the process's places while Django serves
    it (the whole response, a streamed one included)."""

    def __init__(self, app, limit: int | None = None) -> None:
        self.app = app
        self.limit = limit if limit is not None else settings.VIEW_CONCURRENCY
        self.places: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or self.limit <= 0:
            return await self.app(scope, receive, send)
        async with self.place():
            await self.app(scope, receive, send)

    def place(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        found = self.places.get(loop)
        if found is None:
            found = self.places[loop] = asyncio.Semaphore(self.limit)
        return found
