"""Sending to an interaction whether or not it was answered yet, always without pings.

A slash command may be answered directly (one callback, the acknowledgement and the answer at
once) while admission's deferral timer runs beside it (`bot.ui.admission`). Every first
response to such an interaction, the timer's deferral included, goes through its one gate (an
`asyncio.Lock` in `interaction.extras`): whichever gets there first answers, the other sees the
interaction answered and follows up or does nothing. Discord refuses a second callback (400
40060), so two may never be in flight at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import discord

from bot.discord_setup import NO_MENTIONS
from bot.ui import fit

ACCENT = discord.Colour(0x1DB954)  # Spotify green
WARNING = discord.Colour(0xE8A317)
MAX_CONTENT = fit.CONTENT  # Discord's limit for a message's content

_GATE = "encore_first_response"


def open_gate(interaction: discord.Interaction[Any]) -> asyncio.Lock:
    """The interaction's first-response gate (made once; admission opens it on arrival)."""
    gate = interaction.extras.get(_GATE)
    if gate is None:
        gate = interaction.extras[_GATE] = asyncio.Lock()
    assert isinstance(gate, asyncio.Lock)
    return gate


def _gate(interaction: discord.Interaction[Any]) -> contextlib.AbstractAsyncContextManager[Any]:
    gate = interaction.extras.get(_GATE)
    return gate if isinstance(gate, asyncio.Lock) else contextlib.nullcontext()


async def reply(
    interaction: discord.Interaction[Any], content: str | None = None, **kwargs: Any
) -> None:
    """Answer, or follow up if the interaction was already answered or deferred; whatever
    is sent fits Discord's limits (`bot.ui.fit`)."""
    content = fit.content(content)  # echoed user input can be long
    fit.message(kwargs)
    kwargs.setdefault("ephemeral", True)
    kwargs.setdefault("allowed_mentions", NO_MENTIONS)
    if not interaction.response.is_done():
        async with _gate(interaction):
            if not interaction.response.is_done():  # still not, now that the gate is ours
                await interaction.response.send_message(content, **kwargs)
                return
    await interaction.followup.send(content or discord.utils.MISSING, **kwargs)


async def acknowledge(interaction: discord.Interaction[Any]) -> bool:
    """Defer (ephemeral, "thinking") unless the interaction was answered already; whether this
    call deferred it. Every answer Encore gives is ephemeral, and a deferral fixes the
    visibility of the answer that follows it."""
    if interaction.response.is_done():
        return False
    async with _gate(interaction):
        if interaction.response.is_done():
            return False
        await interaction.response.defer(ephemeral=True, thinking=True)
        return True


def notice(text: str, *, title: str | None = None) -> discord.Embed:
    return discord.Embed(title=title, description=text, colour=WARNING)


async def edit(interaction: discord.Interaction[Any], **kwargs: Any) -> None:
    """Edit the interaction's original response, fitted to Discord's limits; a command not
    acknowledged yet is deferred first (there is no original response to edit before)."""
    await acknowledge(interaction)
    await interaction.edit_original_response(**fit.message(kwargs))
