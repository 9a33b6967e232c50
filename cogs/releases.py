"""/releases: artists with new releases, read from the local copy (never a Spotify call)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import EncoreBot
from bot.ui.installs import personal
from bot.ui.messages import reply
from bot.ui.paginator import Paginator, chunk
from bot.ui.releases import ARTISTS_PER_PAGE, no_releases_message, releases_embed

BUTTONS_TIMEOUT = 300.0


class Releases(commands.Cog):
    def __init__(self, bot: EncoreBot) -> None:
        self.bot = bot
        self.releases = bot.services.releases

    @app_commands.command(name="releases", description="Artists with new releases")
    @personal
    @app_commands.describe(
        limit="How many of the latest releases to look at (1-100, default 20)",
        days="How many days back to look (1-60, default 14)",
    )
    async def releases_command(
        self,
        interaction: discord.Interaction[EncoreBot],
        limit: app_commands.Range[int, 1, 100] = 20,
        days: app_commands.Range[int, 1, 60] = 14,
    ) -> None:
        artists = await self.releases.latest_by_artist(limit=limit, days=days)
        if not artists:
            message = no_releases_message(
                stored_any=await self.releases.count() > 0,
                days=days,
                interval_hours=self.bot.services.settings.release_ingest_interval_hours,
            )
            await reply(interaction, message)
            return
        pages = chunk(artists, ARTISTS_PER_PAGE)

        async def render(page: int) -> discord.Embed:
            return releases_embed(pages[page], len(artists), limit, days)

        paginator = Paginator(interaction.user.id, len(pages), render, timeout=BUTTONS_TIMEOUT)
        await paginator.start(interaction)


async def setup(bot: EncoreBot) -> None:
    await bot.add_cog(Releases(bot))
