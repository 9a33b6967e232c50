"""/radar: a member's release radar (the artists they follow, listen to, like or add), its
weekly DM, its share in the server digest and its "Encore Radar" playlist."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import EncoreBot
from bot.digests import timezone_suggestions
from bot.radar import DAYS
from bot.ui import fit
from bot.ui.installs import personal
from bot.ui.messages import reply
from bot.ui.paginator import Paginator
from bot.ui.radar import (
    artist_choice,
    blocked_message,
    followed_message,
    page_count,
    playlist_message,
    relink_items,
    settings_embed,
    share_message,
    unblocked_message,
    unfollowed_message,
    watchlist_embed,
)

OnOff = Literal["on", "off"]
DayName = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
assert set(DAYS) == set(DayName.__args__)  # type: ignore[attr-defined]


@personal
class Radar(
    commands.GroupCog,
    group_name="radar",
    group_description="New releases from your own artists, every week",
):
    def __init__(self, bot: EncoreBot) -> None:
        self.bot = bot
        self.radar = bot.services.radar

    @app_commands.command(name="list", description="The artists on your radar, and where from")
    async def list_(self, interaction: discord.Interaction[EncoreBot]) -> None:
        user = interaction.user.id
        await self.radar.watchlist.refresh_if_stale(user)
        watchlist = await self.radar.watchlist.watchlist(user)

        async def render(page: int) -> discord.Embed:
            return watchlist_embed(page, watchlist)

        extra = relink_items(watchlist)
        await Paginator(
            user,
            page_count(watchlist),
            render,
            extra_rows=(lambda _page: relink_items(watchlist)) if extra else None,
        ).start(interaction)

    @app_commands.command(name="follow", description="Add an artist to your radar")
    @app_commands.describe(artist="An artist's name or link")
    async def follow(self, interaction: discord.Interaction[EncoreBot], artist: str) -> None:
        followed = await self.radar.watchlist.follow(interaction.user.id, artist)
        await reply(interaction, followed_message(followed))

    @follow.autocomplete("artist")
    async def follow_suggestions(
        self, interaction: discord.Interaction[EncoreBot], current: str
    ) -> list[app_commands.Choice[str]]:
        found = await self.radar.watchlist.suggest(current)
        return fit.choices([artist_choice(a, n) for a, n in found])

    @app_commands.command(name="unfollow", description="Remove an artist you added to your radar")
    @app_commands.describe(artist="An artist on your radar")
    async def unfollow(self, interaction: discord.Interaction[EncoreBot], artist: str) -> None:
        result = await self.radar.watchlist.unfollow(interaction.user.id, artist)
        await reply(interaction, unfollowed_message(result))

    @app_commands.command(
        name="block", description="Keep an artist off your radar, whatever the source"
    )
    @app_commands.describe(artist="An artist on your radar, or any artist's name or link")
    async def block(self, interaction: discord.Interaction[EncoreBot], artist: str) -> None:
        result = await self.radar.watchlist.block(interaction.user.id, artist)
        await reply(interaction, blocked_message(result))

    @app_commands.command(name="unblock", description="Let a blocked artist back on your radar")
    @app_commands.describe(artist="An artist you blocked")
    async def unblock(self, interaction: discord.Interaction[EncoreBot], artist: str) -> None:
        result = await self.radar.watchlist.unblock(interaction.user.id, artist)
        await reply(interaction, unblocked_message(result))

    @unfollow.autocomplete("artist")
    @block.autocomplete("artist")
    async def known_suggestions(
        self, interaction: discord.Interaction[EncoreBot], current: str
    ) -> list[app_commands.Choice[str]]:
        found = await self.radar.watchlist.known_suggestions(interaction.user.id, current)
        return fit.choices([artist_choice(a, n) for a, n in found])

    @unblock.autocomplete("artist")
    async def blocked_suggestions(
        self, interaction: discord.Interaction[EncoreBot], current: str
    ) -> list[app_commands.Choice[str]]:
        found = await self.radar.watchlist.known_suggestions(
            interaction.user.id, current, blocked=True
        )
        return fit.choices([artist_choice(a, n) for a, n in found])

    @app_commands.command(name="settings", description="What your radar brings, and when")
    @app_commands.describe(
        types="Release types, comma-separated: album, single, compilation, appears_on",
        day="The day your radar comes (default Friday)",
        time="Local time, HH:MM on the 24-hour clock (default 09:00)",
        timezone="Your time zone, e.g. Europe/Berlin",
        radar="Turn the weekly radar DM on or off",
    )
    async def settings(
        self,
        interaction: discord.Interaction[EncoreBot],
        types: app_commands.Range[str, 1, 80] | None = None,
        day: DayName | None = None,
        time: app_commands.Range[str, 1, 5] | None = None,
        timezone: app_commands.Range[str, 1, 64] | None = None,
        radar: OnOff | None = None,
    ) -> None:
        user = interaction.user.id
        if types is None and day is None and time is None and timezone is None and radar is None:
            view = await self.radar.settings(user, interaction.guild_id)
        else:
            view = await self.radar.change(
                user,
                types=types,
                day=day,
                time=time,
                timezone=timezone,
                enabled=None if radar is None else radar == "on",
                guild_id=interaction.guild_id,
            )
        await reply(interaction, embed=settings_embed(view))

    @settings.autocomplete("timezone")
    async def timezone_choices(
        self, interaction: discord.Interaction[EncoreBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return fit.choices(
            [app_commands.Choice(name=z, value=z) for z in timezone_suggestions(current)]
        )

    @app_commands.command(
        name="share", description="Let this server's digest count your radar's artists"
    )
    @app_commands.describe(share="on: counted here (never named); off: not counted")
    async def share(self, interaction: discord.Interaction[EncoreBot], share: OnOff) -> None:
        view = await self.radar.share(interaction.user.id, interaction.guild_id, on=share == "on")
        await reply(interaction, share_message(view, on=share == "on"))

    @app_commands.command(name="playlist", description="An Encore Radar playlist in your Spotify")
    @app_commands.describe(playlist="on: made and refilled with each radar; off: left as it is")
    async def playlist(self, interaction: discord.Interaction[EncoreBot], playlist: OnOff) -> None:
        view = await self.radar.playlist(interaction.user.id, on=playlist == "on")
        await reply(interaction, playlist_message(view, on=playlist == "on"))


async def setup(bot: EncoreBot) -> None:
    await bot.add_cog(Radar(bot))
