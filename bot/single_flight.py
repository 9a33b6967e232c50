"""Single-flight: concurrent callers asking for the same key share one computation.

A cache miss under load is asked for by many requests at once; without this each of them
would run the same queries. The first caller runs it; the others await its outcome (its
value, or its exception). `SingleFlight` keeps nothing once a computation ends; `KeptAnswers`
adds the cache most callers want around it: the answers used last, each built once.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """At most one `compute()` in flight per key, in this process."""

    def __init__(self) -> None:
        self._flights: dict[K, asyncio.Future[V]] = {}

    def in_flight(self) -> int:
        return len(self._flights)

    async def run(self, key: K, compute: Callable[[], Awaitable[V]]) -> V:
        while (flight := self._flights.get(key)) is not None:
            try:
                # shield: a waiter cancelled (its client went away) cancels nobody else.
                return await asyncio.shield(flight)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not flight.cancelled() or (task is not None and task.cancelling()):
                    raise
                # The caller computing it was cancelled: the next waiter computes it.
        flight = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        try:
            value = await compute()
        except Exception as error:
            flight.set_exception(error)
            flight.exception()  # retrieved here, so an error nobody waited for is not logged
            raise
        except BaseException:
            flight.cancel()
            raise
        else:
            flight.set_result(value)
            return value
        finally:
            del self._flights[key]


class KeptAnswers(Generic[K, V]):
    """The `size` answers used last (least recently used go first); a missing one is built
    once however many ask for it at the same time."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._kept: OrderedDict[K, V] = OrderedDict()
        self._fills: SingleFlight[K, V] = SingleFlight()

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, key: K) -> V | None:
        """The kept answer (now the most recently used), or None."""
        value = self._kept.get(key)
        if value is not None:
            self._kept.move_to_end(key)
        return value

    async def fill(self, key: K, build: Callable[[], Awaitable[V]]) -> V:
        """Build the answer for `key` (or join the build in flight) and keep it."""

        async def build_and_keep() -> V:
            value = await build()
            self._kept[key] = value
            if len(self._kept) > self._size:
                self._kept.popitem(last=False)
            return value

        return await self._fills.run(key, build_and_keep)
