"""/digest: a server's daily new-release digest (channel, time, time zone, status); Manage Server only."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import EncoreBot
from bot.digests import DigestStatus, timezone_names
from bot.ui.digest import digest_embed, long_date
from bot.ui.messages import ACCENT, WARNING, reply

COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
)
NEEDED = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
}


def _guild_id(interaction: discord.Interaction[EncoreBot]) -> int:
    assert interaction.guild_id is not None  # the group is guild_only
    return interaction.guild_id


def _at(moment: dt.datetime, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    utc = moment.astimezone(dt.UTC)
    same = timezone in ("UTC", "Etc/UTC") or local.utcoffset() == dt.timedelta(0)
    when = f"{local:%H:%M} on {long_date(local.date())} ({timezone})"
    if not same:
        when += f", {utc:%H:%M} UTC"
    return f"{when}, {discord.utils.format_dt(moment, 'R')}"


def status_embed(status: DigestStatus | None) -> discord.Embed:
    if status is None or status.channel_id is None:
        return discord.Embed(
            title="Daily digest: off",
            description=(
                "This server gets no new-release digest yet. `/digest channel` picks where "
                "it goes and turns it on (every day at 09:00 UTC until you change it)."
            ),
            colour=WARNING,
        )
    paused = status.paused_reason is not None
    state = "paused" if paused else ("on" if status.enabled else "off")
    embed = discord.Embed(
        title=f"Daily digest: {state}", colour=WARNING if paused or not status.enabled else ACCENT
    )
    embed.add_field(name="Channel", value=f"<#{status.channel_id}>")
    embed.add_field(name="Time", value=f"{status.post_time:%H:%M} {status.timezone}")
    embed.add_field(
        name="Days without releases",
        value="a short note is posted" if status.post_when_empty else "nothing is posted",
    )
    if paused:
        embed.add_field(
            name="Paused",
            value=(
                f"{status.paused_reason}\nTo fix it: give Encore View Channel, Send Messages and "
                f"Embed Links in <#{status.channel_id}> (or pick another channel), then run "
                "`/digest channel` again."
            ),
            inline=False,
        )
    elif status.enabled and status.next_run_at is not None:
        embed.add_field(
            name="Next post", value=_at(status.next_run_at, status.timezone), inline=False
        )
    elif not status.enabled:
        embed.add_field(
            name="Next post", value="none: `/digest channel` turns it back on", inline=False
        )
    embed.add_field(
        name="Last post",
        value=_at(status.last_posted_at, status.timezone) if status.last_posted_at else "never",
        inline=False,
    )
    if status.last_failure and status.last_failure_at:
        embed.add_field(
            name="Last failure",
            value=f"{status.last_failure} ({discord.utils.format_dt(status.last_failure_at, 'R')})",
            inline=False,
        )
    return embed


def _schedule_line(status: DigestStatus) -> str:
    if not status.enabled or status.channel_id is None:
        return (
            f"Saved: {status.post_time:%H:%M} {status.timezone}. The digest is off until "
            "`/digest channel` picks a channel."
        )
    assert status.next_run_at is not None
    return (
        f"The digest goes to <#{status.channel_id}> every day at {status.post_time:%H:%M} "
        f"{status.timezone}. Next post: {_at(status.next_run_at, status.timezone)}."
    )


@app_commands.guild_only()
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
        self, interaction: discord.Interaction[EncoreBot], channel: discord.TextChannel
    ) -> None:
        missing = [
            label
            for name, label in NEEDED.items()
            if not getattr(channel.permissions_for(channel.guild.me), name)
        ]
        if missing:
            await reply(
                interaction,
                f"I cannot post the digest in {channel.mention}: I am missing "
                f"{', '.join(missing)} there. Give me those in the channel's permissions, "
                "then run `/digest channel` again.",
            )
            return
        status = await self.digests.set_channel(_guild_id(interaction), channel.id)
        await reply(interaction, "Daily digest on. " + _schedule_line(status))

    @app_commands.command(name="time", description="The local time of day the digest is posted")
    @app_commands.describe(time="HH:MM on the 24-hour clock, e.g. 09:00 or 18:30")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def time(
        self, interaction: discord.Interaction[EncoreBot], time: app_commands.Range[str, 1, 10]
    ) -> None:
        status = await self.digests.set_time(_guild_id(interaction), time)
        await reply(interaction, _schedule_line(status))

    @app_commands.command(name="timezone", description="The time zone of the digest's time")
    @app_commands.describe(timezone="An IANA time zone, e.g. Europe/Berlin")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def timezone(
        self, interaction: discord.Interaction[EncoreBot], timezone: app_commands.Range[str, 1, 64]
    ) -> None:
        status = await self.digests.set_timezone(_guild_id(interaction), timezone)
        await reply(interaction, _schedule_line(status))

    @timezone.autocomplete("timezone")
    async def timezone_suggestions(
        self, interaction: discord.Interaction[EncoreBot], current: str
    ) -> list[app_commands.Choice[str]]:
        typed = current.strip().lower().replace(" ", "_")
        if not typed:
            names: list[str] = list(COMMON_ZONES)
        else:
            matches = [name for name in timezone_names() if typed in name.lower()]
            # Names whose city starts with what was typed first: "ber" -> Europe/Berlin.
            matches.sort(
                key=lambda n: (not n.lower().rsplit("/", 1)[-1].startswith(typed), len(n), n)
            )
            names = matches
        return [app_commands.Choice(name=name, value=name) for name in names[:25]]

    @app_commands.command(name="off", description="Stop posting the daily digest")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def off(self, interaction: discord.Interaction[EncoreBot]) -> None:
        await self.digests.turn_off(_guild_id(interaction))
        await reply(
            interaction, "Daily digest off. `/digest channel` turns it on again, same time."
        )

    @app_commands.command(name="empty-days", description="Post a note on days with no releases?")
    @app_commands.describe(choice="post: a short note; skip: nothing that day")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def empty_days(
        self, interaction: discord.Interaction[EncoreBot], choice: Literal["post", "skip"]
    ) -> None:
        await self.digests.set_empty_days(_guild_id(interaction), post=choice == "post")
        await reply(
            interaction,
            "On days without new releases the digest posts a short note."
            if choice == "post"
            else "On days without new releases the digest posts nothing.",
        )

    @app_commands.command(name="preview", description="Show today's digest (only to you)")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def preview(self, interaction: discord.Interaction[EncoreBot]) -> None:
        digest = await self.digests.preview(_guild_id(interaction))
        await reply(interaction, "Preview (only you see it):", embed=digest_embed(digest))

    @app_commands.command(name="status", description="When the digest posts next, and how it went")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def status(self, interaction: discord.Interaction[EncoreBot]) -> None:
        status = await self.digests.status(_guild_id(interaction))
        await reply(interaction, embed=status_embed(status))


async def setup(bot: EncoreBot) -> None:
    await bot.add_cog(Digest(bot))
