"""Spotify ids, and the links and URIs users paste that carry them: one parser for all.

Recognised, anywhere in a text: `https://open.spotify.com/track/ID` (album, playlist too),
with a locale (`/intl-de/`, `/intl-pt-BR/`), `/embed/`, the old `/user/NAME/playlist/ID`,
`?si=` and other query strings; `spotify:track:ID` URIs and `spotify:user:NAME:playlist:ID`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

# Every Spotify id (track, album, artist, playlist) is 22 letters and digits.
SPOTIFY_ID = re.compile(r"[A-Za-z0-9]{22}")

Kind = Literal["track", "album", "playlist"]
KINDS: tuple[Kind, ...] = ("track", "album", "playlist")

_END = r"(?![A-Za-z0-9])"  # an id is exactly 22 characters: no 23rd one
_LINKS = re.compile(
    r"open\.spotify\.com/"
    r"(?:intl-[A-Za-z]{2}(?:[-_][A-Za-z]{2,4})?/)?"
    r"(?:embed/)?"
    r"(?:user/[^/\s]+/)?"
    r"(?P<kind>track|album|playlist)/(?P<id>[A-Za-z0-9]{22})"
    + _END
    + r"|spotify:(?:user:[^:\s]+:)?(?P<uri_kind>track|album|playlist):(?P<uri_id>[A-Za-z0-9]{22})"
    + _END,
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SpotifyRef:
    """A track, album or playlist a link or URI names."""

    kind: Kind
    id: str

    @property
    def uri(self) -> str:
        return f"spotify:{self.kind}:{self.id}"

    @property
    def url(self) -> str:
        return f"https://open.spotify.com/{self.kind}/{self.id}"


def spotify_refs_in(text: str) -> list[SpotifyRef]:
    """Every track, album and playlist linked in `text`, in order, each once."""
    found: list[SpotifyRef] = []
    for match in _LINKS.finditer(text):
        kind = (match["kind"] or match["uri_kind"]).lower()
        ref = SpotifyRef(kind, match["id"] or match["uri_id"])  # type: ignore[arg-type]
        if ref not in found:
            found.append(ref)
    return found


def is_spotify_id(text: str) -> bool:
    """Whether `text` could be an id (22 letters and digits can be a name too)."""
    return SPOTIFY_ID.fullmatch(text) is not None


def _first(text: str, kind: Kind) -> str | None:
    return next((ref.id for ref in spotify_refs_in(text) if ref.kind == kind), None)


def playlist_id_in_link(text: str) -> str | None:
    """The id in a Spotify playlist URL or URI, or None if `text` is neither."""
    return _first(text, "playlist")


def track_id_in(text: str) -> str | None:
    """The track id in a bare id, a `spotify:track:` URI or an open.spotify.com link."""
    text = text.strip()
    if is_spotify_id(text):
        return text
    return _first(text, "track")
