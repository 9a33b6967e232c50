"""The harness's guarantee: a click is injected only once the bot listens to its button.

discord.py stores a message's view after the HTTP call that sent it returned; a click
injected before that is dropped, which no person could cause. ``BotViews`` waits, on the
bot's view store rather than a sleep, until discord.py would dispatch the click.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import discord

from sandbox.discord import DiscordControl
from sandbox.views import BotViews

from .bots import SandboxBot


class Like(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"like:track:(?P<id>\w+)"):
    def __init__(self, track: str) -> None:
        super().__init__(discord.ui.Button(label="Like", custom_id=f"like:track:{track}"))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Like:
        return cls(match["id"])


async def test_a_view_is_dispatchable_once_discord_py_has_stored_it(bot: SandboxBot) -> None:
    views = BotViews(bot)
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Next", custom_id="page:2"))
    assert not views.dispatchable(123, "page:2")
    assert not await views.wait_dispatchable(123, "page:2", 0.01)  # a view that never comes

    async def store_later() -> None:
        await asyncio.sleep(0)
        bot._connection.store_view(view, 123)

    storing = asyncio.create_task(store_later())
    assert await views.wait_dispatchable(123, "page:2", 5)
    await storing
    assert not views.dispatchable(124, "page:2")  # bound to its message


async def test_dynamic_items_and_persistent_views_serve_any_message(bot: SandboxBot) -> None:
    views = BotViews(bot)
    bot.add_dynamic_items(Like)
    persistent = discord.ui.View(timeout=None)
    persistent.add_item(discord.ui.Button(label="Help", custom_id="help"))
    bot.add_view(persistent)
    assert views.dispatchable(1, "like:track:4uLU6hMCjMI75M1A2tKUQC")
    assert views.dispatchable(2, "help")
    assert not views.dispatchable(2, "like:album:1")


async def test_a_click_after_the_wait_reaches_the_view(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    views = BotViews(bot)
    r = await ctl.command("button", world["alice"]["id"], guild_id=world["guild"]["id"])
    message_id = int((await ctl.interaction(r["id"], wait=5))["original"]["id"])

    assert await views.wait_dispatchable(message_id, "like:1", 5)
    clicked = await ctl.click("like:1", world["alice"]["id"], message_id=message_id)

    assert (await ctl.interaction(clicked["id"], wait=5))["response"]["type"] == 7
    assert bot.captured["clicked_by"] == int(world["alice"]["id"])
