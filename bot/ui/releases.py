"""How /releases looks: artists with their new releases, a page of five at a time."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.releases import ArtistReleases, StoredRelease
from bot.ui import fit
from bot.ui.messages import ACCENT
from bot.ui.names import linked, shown

ARTISTS_PER_PAGE = 5
PAGE_FOOTER = 80  # "Page 12 of 40 · buttons expired, run the command again"
RELEASES_PER_ARTIST = 5


def _when(release: StoredRelease) -> str:
    day = release.release_date
    if release.precision == "year":
        return f"{day:%Y}"
    if release.precision == "month":
        return f"{day:%B %Y}"
    return f"{day.day} {day:%b %Y}"


def _release_line(release: StoredRelease, size: int = 70) -> str:
    tracks = f"{release.total_tracks} tracks" if release.total_tracks != 1 else "1 track"
    name = linked(release.name, release.url, size)
    return f"{name} · {release.album_type} · {tracks} · {_when(release)}"


def _artist_field(artist: ArtistReleases, limit: int = fit.FIELD_VALUE) -> str:
    """The artist's releases in at most `limit` characters (a field's 1,024, or its share of
    the page's 6,000): names shrink first, then releases are left out from the end."""
    shown_releases = artist.releases[:RELEASES_PER_ARTIST]
    more = len(artist.releases) - len(shown_releases)

    def render(size: int) -> str:
        lines = [_release_line(release, size) for release in shown_releases]
        if more:
            lines.append(f"…and {more} more")
        if artist.url:
            lines.insert(0, f"[Artist on Spotify]({artist.url})")
        return "\n".join(lines)

    return fit.shrink(render, limit, longest=70, shortest=20)


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
    for name, value in _fields(page, fit.embed_size(embed)):
        embed.add_field(name=name, value=value, inline=False)
    if page and page[0].latest_release.image_url:
        embed.set_thumbnail(url=page[0].latest_release.image_url)
    return embed


# Rendered fields of recent pages. The releases' reads keep one answer (the same objects)
# until the copy changes, so a busy /releases renders each page once per version of the copy:
# a page is known by the identity of its artists, held here so that no other object can
# take their ids while the entry is kept.
_RENDERED_KEPT = 64
_rendered: dict[tuple[object, ...], tuple[tuple[ArtistReleases, ...], list[tuple[str, str]]]] = {}


def _fields(page: Sequence[ArtistReleases], header_size: int) -> list[tuple[str, str]]:
    key = (header_size, *map(id, page))
    kept = _rendered.get(key)
    if kept is not None and all(a is b for a, b in zip(kept[0], page, strict=True)):
        return kept[1]
    # The page's 6,000 characters, shared by its artists (the paginator's footer included).
    names = [shown(artist.name, 200) or "Unknown artist" for artist in page]
    left = fit.EMBED_TOTAL - header_size - PAGE_FOOTER
    share = left // max(1, len(page))
    fields = [
        (name, _artist_field(artist, min(fit.FIELD_VALUE, share - len(name))))
        for artist, name in zip(page, names, strict=True)
    ]
    if len(_rendered) >= _RENDERED_KEPT:
        del _rendered[next(iter(_rendered))]  # the oldest
    _rendered[key] = (tuple(page), fields)
    return fields


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
