"""Names that come from Spotify users (playlists, tracks, owners), made safe to show.

Anyone can name a playlist `@everyone **FREE NITRO**`: shown names are cut to a length,
stripped of mentions and markdown, and only then put inside our own formatting.
"""

from __future__ import annotations

import re

from discord.utils import escape_markdown, escape_mentions

_BRACKET = re.compile(r"(?<!\\)([\[\]])")


def shown(name: str, limit: int = 80) -> str:
    """`name` as plain text inside markdown: no mention, no formatting, at most `limit` chars."""
    if len(name) > limit:
        name = name[: limit - 1].rstrip() + "…"
    return escape_markdown(escape_mentions(name))


def linked(name: str, url: str | None, limit: int = 80) -> str:
    """`name` as a markdown link to `url` (plain text when there is none)."""
    text = shown(name, limit)
    if not url:
        return text
    # A `]` in a name would end the link text early; escape_markdown leaves brackets alone.
    text = _BRACKET.sub(r"\\\1", text)
    return f"[{text}]({url})"
