"""A database outbox for direct messages: written in the same transaction as the change
that causes them, delivered by whichever gateway or worker process gets to them first.

Delivery claims messages with a lease and commits, sends with no transaction open, then
records each outcome. The delivery loop (`run`) keeps up to `SENDS_AT_ONCE` DMs in flight,
claims a message as soon as there is room for it and records each outcome as soon as it is
known, so a burst (100 members linking at once) is not sent one batch after another. `available_at` is the lease: a claimed message is nobody else's
until then, so a process that dies mid-send leaves its messages to be retried when it runs
out. The claim bumps `attempts`, which tells a late outcome from a stale claim.

Whoever queues a DM (the web role confirming a link, a worker's radar), the loop hears of it
at once: a trigger notifies `NOTIFY_CHANNEL` when the inserting transaction commits
(migration 0008), and `run` listens for it (`db.notify`). Polling every `idle` seconds stays
as the fallback.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics
from bot.clock import Clock
from db.engine import SessionFactory
from db.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
LEASE = dt.timedelta(minutes=2)  # how long a claimed message is this process's to send
SEND_TIMEOUT = 60.0  # a send gives up well within its lease, so two never overlap
SENDS_AT_ONCE = 25  # DMs in flight per process; the shared budget paces them (bot.discord_budget)
NOTIFY_CHANNEL = "encore_outbox"  # notified by the outbox table's insert trigger on commit

# Runs forever, calling its argument whenever another process may have queued a DM.
Listen = Callable[[Callable[[], None]], Coroutine[Any, Any, None]]


class Undeliverable(Exception):
    """The recipient cannot receive it (DMs closed, unknown user): do not retry."""


# (recipient, content, nonce): the nonce is the DM's own (`dm_nonce`), the same on every
# attempt, so Discord creates it once even when an answer is lost and the send is retried.
SendDM = Callable[[int, str, str], Awaitable[None]]
# (recipient, payload, nonce): a DM with more than text (an embed, buttons), which the
# sender renders from the stored payload (its `content` is the text-only fallback).
SendRichDM = Callable[[int, dict[str, Any], str], Awaitable[None]]


def dm_nonce(message_id: int) -> str:
    """The nonce of outbox message `message_id` (Discord allows 25 characters)."""
    return f"dm{message_id}"


@dataclass(frozen=True)
class _Claimed:
    id: int
    discord_user_id: int
    kind: str
    content: str
    attempts: int  # after this claim: the claim is ours while the row still says so
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Outcome:
    message: _Claimed
    error: Exception | None = None

    @property
    def sent(self) -> bool:
        return self.error is None


class Outbox:
    def __init__(
        self, sessions: SessionFactory, clock: Clock, *, listen: Listen | None = None
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._listen = listen
        self._wake = asyncio.Event()

    def add_dm(
        self,
        session: AsyncSession,
        discord_user_id: int,
        kind: str,
        content: str,
        *,
        rich: dict[str, Any] | None = None,
    ) -> None:
        """Queue a DM inside the caller's transaction; it is sent only if that commits.

        `rich` is what a rich sender renders (an embed and buttons); `content` stays the
        text a plain sender sends."""
        payload: dict[str, Any] = {"content": content}
        if rich is not None:
            payload["rich"] = rich
        session.add(OutboxMessage(discord_user_id=discord_user_id, kind=kind, payload=payload))
        self._wake.set()

    async def wait_for_work(self, idle: float) -> None:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that
        # arrives as the event is set (a wake-up at shutdown), and the loop would never end.
        try:
            async with asyncio.timeout(idle):
                await self._wake.wait()
        except TimeoutError:
            pass
        self._wake.clear()

    async def deliver_due(
        self, send: SendDM, *, limit: int = 50, send_rich: SendRichDM | None = None
    ) -> int:
        """Send what is due, `SENDS_AT_ONCE` at a time; messages another process holds are
        skipped, not waited for. Returns how many were sent."""
        claimed = await self._claim(limit)
        if not claimed:
            return 0
        gate = asyncio.Semaphore(SENDS_AT_ONCE)

        async def attempt(message: _Claimed) -> _Outcome:
            async with gate:
                return await self._attempt(message, send, send_rich)

        async with asyncio.TaskGroup() as group:
            attempts = [group.create_task(attempt(message)) for message in claimed]
        outcomes = [task.result() for task in attempts]
        await self._record(outcomes)
        return sum(1 for outcome in outcomes if outcome.sent)

    @staticmethod
    async def _attempt(message: _Claimed, send: SendDM, send_rich: SendRichDM | None) -> _Outcome:
        nonce = dm_nonce(message.id)
        if send_rich is not None and "rich" in message.payload:
            sending = send_rich(message.discord_user_id, message.payload, nonce)
        else:
            sending = send(message.discord_user_id, message.content, nonce)
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                await sending
        except Exception as error:  # each outcome is recorded, none stops the others
            return _Outcome(message, error)
        return _Outcome(message)

    async def _deliver_one(
        self, message: _Claimed, send: SendDM, send_rich: SendRichDM | None
    ) -> None:
        outcome = await self._attempt(message, send, send_rich)
        try:
            await self._record([outcome])
        except Exception:
            # Unrecorded, it is sent again when its lease runs out: with the same nonce,
            # so Discord returns the message it already created instead of a second DM.
            log.exception("Could not record the outcome of DM %s", message.id)

    async def _claim(self, limit: int) -> list[_Claimed]:
        now = self._clock.now()
        due = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.failed_at.is_(None),
                OutboxMessage.available_at <= now,
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self._sessions() as session, session.begin():
            rows = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(due))
                .values(attempts=OutboxMessage.attempts + 1, available_at=now + LEASE)
                .returning(
                    OutboxMessage.id,
                    OutboxMessage.discord_user_id,
                    OutboxMessage.kind,
                    OutboxMessage.payload,
                    OutboxMessage.attempts,
                )
            )
            claimed = [
                _Claimed(row_id, user, kind, str(payload["content"]), attempts, dict(payload))
                for row_id, user, kind, payload, attempts in rows
            ]
        return sorted(claimed, key=lambda message: message.id)

    async def _record(self, outcomes: list[_Outcome]) -> None:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            for outcome in outcomes:
                message, error = outcome.message, outcome.error
                if error is None:
                    values: dict[str, object] = {"sent_at": now}
                    metrics.OUTBOX.labels("sent").inc()
                elif isinstance(error, Undeliverable):
                    values = {"failed_at": now, "last_error": str(error)}
                    metrics.OUTBOX.labels("undeliverable").inc()
                    log.info(
                        "DM %s to user %s is undeliverable: %s",
                        message.kind,
                        message.discord_user_id,
                        error,
                    )
                else:  # retried with backoff, then given up
                    values = {"last_error": f"{type(error).__name__}: {error}"}
                    if message.attempts >= MAX_ATTEMPTS:
                        values["failed_at"] = now
                        metrics.OUTBOX.labels("failed").inc()
                    else:
                        values["available_at"] = now + dt.timedelta(seconds=2**message.attempts)
                        metrics.OUTBOX.labels("retry").inc()
                    log.warning(
                        "DM %s to user %s failed: %s", message.kind, message.discord_user_id, error
                    )
                await session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id == message.id,
                        # Still our claim: a lease that ran out belongs to whoever took it next.
                        OutboxMessage.attempts == message.attempts,
                        OutboxMessage.sent_at.is_(None),
                        OutboxMessage.failed_at.is_(None),
                    )
                    .values(**values)
                )

    async def run(
        self, send: SendDM, *, idle: float = 1.0, send_rich: SendRichDM | None = None
    ) -> None:
        """Deliver forever (a background task of the gateway and worker roles): up to
        `SENDS_AT_ONCE` DMs in flight, each claimed as soon as there is room for it."""
        in_flight: set[asyncio.Task[None]] = set()
        listening: asyncio.Task[None] | None = None
        if self._listen is not None:
            listening = asyncio.create_task(self._listen(self._wake.set))
        try:
            while True:
                room = SENDS_AT_ONCE - len(in_flight)
                claimed: list[_Claimed] = []
                if room > 0:
                    try:
                        claimed = await self._claim(room)
                    except Exception:
                        log.exception("Outbox delivery failed; retrying shortly")
                for message in claimed:
                    task = asyncio.create_task(self._deliver_one(message, send, send_rich))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                if in_flight and len(claimed) == room:
                    # Full: more may be due; claim again once a place is free.
                    await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                else:
                    await self.wait_for_work(idle)
        finally:
            for task in in_flight:
                task.cancel()  # their leases run out; whoever sends them uses the same nonce
            if listening is not None:
                # Awaited: its connection is closed before the caller disposes of the engine.
                listening.cancel()
                await asyncio.gather(listening, return_exceptions=True)
