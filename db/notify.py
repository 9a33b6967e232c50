"""PostgreSQL notifications (LISTEN/NOTIFY) on a connection of their own.

A process that waits for rows other processes write (the DM outbox) listens here instead of
polling often: the writer's transaction notifies on commit (a trigger, so every insert counts,
whoever makes it), and the listener is woken at once. Polling stays as the fallback: a lost
connection is retried, and each (re)connection wakes the listener once for what it missed.

The connection is asyncpg's own, outside the engine's pool, and belongs to the one task that
runs `listen`: made with a timeout, closed in a `finally` when the task is cancelled, so the
caller can await the task and know it is gone before the engine is disposed.
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
CONNECT_TIMEOUT = 10.0  # a server that accepts but never answers is given up on, then retried
CLOSE_TIMEOUT = 2.0  # a polite close, then the socket is simply dropped


async def listen(
    engine: AsyncEngine,
    channel: str,
    wake: Callable[[], None],
    *,
    retry: float = RETRY_SECONDS,
    connect_timeout: float = CONNECT_TIMEOUT,
) -> None:
    """Call `wake` on each notification on `channel`, and after each (re)connection; until
    cancelled. A failure is logged by its kind (never the URL, which holds the password) and
    retried after `retry` seconds; the caller polls meanwhile.

    The connection is made from the engine's URL (host or socket, credentials, SSL)."""
    args, params = engine.dialect.create_connect_args(engine.url)
    params = {**params, "timeout": connect_timeout}
    while True:
        try:
            connection: Any = await asyncpg.connect(*args, **params)
        except Exception as error:  # whatever the cause, polling carries on
            _unless_cancelled()
            log.warning(
                "Cannot listen for %s notifications (%s); polling until it can",
                channel,
                type(error).__name__,
            )
        else:
            try:
                await _hear(connection, channel, wake)
                log.warning("Stopped hearing %s notifications; polling until it can", channel)
            except Exception as error:  # whatever the cause, polling carries on
                _unless_cancelled()
                log.warning("Listening for %s failed (%s)", channel, type(error).__name__)
            finally:
                await _close(connection)
        await asyncio.sleep(retry)


async def _hear(connection: Any, channel: str, wake: Callable[[], None]) -> None:
    """Until `connection` is lost: `wake` once now (for whatever was written while nobody
    listened), then on each notification."""
    lost = asyncio.Event()
    connection.add_termination_listener(lambda _connection: lost.set())
    await connection.add_listener(channel, lambda *_notification: wake())
    wake()
    await lost.wait()


async def _close(connection: Any) -> None:
    """Close `connection` whatever happens: politely if the server answers in time, else by
    dropping the socket; never left for the garbage collector."""
    if connection.is_closed():
        return
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await connection.close()
    except Exception:  # lost or silent: nothing more to say to it
        connection.terminate()
    except BaseException:
        connection.terminate()
        raise


def _unless_cancelled() -> None:
    """Re-raise a cancellation of this task that a library turned into another error (or
    swallowed): `listen` must end when it is cancelled, or its owner waits for it forever."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
