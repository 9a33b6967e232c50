"""Acknowledge first, work after: every command is deferred before it reads the database or calls
Spotify, then waits its turn among a bounded number of commands running at once.

Discord forgets an interaction not acknowledged within 3 s (10062 Unknown interaction), but a
deferred one can be answered for 15 minutes. A deferral is one small request, so when the
process is overloaded acknowledging stays quick as long as the work itself is queued rather than
run all at once: with every command running at the same time, a new one's deferral would wait
behind all of their database and Spotify steps on the event loop. Commands queued beyond
`waiting`, or still waiting after `patience`, are told to try again rather than left to expire.
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
from bot.ui.messages import reply

log = logging.getLogger(__name__)

BUSY = (
    "Encore is too busy to get to this right now. Nothing was done: please try again in a minute."
)
UNKNOWN_INTERACTION = 10062  # Discord's code for an interaction past its deadline


class Admission:
    """Defers every slash command and context menu on arrival; `running` of them do their work
    at once, up to `waiting` more wait (for at most `patience` seconds), the rest are told to
    try again. Autocomplete is answered directly: it cannot be deferred."""

    def __init__(
        self,
        *,
        running: int = 16,
        waiting: int = 5_000,
        patience: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.running = running
        self.waiting = waiting
        self.patience = patience  # below the 15 minutes a deferred interaction can be answered
        self._clock = clock
        self._slots = asyncio.Semaphore(running)
        self._queued = 0

    @property
    def queued(self) -> int:
        """Commands being acknowledged or waiting for a slot."""
        return self._queued

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
        try:
            if self._clock() - arrived > self.patience:
                yield await self._turn_away(interaction, acknowledged=True)
            else:
                yield True
        finally:
            self._slots.release()

    async def _acknowledge(self, interaction: discord.Interaction[Any]) -> bool:
        # Every answer Encore gives a command is ephemeral, so the deferral is too (a deferral
        # fixes the visibility of the answer that follows it).
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
        except discord.NotFound as error:
            if error.code != UNKNOWN_INTERACTION:
                raise
            log.warning("An interaction expired before it could be acknowledged")
            command_finished(interaction, "expired")
            return False
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
