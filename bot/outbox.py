"""A database outbox for direct messages: written in the same transaction as the change
that causes them, delivered by whichever gateway or worker process gets to them first."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics
from bot.clock import Clock
from db.engine import SessionFactory
from db.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


class Undeliverable(Exception):
    """The recipient cannot receive it (DMs closed, unknown user): do not retry."""


SendDM = Callable[[int, str], Awaitable[None]]


class Outbox:
    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock
        self._wake = asyncio.Event()

    def add_dm(self, session: AsyncSession, discord_user_id: int, kind: str, content: str) -> None:
        """Queue a DM inside the caller's transaction; it is sent only if that commits."""
        session.add(
            OutboxMessage(discord_user_id=discord_user_id, kind=kind, payload={"content": content})
        )
        self._wake.set()

    async def wait_for_work(self, idle: float) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), idle)
        except TimeoutError:
            pass
        self._wake.clear()

    async def deliver_due(self, send: SendDM, *, limit: int = 50) -> int:
        """Send what is due; rows another process is sending are skipped, not waited for."""
        delivered = 0
        async with self._sessions() as session, session.begin():
            now = self._clock.now()
            rows = (
                await session.scalars(
                    select(OutboxMessage)
                    .where(
                        OutboxMessage.sent_at.is_(None),
                        OutboxMessage.failed_at.is_(None),
                        OutboxMessage.available_at <= now,
                    )
                    .order_by(OutboxMessage.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                row.attempts += 1
                try:
                    await send(row.discord_user_id, str(row.payload["content"]))
                except Undeliverable as error:
                    row.failed_at = now
                    row.last_error = str(error)
                    metrics.OUTBOX.labels("undeliverable").inc()
                    log.info(
                        "DM %s to user %s is undeliverable: %s",
                        row.kind,
                        row.discord_user_id,
                        error,
                    )
                except Exception as error:  # retried with backoff, then given up
                    row.last_error = f"{type(error).__name__}: {error}"
                    if row.attempts >= MAX_ATTEMPTS:
                        row.failed_at = now
                        metrics.OUTBOX.labels("failed").inc()
                    else:
                        row.available_at = now + dt.timedelta(seconds=2**row.attempts)
                        metrics.OUTBOX.labels("retry").inc()
                    log.warning("DM %s to user %s failed: %s", row.kind, row.discord_user_id, error)
                else:
                    row.sent_at = now
                    delivered += 1
                    metrics.OUTBOX.labels("sent").inc()
        return delivered

    async def run(self, send: SendDM, *, idle: float = 1.0) -> None:
        """Deliver forever (a background task of the gateway and worker roles)."""
        while True:
            try:
                while await self.deliver_due(send):
                    pass
            except Exception:
                log.exception("Outbox delivery failed; retrying shortly")
            await self.wait_for_work(idle)
