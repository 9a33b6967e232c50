"""Spotify ids, and the links and URIs users paste that carry them."""

from __future__ import annotations

import re

# Every Spotify id (track, album, artist, playlist) is 22 letters and digits.
SPOTIFY_ID = re.compile(r"[A-Za-z0-9]{22}")
_PLAYLIST_LINK = re.compile(
    r"(?:open\.spotify\.com/(?:[\w-]+/)?playlist/|spotify:playlist:)([A-Za-z0-9]{22})"
)
_TRACK_LINK = re.compile(
    r"(?:spotify:track:|open\.spotify\.com/(?:intl-[A-Za-z-]+/)?track/)([A-Za-z0-9]{22})"
)


def is_spotify_id(text: str) -> bool:
    """Whether `text` could be an id (22 letters and digits can be a name too)."""
    return SPOTIFY_ID.fullmatch(text) is not None


def playlist_id_in_link(text: str) -> str | None:
    """The id in a Spotify playlist URL or URI, or None if `text` is neither."""
    found = _PLAYLIST_LINK.search(text)
    return found.group(1) if found else None


def track_id_in(text: str) -> str | None:
    """The track id in a bare id, a `spotify:track:` URI or an open.spotify.com link."""
    text = text.strip()
    if is_spotify_id(text):
        return text
    found = _TRACK_LINK.search(text)
    return found.group(1) if found else None
