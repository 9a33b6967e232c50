"""Sending to an interaction whether or not it was answered yet, always without pings."""

from __future__ import annotations

from typing import Any

import discord

from bot.discord_setup import NO_MENTIONS
from bot.ui import fit

ACCENT = discord.Colour(0x1DB954)  # Spotify green
WARNING = discord.Colour(0xE8A317)
MAX_CONTENT = fit.CONTENT  # Discord's limit for a message's content


async def reply(
    interaction: discord.Interaction[Any], content: str | None = None, **kwargs: Any
) -> None:
    """Answer, or follow up if the interaction was already answered or deferred; whatever
    is sent fits Discord's limits (`bot.ui.fit`)."""
    content = fit.content(content)  # echoed user input can be long
    fit.message(kwargs)
    kwargs.setdefault("ephemeral", True)
    kwargs.setdefault("allowed_mentions", NO_MENTIONS)
    if interaction.response.is_done():
        await interaction.followup.send(content or discord.utils.MISSING, **kwargs)
    else:
        await interaction.response.send_message(content, **kwargs)


def notice(text: str, *, title: str | None = None) -> discord.Embed:
    return discord.Embed(title=title, description=text, colour=WARNING)


async def edit(interaction: discord.Interaction[Any], **kwargs: Any) -> None:
    """Edit the interaction's original response, fitted to Discord's limits."""
    await interaction.edit_original_response(**fit.message(kwargs))
