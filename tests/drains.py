"""Waiting until work is done as the database records it, instead of sleeping and hoping.

A DM is sent before the outbox records it sent, and a digest is posted before its run is
recorded sent; so once nothing is pending or claimed, nothing more can arrive, and a test
can count what the user received.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from db.engine import async_url
from db.models import DigestRun, GuildSettings, OutboxMessage


async def until(condition: Callable[[], Awaitable[bool]], *, timeout: float, what: str) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not await condition():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"not done after {timeout:g} s: {what}") from None


def _engine(database_url: str) -> AsyncEngine:
    return create_async_engine(async_url(database_url), poolclass=NullPool)


async def outbox_drained(database_url: str, *, timeout: float = 30) -> None:
    """Until no DM is waiting, being sent (leased) or due for a retry."""
    engine = _engine(database_url)

    async def nothing_pending() -> bool:
        async with engine.connect() as connection:
            pending = await connection.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
            )
        return pending == 0

    try:
        await until(nothing_pending, timeout=timeout, what="the outbox still has pending DMs")
    finally:
        await engine.dispose()


async def digests_settled(database_url: str, *, timeout: float = 60) -> None:
    """Until no server's digest is due, claimed by a worker or mid-send: every run has ended
    (for processes on the real clock: "due" is the database's now)."""
    engine = _engine(database_url)

    async def settled() -> bool:
        async with engine.connect() as connection:
            claimed = await connection.scalar(
                select(func.count())
                .select_from(GuildSettings)
                .where(GuildSettings.claimed_by.is_not(None))
            )
            sending = await connection.scalar(
                select(func.count())
                .select_from(DigestRun)
                .where(or_(DigestRun.status == "sending", DigestRun.status == "resending"))
            )
            due = await connection.scalar(
                select(func.count())
                .select_from(GuildSettings)
                .where(
                    GuildSettings.enabled,
                    GuildSettings.paused_reason.is_(None),
                    GuildSettings.next_run_at <= func.now(),
                )
            )
        return claimed == 0 and sending == 0 and due == 0

    try:
        await until(settled, timeout=timeout, what="digests are still claimed or being sent")
    finally:
        await engine.dispose()
