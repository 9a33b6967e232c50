"""The Link again button: a new personal link for whoever presses it. An older link gains the
permissions newer features need, and nothing else changes (likes, queues and settings stay).

A `DynamicItem`, so it works on any message after any restart. A press dispatches
`relink_pressed` (`on_relink_pressed(interaction)`); the account cog answers it as `/link`.
"""

from __future__ import annotations

import re
from typing import Any

import discord

RELINK_PRESSED = "relink_pressed"
RELINK_ID = "encore:relink"


class RelinkButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=re.escape(RELINK_ID)):
    """Link again: a new personal link for whoever presses it (an older link gains the
    permissions new features need; likes, queues and settings stay). Works after restarts."""

    def __init__(self) -> None:
        super().__init__(
            discord.ui.Button(
                label="Link again", style=discord.ButtonStyle.primary, custom_id=RELINK_ID
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> RelinkButton:
        return cls()

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        interaction.client.dispatch(RELINK_PRESSED, interaction)


def relink_view() -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RelinkButton())
    return view
