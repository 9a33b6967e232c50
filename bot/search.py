"""Searching Spotify's catalogue for tracks, albums or artists, one page of 10 at a time.

Search is not personal, so it runs on the app's client-credentials token: users who never
linked an account can search too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from bot.errors import BadInput
from bot.music import Album, ArtistRef, Track
from bot.spotify import SEARCH_MAX_OFFSET, SEARCH_PAGE_SIZE, SpotifyGateway

SearchKind = Literal["track", "album", "artist"]
SearchResult = Track | Album | ArtistRef

PAGE_SIZE = SEARCH_PAGE_SIZE  # results a page shows: as many as one call gives
MAX_OFFSET = SEARCH_MAX_OFFSET
MAX_QUERY_LENGTH = 200


@dataclass(frozen=True)
class SearchPage:
    query: str
    kind: SearchKind
    page: int  # 0-based
    total: int  # what Spotify says matches, even beyond what it lets us page to
    results: tuple[SearchResult, ...]

    @property
    def page_count(self) -> int:
        """Pages we can show: Spotify answers `offset + limit <= 1000` only, whatever `total`
        says (1,000 results: 100 pages of 10)."""
        return max(1, min(math.ceil(self.total / PAGE_SIZE), MAX_OFFSET // PAGE_SIZE))

    @property
    def first_position(self) -> int:
        return self.page * PAGE_SIZE + 1


def clean_query(raw: str) -> str:
    """The query as Spotify should see it; a blank or overlong one is refused here.

    Discord enforces the option's `max_length`, but a raw interaction payload need not.
    """
    query = " ".join(raw.split())
    if not query:
        raise BadInput("Type something to search for.")
    if len(query) > MAX_QUERY_LENGTH:
        raise BadInput(
            f"That search is too long: keep it under {MAX_QUERY_LENGTH} characters "
            f"(it has {len(query)})."
        )
    return query


def _parse(kind: SearchKind, item: dict[str, Any]) -> SearchResult:
    if kind == "track":
        return Track.from_spotify(item)
    if kind == "album":
        return Album.from_spotify(item)
    return ArtistRef.from_spotify(item)


class SearchService:
    def __init__(self, spotify: SpotifyGateway) -> None:
        self._spotify = spotify

    async def search(self, raw_query: str, kind: SearchKind = "track", page: int = 0) -> SearchPage:
        query = clean_query(raw_query)
        # The last page Spotify serves ends at result 1,000 (`offset + limit <= 1000`).
        offset = min(max(page, 0) * PAGE_SIZE, MAX_OFFSET - PAGE_SIZE)
        answer: dict[str, Any] = await self._spotify.as_app(
            lambda sp: sp.search(query, limit=PAGE_SIZE, offset=offset, type=kind)
        )
        found: dict[str, Any] = answer.get(f"{kind}s") or {}
        results = tuple(_parse(kind, item) for item in found.get("items") or [] if item)
        return SearchPage(query, kind, offset // PAGE_SIZE, int(found.get("total") or 0), results)
