"""The discord.py bots the emulator tests drive: a few commands, a view, a modal."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from sandbox.discord import DiscordEmulator


class SandboxBot(commands.AutoShardedBot):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.captured: dict[str, Any] = {}  # what the commands saw, for the tests to read

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None

    def text_channel(self, channel_id: int | str) -> discord.TextChannel:
        channel = self.get_channel(int(channel_id))
        assert isinstance(channel, discord.TextChannel), channel
        return channel


class ClickView(discord.ui.View):
    def __init__(self, bot: SandboxBot) -> None:
        super().__init__(timeout=60)
        self.bot = bot

    @discord.ui.button(label="Like", custom_id="like:1", style=discord.ButtonStyle.primary)
    async def like(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        self.bot.captured["clicked_by"] = interaction.user.id
        await interaction.response.edit_message(content="liked", view=None)

    @discord.ui.button(label="Skip", custom_id="skip:1")
    async def skip(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="skipped")


def make_bot(**kw: Any) -> SandboxBot:
    intents = discord.Intents.default()
    bot = SandboxBot(command_prefix="!", intents=intents, guild_ready_timeout=0.1, **kw)
    tree = bot.tree

    @tree.command(name="ping", description="Ping")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    digest = app_commands.Group(name="digest", description="Digest settings")

    @digest.command(name="channel", description="Set the digest channel")
    async def digest_channel(
        interaction: discord.Interaction, channel: discord.TextChannel, hour: int = 9
    ) -> None:
        bot.captured["digest"] = (channel.id, hour)
        perms = channel.permissions_for(channel.guild.me)
        await interaction.response.send_message(
            f"digest in {channel.mention} at {hour} can_send={perms.send_messages}"
        )

    tree.add_command(digest)

    @tree.command(name="slow", description="Too slow")
    async def slow(interaction: discord.Interaction) -> None:
        await asyncio.sleep(3.5)
        try:
            await interaction.response.send_message("late")
        except discord.NotFound as exc:
            bot.captured["slow_error"] = exc

    @tree.command(name="later", description="Defers then follows up")
    async def later(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await asyncio.sleep(0.05)
        await interaction.followup.send("done later")
        await interaction.followup.send("and one more", ephemeral=True)
        await interaction.edit_original_response(content="done (edited)")

    @tree.command(name="button", description="Sends a button")
    async def button(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("press", view=ClickView(bot))

    @tree.command(name="search", description="Autocomplete")
    async def search(interaction: discord.Interaction, query: str) -> None:
        await interaction.response.send_message(f"searched {query}")

    @search.autocomplete("query")
    async def search_ac(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f"{current} {i}", value=f"{current}{i}") for i in range(3)]

    return bot


async def start_bot(bot: SandboxBot, emu: DiscordEmulator) -> asyncio.Task[None]:
    task = asyncio.create_task(bot.start(emu.bot_token))
    await asyncio.wait_for(bot.wait_until_ready(), 10)
    return task


async def stop_bot(bot: SandboxBot, task: asyncio.Task[None]) -> None:
    await bot.close()
    try:
        await asyncio.wait_for(task, 5)
    except (asyncio.CancelledError, Exception):
        pass
