"""The same message rules on every path that creates or edits a message.

A bot built with discord.py sends one field value of 1,025 characters through each path:
a DM, an interaction response (type 4), a followup, an edit of ``@original``, a message
update from a button (type 7), a multipart upload's ``payload_json``, and a channel edit.
Each is refused with 400 50035 naming the field (under ``data`` for a callback).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import discord
import pytest

from sandbox.discord import DiscordControl, DiscordEmulator
from sandbox.views import BotViews

from .bots import SandboxBot, start_bot, stop_bot

pytestmark = pytest.mark.asyncio

VALUE_PATH = ("embeds", "0", "fields", "0", "value")


def too_long() -> discord.Embed:
    return discord.Embed(title="Releases").add_field(name="Album", value="v" * 1025)


def codes_at(errors: dict[str, Any] | None, *path: str) -> list[str]:
    node: Any = errors or {}
    for part in path:
        node = node.get(part, {})
    return [e["code"] for e in node.get("_errors", [])]


class Caught:
    """The refusals the bot's calls ran into, by path."""

    def __init__(self) -> None:
        self.refusals: dict[str, discord.HTTPException] = {}
        self._events: dict[str, asyncio.Event] = {}

    def event(self, name: str) -> asyncio.Event:
        return self._events.setdefault(name, asyncio.Event())

    async def run(self, name: str, call: Awaitable[Any]) -> None:
        try:
            await call
        except discord.HTTPException as exc:
            self.refusals[name] = exc
        finally:
            self.event(name).set()

    async def refusal(self, name: str) -> discord.HTTPException:
        await asyncio.wait_for(self.event(name).wait(), 10)
        return self.refusals[name]


class UpdateView(discord.ui.View):
    def __init__(self, caught: Caught) -> None:
        super().__init__(timeout=60)
        self.caught = caught

    @discord.ui.button(label="Update", custom_id="update")
    async def update(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        await self.caught.run("update", interaction.response.edit_message(embed=too_long()))
        if not interaction.response.is_done():
            await interaction.response.send_message("refused", ephemeral=True)


def path_bot() -> tuple[SandboxBot, Caught]:
    bot = SandboxBot(command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.1)
    caught = Caught()

    @bot.tree.command(name="reply", description="Answers with a refused embed")
    async def reply(interaction: discord.Interaction) -> None:
        await caught.run("reply", interaction.response.send_message(embed=too_long()))
        if not interaction.response.is_done():
            await interaction.response.send_message("fallback", ephemeral=True)

    @bot.tree.command(name="followup", description="Defers, then follows up with it")
    async def followup(interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await caught.run("followup", interaction.followup.send(embed=too_long()))

    @bot.tree.command(name="edit", description="Answers, then edits @original with it")
    async def edit(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("first")
        await caught.run("edit", interaction.edit_original_response(embed=too_long()))

    @bot.tree.command(name="panel", description="A button that updates its message with it")
    async def panel(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("panel", view=UpdateView(caught))

    return bot, caught


@pytest.fixture
async def paths(
    emu: DiscordEmulator, world: dict[str, Any]
) -> AsyncIterator[tuple[SandboxBot, Caught]]:
    bot, caught = path_bot()
    task = await start_bot(bot, emu)
    await bot.tree.sync()
    try:
        yield bot, caught
    finally:
        await stop_bot(bot, task)


async def _run(ctl: DiscordControl, world: dict[str, Any], name: str) -> dict[str, Any]:
    r = await ctl.command(name, world["alice"]["id"], guild_id=world["guild"]["id"])
    return await ctl.interaction(r["id"], wait=5, until="any")


async def test_an_interaction_response_is_refused_under_data(
    ctl: DiscordControl, world: dict[str, Any], paths: tuple[SandboxBot, Caught]
) -> None:
    _, caught = paths
    record = await _run(ctl, world, "reply")
    exc = await caught.refusal("reply")
    assert record["response"]["data"]["content"] == "fallback"
    assert exc.code == 50035
    assert codes_at(exc._errors, "data", *VALUE_PATH) == ["BASE_TYPE_MAX_LENGTH"]


@pytest.mark.parametrize("name", ["followup", "edit"])
async def test_followups_and_edits_of_original_are_refused(
    ctl: DiscordControl,
    world: dict[str, Any],
    paths: tuple[SandboxBot, Caught],
    name: str,
) -> None:
    _, caught = paths
    record = await _run(ctl, world, name)
    exc = await caught.refusal(name)
    assert exc.code == 50035
    assert codes_at(exc._errors, *VALUE_PATH) == ["BASE_TYPE_MAX_LENGTH"]
    record = await ctl.interaction(record["id"])
    assert record["followups"] == [] and record["edits"] == []


async def test_a_message_update_from_a_button_is_refused_under_data(
    ctl: DiscordControl, world: dict[str, Any], paths: tuple[SandboxBot, Caught]
) -> None:
    bot, caught = paths
    panel = await _run(ctl, world, "panel")
    message_id = int(panel["original"]["id"])
    assert await BotViews(bot).wait_dispatchable(message_id, "update", 5)
    click = await ctl.click("update", world["alice"]["id"], message_id=message_id)
    exc = await caught.refusal("update")
    record = await ctl.interaction(click["id"], wait=5)
    assert record["response"]["type"] == 4  # the fallback, after the refused update
    assert codes_at(exc._errors, "data", *VALUE_PATH) == ["BASE_TYPE_MAX_LENGTH"]
    assert (await ctl.message(message_id))["embeds"] == []


async def test_dms_uploads_and_channel_edits_are_refused(
    ctl: DiscordControl, world: dict[str, Any], paths: tuple[SandboxBot, Caught]
) -> None:
    bot, _ = paths
    alice = await bot.fetch_user(int(world["alice"]["id"]))
    channel = bot.text_channel(world["general"]["id"])

    with pytest.raises(discord.HTTPException) as dm:
        await alice.send(embed=too_long())
    with pytest.raises(discord.HTTPException) as upload:
        await channel.send(embed=too_long(), file=discord.File(io.BytesIO(b"x"), filename="a.txt"))
    posted = await channel.send("fine")
    with pytest.raises(discord.HTTPException) as edit:
        await posted.edit(embed=too_long())

    for caught in (dm, upload, edit):
        assert caught.value.code == 50035
        assert codes_at(caught.value._errors, *VALUE_PATH) == ["BASE_TYPE_MAX_LENGTH"]
    assert [m["content"] for m in await ctl.messages()] == ["fine"]
    assert (await ctl.message(posted.id))["edits"] == []
