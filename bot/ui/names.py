"""Names that come from Spotify users (playlists, tracks, owners), made safe to show.

Anyone can name a playlist `@everyone **FREE NITRO**`: shown names are stripped of mentions
and markdown, then cut to a length (in that order: `bot.ui.fit`), and only then put inside
our own formatting.
"""

from __future__ import annotations

from bot.ui import fit


def shown(name: str, limit: int = 80) -> str:
    """`name` as plain text inside markdown: no mention, no formatting, at most `limit` chars."""
    return fit.name(name, limit)


def linked(name: str, url: str | None, limit: int = 80) -> str:
    """`name` as a markdown link to `url` (plain text when there is none)."""
    return fit.link(name, url, limit)
