"""Session-level advisory locks: held by a connection of their own that is in no transaction,
so work that calls out (Spotify, Discord) is serialised across processes without a
transaction or a row lock staying open while it waits for an answer.

PostgreSQL releases the lock when the block ends, or when the connection dies with its process.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.engine import SessionFactory


def lock_key(purpose: str, *ids: int) -> int:
    """A 64-bit advisory lock key for one purpose and thing: `lock_key("token-refresh", user)`."""
    name = ":".join([purpose, *map(str, ids)]).encode()
    return int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "big", signed=True)


@contextlib.asynccontextmanager
async def advisory_lock(
    sessions: SessionFactory, key: int, *, wait: bool = True
) -> AsyncIterator[bool]:
    """Hold the advisory lock `key` for the block (True). With `wait=False` the block runs at
    once with False when another session holds it."""
    bind = sessions.kw["bind"]
    assert isinstance(bind, AsyncEngine), "the session factory must be bound to an engine"
    async with bind.connect() as connection:
        # Autocommit: no BEGIN is sent, so holding the lock keeps no transaction open.
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        try:
            if wait:
                await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
                held = True
            else:
                held = bool(
                    await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
                )
        except BaseException:
            # Cancelled or failed while asking: the server may have granted it all the same.
            # A closed connection holds nothing; a pooled one could hold it for good.
            await connection.invalidate()
            raise
        try:
            yield held
        finally:
            if held:
                await _unlock(connection, key)


async def _unlock(connection: AsyncConnection, key: int) -> None:
    try:
        await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    except BaseException:
        await connection.invalidate()  # closing the connection releases the lock
        raise
