"""Single-flight: concurrent callers asking for the same key share one computation.

A cache miss under load is asked for by many requests at once; without this each of them
would run the same queries. The first caller runs it; the others await its outcome (its
value, or its exception). Nothing is kept once it ends: caching is the caller's business.
"""

from __future__ import annotations

import asyncio
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
