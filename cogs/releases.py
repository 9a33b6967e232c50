"""/releases: artists with new releases, read from the local copy (never a Spotify call)."""

from __future__ import annotations

from collections.abc import Sequence

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import EncoreBot
from bot.releases import ArtistReleases, StoredRelease
from bot.ui.messages import ACCENT, reply
from bot.ui.names import linked, shown
from bot.ui.paginator import Paginator, chunk

ARTISTS_PER_PAGE = 5
RELEASES_PER_ARTIST = 5
BUTTONS_TIMEOUT = 300.0


def _when(release: StoredRelease) -> str:
    day = release.release_date
    if release.precision == "year":
        return f"{day:%Y}"
    if release.precision == "month":
        return f"{day:%B %Y}"
    return f"{day.day} {day:%b %Y}"


def _release_line(release: StoredRelease) -> str:
    tracks = f"{release.total_tracks} tracks" if release.total_tracks != 1 else "1 track"
    return f"{linked(release.name, release.url, 70)} · {release.album_type} · {tracks} · {_when(release)}"


def _artist_field(artist: ArtistReleases) -> str:
    lines = [_release_line(release) for release in artist.releases[:RELEASES_PER_ARTIST]]
    if len(artist.releases) > RELEASES_PER_ARTIST:
        lines.append(f"…and {len(artist.releases) - RELEASES_PER_ARTIST} more")
    if artist.url:
        lines.insert(0, f"[Artist on Spotify]({artist.url})")
    value = "\n".join(lines)
    while len(value) > 1024:  # a field's limit: drop releases from the end
        lines.pop(-1)
        value = "\n".join([*lines, "…"])
    return value


def releases_embed(
    page: Sequence[ArtistReleases], artist_count: int, limit: int, days: int
) -> discord.Embed:
    embed = discord.Embed(
        title=f"New releases of the last {days} days",
        description=(
            f"{artist_count} artists behind the {limit} latest releases, newest first. "
            "From Encore's copy of Spotify's new releases."
        ),
        colour=ACCENT,
    )
    for artist in page:
        embed.add_field(name=shown(artist.name, 200), value=_artist_field(artist), inline=False)
    if page and page[0].latest_release.image_url:
        embed.set_thumbnail(url=page[0].latest_release.image_url)
    return embed


class Releases(commands.Cog):
    def __init__(self, bot: EncoreBot) -> None:
        self.bot = bot
        self.releases = bot.services.releases

    @app_commands.command(name="releases", description="Artists with new releases")
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
            hours = f"{self.bot.services.settings.release_ingest_interval_hours:g}"
            if await self.releases.count() == 0:
                message = (
                    "No new releases are stored yet. Encore fetches them from Spotify every "
                    f"{hours} h (the first time shortly after it starts): try again later."
                )
            else:
                message = (
                    f"Nothing in Encore's copy was released in the last {days} days. "
                    f"It is refreshed from Spotify every {hours} h."
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
