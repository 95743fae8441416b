"""One object per event loop, made the first time that loop asks for it.

An object holding asyncio futures, tasks or locks belongs to the loop that made them. Daphne runs
one loop for good, but tests and management commands may run several, one after another: each
gets its own object, and a closed loop's object goes with it (the map holds loops weakly)."""

import asyncio
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerLoop(Generic[T]):
    def __init__(self, factory: Callable[[], T]) -> None:
        self.factory = factory
        self.made: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = weakref.WeakKeyDictionary()

    def here(self) -> T:
        """The running loop's object (called from a coroutine or a callback on that loop)."""
        loop = asyncio.get_running_loop()
        found = self.made.get(loop)
        if found is None:
            found = self.made[loop] = self.factory()
        return found
