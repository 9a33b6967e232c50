"""Where new releases come from: Spotify endpoints tried in order, since which of them an
app may use depends on when it was created and its quota (see `../shared/notes/spotify.md`)."""

from __future__ import annotations

from typing import Any, Protocol

from bot.spotify import PAGE_SIZE, SEARCH_PAGE_SIZE
from bot.spotify.webapi import SpotifyHTTPError, WebAPI


class SourceUnavailable(Exception):
    """The source answered 403/404/410: it does not exist for this app; try the next one."""

    def __init__(self, status: int) -> None:
        self.status = status
        super().__init__(f"answered {status}")


Page = tuple[list[dict[str, Any]], bool]  # the albums, and whether another page follows


class ReleaseSource(Protocol):
    name: str
    page_size: int

    def fetch(self, sp: WebAPI, offset: int) -> Page:
        """One page of albums at `offset` (runs in a Spotify thread)."""
        ...

    def wanted(self, cap: int) -> int:
        """How many albums to read at most."""
        ...


def _gone(error: SpotifyHTTPError) -> bool:
    return error.http_status in (403, 404, 410)


class NewReleasesSource:
    """`GET /browse/new-releases`: extended-quota apps, and apps created before 2026-02-11."""

    name = "new-releases"
    page_size = PAGE_SIZE

    def fetch(self, sp: WebAPI, offset: int) -> Page:
        try:
            answer = sp.new_releases(limit=self.page_size, offset=offset)
        except SpotifyHTTPError as error:
            if _gone(error):
                raise SourceUnavailable(error.http_status) from None
            raise
        albums = (answer or {}).get("albums") or {}
        return list(albums.get("items") or []), bool(albums.get("next"))

    def wanted(self, cap: int) -> int:
        return 1000  # Spotify serves about 100; the page's `next` ends it


class TagNewSearchSource:
    """`GET /search?q=tag:new&type=album`: albums of the last two weeks, 10 a page."""

    name = "search-tag-new"
    page_size = SEARCH_PAGE_SIZE

    def fetch(self, sp: WebAPI, offset: int) -> Page:
        try:
            answer = sp.search(q="tag:new", type="album", limit=self.page_size, offset=offset)
        except SpotifyHTTPError as error:
            if _gone(error):
                raise SourceUnavailable(error.http_status) from None
            raise
        albums = (answer or {}).get("albums") or {}
        return list(albums.get("items") or []), bool(albums.get("next"))

    def wanted(self, cap: int) -> int:
        return cap


DEFAULT_SOURCES: tuple[ReleaseSource, ...] = (NewReleasesSource(), TagNewSearchSource())
