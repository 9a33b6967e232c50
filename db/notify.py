"""PostgreSQL notifications (LISTEN/NOTIFY) on a connection of their own.

A process that waits for rows other processes write (the DM outbox) listens here instead of
polling often: the writer's transaction notifies on commit (a trigger, so every insert counts,
whoever makes it), and the listener is woken at once. Polling stays as the fallback: a lost
connection is retried, and each (re)connection wakes the listener once for what it missed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0


async def listen(
    engine: AsyncEngine,
    channel: str,
    wake: Callable[[], None],
    *,
    retry: float = RETRY_SECONDS,
) -> None:
    """Call `wake` on each notification on `channel`, and after each (re)connection; forever.

    The connection is made with the engine's own URL and options, outside its pool (it is held
    for as long as the process runs)."""
    args, params = engine.dialect.create_connect_args(engine.url)
    while True:
        try:
            connection: Any = await asyncpg.connect(*args, **params)
        except (OSError, asyncpg.PostgresError) as error:
            log.warning(
                "Cannot listen for %s notifications (%s); polling until it can",
                channel,
                type(error).__name__,
            )
            await asyncio.sleep(retry)
            continue
        try:
            await _hear(connection, channel, wake)
            log.warning("Stopped hearing %s notifications; polling until it can listen", channel)
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("Listening for %s failed (%s)", channel, type(error).__name__)
        finally:
            if not connection.is_closed():
                connection.terminate()
        await asyncio.sleep(retry)


async def _hear(connection: Any, channel: str, wake: Callable[[], None]) -> None:
    """Until `connection` is lost: `wake` once now (for whatever was written while nobody
    listened), then on each notification."""
    lost = asyncio.Event()
    connection.add_termination_listener(lambda _connection: lost.set())
    await connection.add_listener(channel, lambda *_notification: wake())
    wake()
    await lost.wait()
