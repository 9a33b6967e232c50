"""/digest: a server's daily new-release digest (channel, time, time zone, status); Manage Server only."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.channel_access import TextChannelOption, bot_permissions
from bot.client import EncoreBot
from bot.digests import timezone_suggestions
from bot.ui import fit
from bot.ui.digest import (
    NEEDED,
    PREVIEW,
    TURNED_OFF,
    digest_embed,
    empty_days_message,
    missing_permissions,
    schedule_line,
    status_embed,
    turned_on_message,
)
from bot.ui.installs import server_only
from bot.ui.messages import reply


def _guild_id(interaction: discord.Interaction[EncoreBot]) -> int:
    assert interaction.guild_id is not None  # the group is guild_only
    return interaction.guild_id


@app_commands.guild_only()
@server_only
@app_commands.default_permissions(manage_guild=True)
class Digest(
    commands.GroupCog,
    group_name="digest",
    group_description="This server's daily digest of new releases",
):
    def __init__(self, bot: EncoreBot) -> None:
        self.bot = bot
        self.digests = bot.services.digests

    @app_commands.command(name="channel", description="Post the daily digest in this channel")
    @app_commands.describe(channel="Where the digest is posted")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def channel(
        self,
        interaction: discord.Interaction[EncoreBot],
        channel: app_commands.Transform[app_commands.AppCommandChannel, TextChannelOption],
    ) -> None:
        granted = await bot_permissions(interaction, channel.id)
        missing = [label for name, label in NEEDED.items() if not getattr(granted, name)]
        if missing:
            await reply(interaction, missing_permissions(channel.mention, missing))
            return
        status = await self.digests.set_channel(_guild_id(interaction), channel.id)
        await reply(interaction, turned_on_message(status))

    @app_commands.command(name="time", description="The local time of day the digest is posted")
    @app_commands.describe(time="HH:MM on the 24-hour clock, e.g. 09:00 or 18:30")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def time(
        self, interaction: discord.Interaction[EncoreBot], time: app_commands.Range[str, 1, 10]
    ) -> None:
        status = await self.digests.set_time(_guild_id(interaction), time)
        await reply(interaction, schedule_line(status))

    @app_commands.command(name="timezone", description="The time zone of the digest's time")
    @app_commands.describe(timezone="An IANA time zone, e.g. Europe/Berlin")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def timezone(
        self, interaction: discord.Interaction[EncoreBot], timezone: app_commands.Range[str, 1, 64]
    ) -> None:
        status = await self.digests.set_timezone(_guild_id(interaction), timezone)
        await reply(interaction, schedule_line(status))

    @timezone.autocomplete("timezone")
    async def timezone_suggestions(
        self, interaction: discord.Interaction[EncoreBot], current: str
    ) -> list[app_commands.Choice[str]]:
        names = timezone_suggestions(current)
        return fit.choices([app_commands.Choice(name=name, value=name) for name in names])

    @app_commands.command(name="off", description="Stop posting the daily digest")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def off(self, interaction: discord.Interaction[EncoreBot]) -> None:
        await self.digests.turn_off(_guild_id(interaction))
        await reply(interaction, TURNED_OFF)

    @app_commands.command(name="empty-days", description="Post a note on days with no releases?")
    @app_commands.describe(choice="post: a short note; skip: nothing that day")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def empty_days(
        self, interaction: discord.Interaction[EncoreBot], choice: Literal["post", "skip"]
    ) -> None:
        await self.digests.set_empty_days(_guild_id(interaction), post=choice == "post")
        await reply(interaction, empty_days_message(post=choice == "post"))

    @app_commands.command(name="preview", description="Show today's digest (only to you)")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def preview(self, interaction: discord.Interaction[EncoreBot]) -> None:
        digest = await self.digests.preview(_guild_id(interaction))
        await reply(interaction, PREVIEW, embed=digest_embed(digest))

    @app_commands.command(name="status", description="When the digest posts next, and how it went")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def status(self, interaction: discord.Interaction[EncoreBot]) -> None:
        status = await self.digests.status(_guild_id(interaction))
        await reply(interaction, embed=status_embed(status))


async def setup(bot: EncoreBot) -> None:
    await bot.add_cog(Digest(bot))
