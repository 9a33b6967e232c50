"""Acknowledge first, work after: under load every command is deferred before it reads the
database or calls Spotify, then waits its turn among a bounded number of commands running at once.

Discord forgets an interaction not acknowledged within 3 s (10062 Unknown interaction), but a
deferred one can be answered for 15 minutes. A deferral is one small request, so when the
process is overloaded acknowledging stays quick as long as the work itself is queued rather than
run all at once: with every command running at the same time, a new one's deferral would wait
behind all of their database and Spotify steps on the event loop. Commands queued beyond
`waiting`, or still waiting after `patience`, are told to try again rather than left to expire.

When the bot is quiet (nothing waits, a slot is free, fewer than `direct_running` commands run
unacknowledged, and the interaction reached us within `fresh` seconds of its creation, read from
its snowflake: a lagging event loop shows there first) a command starts at once instead, with a
deferral timer beside it: answered within `direct` seconds (and never later than `horizon`
after its creation), that one response is the acknowledgement and the answer, and the deferral
and its followup (two requests, and a message parsed) are saved; otherwise the timer defers it
as above. A burst finds the bot busy within its first few commands, and from then on every
command is deferred on arrival. The timer's deferral and the command's first response
go through one gate per interaction (`bot.ui.messages`), so Discord never gets two.

At DEBUG, each command's age on arrival (read from its snowflake) and its deferral's time in
flight are logged, by interaction id (never its token): what README "Admission under load" read
to find where late deferrals lost their time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import discord

from bot import metrics
from bot.ui.command_metrics import command_finished
from bot.ui.messages import acknowledge, open_gate, reply

log = logging.getLogger(__name__)

BUSY = (
    "Encore is too busy to get to this right now. Nothing was done: please try again in a minute."
)
UNKNOWN_INTERACTION = 10062  # Discord's code for an interaction past its deadline
DIRECT = 0.4  # s a command with a free slot may take to answer in its one response
HORIZON = 1.0  # s after the interaction's creation by which it is deferred at the latest
FRESH = 0.25  # s from creation to arrival beyond which the bot is lagging: defer on arrival
DIRECT_RUNNING = 8  # commands started at once and not acknowledged yet, at most


class Admission:
    """Defers slash commands and context menus on arrival; `running` of them do their work
    at once, up to `waiting` more wait (for at most `patience` seconds), the rest are told to
    try again. When quiet (a slot free, none waiting, fewer than `direct_running` started
    at once, the interaction no older than `fresh` s) a command starts at once and is deferred
    only if it has not answered within `direct` s (`horizon` s after its creation at the
    latest); `direct=0` defers every one on arrival. Autocomplete is answered directly: it
    cannot be deferred."""

    def __init__(
        self,
        *,
        running: int = 16,
        waiting: int = 5_000,
        patience: float = 600.0,
        direct: float = DIRECT,
        horizon: float = HORIZON,
        fresh: float = FRESH,
        direct_running: int = DIRECT_RUNNING,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.running = running
        self.waiting = waiting
        self.patience = patience  # below the 15 minutes a deferred interaction can be answered
        self.direct = direct
        self.horizon = horizon  # below Discord's 3 s, with room for the deferral's request
        self.fresh = fresh
        self.direct_running = direct_running
        self._clock = clock
        self._slots = asyncio.Semaphore(running)
        self._queued = 0
        self._active = 0
        self._unacknowledged = 0  # started at once, neither finished nor deferred yet

    @property
    def queued(self) -> int:
        """Commands being acknowledged or waiting for a slot."""
        return self._queued

    @property
    def active(self) -> int:
        """Commands admitted and not finished (their answers sent or given up)."""
        return self._active

    @contextlib.asynccontextmanager
    async def admit(self, interaction: discord.Interaction[Any]) -> AsyncIterator[bool]:
        """Yields whether the interaction should be handled now (False: it was answered here)."""
        if interaction.type is not discord.InteractionType.application_command:
            yield True
            return
        arrived = self._clock()
        if self._queued >= self.waiting:
            yield await self._turn_away(interaction, acknowledged=False)
            return
        open_gate(interaction)
        age = time.time() - discord.utils.snowflake_time(interaction.id).timestamp()
        window = self._direct_window(age)
        log.debug(
            "Command %s reached the tree %.3f s after its creation; %s",
            interaction.id,
            age,
            "started at once" if window > 0 else "deferred on arrival",
        )
        if window > 0:
            await self._slots.acquire()  # free: taken without waiting
            self._unacknowledged += 1
            # A timer, not a task sleeping beside the command: most commands answer first,
            # and a cancelled timer costs no task, no wake-up and no cancellation.
            loop = asyncio.get_running_loop()
            deferral: list[asyncio.Task[None]] = []

            def defer_now() -> None:
                task = loop.create_task(self._defer(interaction))
                task.add_done_callback(self._acknowledged)
                deferral.append(task)

            timer = loop.call_later(window, defer_now)
            self._active += 1
            try:
                yield True
            finally:
                self._active -= 1
                if deferral:
                    deferral[0].cancel()  # its done callback counts it acknowledged
                else:
                    timer.cancel()
                    self._unacknowledged -= 1
                self._slots.release()
            return
        self._queued += 1  # counted from arrival: a burst is judged before its deferrals return
        metrics.COMMANDS_WAITING.set(self._queued)
        try:
            acknowledged = await self._acknowledge(interaction)
            if acknowledged:
                await self._slots.acquire()
        finally:
            self._queued -= 1
            metrics.COMMANDS_WAITING.set(self._queued)
        if not acknowledged:
            yield False
            return
        self._active += 1
        try:
            if self._clock() - arrived > self.patience:
                yield await self._turn_away(interaction, acknowledged=True)
            else:
                yield True
        finally:
            self._active -= 1
            self._slots.release()

    def _direct_window(self, age: float) -> float:
        """How long a command that arrived `age` s after its creation may run before it is
        deferred (0 or less: defer on arrival)."""
        if (
            self.direct <= 0
            or self._queued
            or self._slots.locked()
            or self._unacknowledged >= self.direct_running
            or age > self.fresh
        ):
            return 0.0
        return min(self.direct, self.horizon - age)

    def _acknowledged(self, _: object) -> None:
        self._unacknowledged -= 1

    async def _defer(self, interaction: discord.Interaction[Any]) -> None:
        """The deferral of a command started at once that has not answered in its window."""
        try:
            await self._acknowledge(interaction)
        except discord.HTTPException as error:
            # Its own answer will meet the same refusal, and the error handler reports it.
            log.warning("A command's deferral was refused: %s %s", error.status, error.code)

    async def _acknowledge(self, interaction: discord.Interaction[Any]) -> bool:
        sent = time.monotonic()
        try:
            deferred = await acknowledge(interaction)
        except discord.NotFound as error:
            if error.code != UNKNOWN_INTERACTION:
                raise
            log.warning("An interaction expired before it could be acknowledged")
            command_finished(interaction, "expired")
            return False
        if deferred:
            log.debug(
                "Command %s deferred: %.3f s in flight", interaction.id, time.monotonic() - sent
            )
        return True

    async def _turn_away(
        self, interaction: discord.Interaction[Any], *, acknowledged: bool
    ) -> bool:
        log.warning(
            "Overloaded: %d commands waiting; one was told to try again%s",
            self._queued,
            "" if acknowledged else " at once",
        )
        command_finished(interaction, "busy")
        with contextlib.suppress(discord.HTTPException):
            await reply(interaction, BUSY, ephemeral=True)
        return False
