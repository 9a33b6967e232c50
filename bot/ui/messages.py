"""Sending to an interaction whether or not it was answered yet, always without pings."""

from __future__ import annotations

from typing import Any

import discord

from bot.discord_setup import NO_MENTIONS

ACCENT = discord.Colour(0x1DB954)  # Spotify green
WARNING = discord.Colour(0xE8A317)
MAX_CONTENT = 2000  # Discord's limit for a message's content


async def reply(
    interaction: discord.Interaction[Any], content: str | None = None, **kwargs: Any
) -> None:
    """Answer, or follow up if the interaction was already answered or deferred."""
    if content is not None and len(content) > MAX_CONTENT:  # echoed user input can be long
        content = content[: MAX_CONTENT - 1] + "…"
    kwargs.setdefault("ephemeral", True)
    kwargs.setdefault("allowed_mentions", NO_MENTIONS)
    if interaction.response.is_done():
        await interaction.followup.send(content or discord.utils.MISSING, **kwargs)
    else:
        await interaction.response.send_message(content, **kwargs)


def notice(text: str, *, title: str | None = None) -> discord.Embed:
    return discord.Embed(title=title, description=text, colour=WARNING)
