"""Discord's global rate limit, shared by every process of the bot through PostgreSQL.

Discord allows a bot token 50 requests a second across all its connections and processes
(interaction callbacks and followups apart), and has nothing to tell a process how much the
others used. So every gateway and worker draws from one schedule in `discord_budget`: the
row holds the moment the next request may go; a claim reserves `n` evenly spaced slots
after it (at `DISCORD_GLOBAL_RATE`) and moves it on, in one statement. Slots are claimed in
batches, so a process sending at full speed makes a few round trips a second, not one per
request. A slot missed by more than `LATE` is given up rather than sent in a burst with
the slots after it.

The hook is discord.py's own HTTP session (`trace`, attached by
`bot.discord_setup.pace_by`): every attempt it makes with the bot token, retries included,
takes a slot before it leaves.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import types

import aiohttp
from sqlalchemy import text

from bot import metrics
from db.engine import SessionFactory

log = logging.getLogger(__name__)

BATCH = 10  # slots claimed per round trip at most: 4-5 round trips a second at full speed
LATE = 0.02  # s past its slot at which a request waits for a new one (room for 60 ms of jitter)
BUDGET = "global"

_CLAIM = text(
    """
    INSERT INTO discord_budget AS b (name, next_at, granted)
    VALUES (:name, clock_timestamp() + make_interval(secs => :span), :n)
    ON CONFLICT (name) DO UPDATE
    SET next_at = greatest(b.next_at, clock_timestamp()) + make_interval(secs => :span),
        granted = b.granted + :n
    RETURNING extract(epoch FROM b.next_at - clock_timestamp())::float8 - :span
    """
)

# Interaction callbacks and followups have limits of their own (Discord: "Interaction
# endpoints are not bound to the bot's Global Rate Limit").
EXEMPT_PATHS = ("/interactions/", "/webhooks/")


def counts_toward_global_limit(url: str, authorization: str | None) -> bool:
    """A request made with the bot token to anything but an interaction's endpoints."""
    if not authorization or not authorization.startswith("Bot "):
        return False
    return not any(part in url for part in EXEMPT_PATHS)


class DiscordBudget:
    """This process's share of the bot's global rate: slots claimed from the shared row."""

    def __init__(
        self,
        sessions: SessionFactory,
        per_second: float,
        *,
        batch: int = BATCH,
        enabled: bool = True,
    ) -> None:
        self._sessions = sessions
        self.enabled = enabled  # off: requests are not paced at all (to measure without it)
        self._interval = 1.0 / per_second
        self._batch = batch
        self._slots: collections.deque[float] = collections.deque()  # loop times, in order
        self._turn = asyncio.Lock()  # first come, first served
        self._waiting = 0

    @property
    def per_second(self) -> float:
        return 1.0 / self._interval

    async def take(self) -> None:
        """Wait for this request's slot in the bot's global schedule."""
        loop = asyncio.get_running_loop()
        while True:
            slot = await self._next_slot()
            delay = slot - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            # Woken late (a busy process): sent now, it would crowd the slots after it.
            if loop.time() - slot <= LATE:
                return

    async def _next_slot(self) -> float:
        loop = asyncio.get_running_loop()
        self._waiting += 1
        try:
            async with self._turn:
                while True:
                    now = loop.time()
                    while self._slots and self._slots[0] < now - LATE:
                        self._slots.popleft()
                    if self._slots:
                        return self._slots.popleft()
                    await self._claim(max(1, min(self._batch, self._waiting)))
        finally:
            self._waiting -= 1

    async def _claim(self, n: int) -> None:
        loop = asyncio.get_running_loop()
        span = n * self._interval
        try:
            async with self._sessions() as session, session.begin():
                asked = loop.time()
                result = await session.execute(_CLAIM, {"name": BUDGET, "span": span, "n": n})
                answered = loop.time()
                starts_in = float(result.scalar_one())
            # The database's clock read the schedule about halfway through the round trip.
            first = (asked + answered) / 2 + max(starts_in, 0.0)
        except Exception as error:
            # Better paced by this process alone than not sending: the database is back soon.
            log.warning("Could not claim Discord's global budget (%s); pacing alone", error)
            first = loop.time()
        metrics.DISCORD_BUDGET_CLAIMS.inc()
        self._slots.extend(first + i * self._interval for i in range(n))

    def trace(self) -> aiohttp.TraceConfig:
        """An aiohttp trace that makes every request counting toward the limit take a slot."""

        async def on_request_start(
            session: aiohttp.ClientSession,
            context: types.SimpleNamespace,
            params: aiohttp.TraceRequestStartParams,
        ) -> None:
            if counts_toward_global_limit(str(params.url), params.headers.get("Authorization")):
                await self.take()

        trace = aiohttp.TraceConfig()
        trace.on_request_start.append(on_request_start)
        return trace
