"""How /releases looks: artists with their new releases, a page of five at a time."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.releases import ArtistReleases, StoredRelease
from bot.ui.messages import ACCENT
from bot.ui.names import linked, shown

ARTISTS_PER_PAGE = 5
RELEASES_PER_ARTIST = 5


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


def no_releases_message(*, stored_any: bool, days: int, interval_hours: float) -> str:
    hours = f"{interval_hours:g}"
    if not stored_any:
        return (
            "No new releases are stored yet. Encore fetches them from Spotify every "
            f"{hours} h (the first time shortly after it starts): try again later."
        )
    return (
        f"Nothing in Encore's copy was released in the last {days} days. "
        f"It is refreshed from Spotify every {hours} h."
    )
