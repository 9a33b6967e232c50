"""The sources a queue shuffles: a user's playlist or liked songs, read from Spotify, and
the version that tells whether a source changed since its queue was made."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import BadInput
from bot.music import Track
from bot.playlists import PlaylistService, playlist_named, unreadable
from bot.shuffle.order import distinct
from bot.spotify import (
    PAGE_SIZE,
    SpotifyForbidden,
    SpotifyGateway,
    is_spotify_id,
    playlist_id_in_link,
    user_pages,
)
from bot.spotify.webapi import WebAPI

LIKED = "liked"  # the `source` of a liked-songs queue; any other source is a playlist id
LIKED_NAME = "Liked songs"


@dataclass(frozen=True)
class SourceContents:
    """A source as Spotify has it now; `version` is the snapshot id (or a liked-songs stamp)."""

    source: str
    name: str
    version: str | None
    tracks: list[Track]


def _parse_tracks(entries: Sequence[dict[str, Any]], field: str) -> list[Track]:
    """Playable tracks of a page's entries: no local files, episodes or removed items."""
    tracks: list[Track] = []
    for entry in entries:
        item = entry.get(field)
        if not item or not item.get("id") or entry.get("is_local"):
            continue
        if item.get("type", "track") != "track":
            continue
        tracks.append(Track.from_spotify(item))
    return distinct(tracks)


def _liked_version(page: dict[str, Any]) -> str:
    """Liked songs have no snapshot id: the count and the newest song change with any save
    or removal (a like always becomes the newest)."""
    items = page.get("items") or []
    newest = ((items[0].get("track") or {}).get("id") if items else None) or ""
    return f"liked:{page.get('total', 0)}:{newest}"


class SourceReader:
    """Reads shuffle sources from Spotify as the user: what they chose, its version, its
    tracks."""

    def __init__(self, spotify: SpotifyGateway, playlists: PlaylistService) -> None:
        self._spotify = spotify
        self._playlists = playlists

    async def resolve(self, discord_user_id: int, choice: str) -> str:
        """The source the user chose: liked songs, an id from autocomplete, a link or a name."""
        value = choice.strip()
        if not value:
            raise BadInput("Choose one of your playlists, or Liked songs.")
        if value.casefold() in (LIKED, LIKED_NAME.casefold()):
            return LIKED
        found = playlist_id_in_link(value)
        if found is not None:
            return found
        if is_spotify_id(value):
            return value  # autocomplete's value; Spotify says if it is not a playlist
        return playlist_named(await self._playlists.playlists(discord_user_id), value).id

    async def version(self, discord_user_id: int, source: str) -> str | None:
        if source == LIKED:
            page = await self._spotify.as_user(
                discord_user_id, lambda sp: sp.current_user_saved_tracks(limit=1)
            )
            return _liked_version(page)
        meta = await self._playlist(discord_user_id, source)
        return meta.get("snapshot_id")

    async def _playlist(self, discord_user_id: int, playlist_id: str) -> dict[str, Any]:
        try:
            meta: dict[str, Any] = await self._spotify.as_user(
                discord_user_id,
                lambda sp: sp.playlist(
                    playlist_id, fields="id,name,snapshot_id,owner,collaborative,items.total"
                ),
            )
        except SpotifyForbidden as error:
            raise unreadable(error) from None
        return meta

    async def read(self, discord_user_id: int, source: str) -> SourceContents:
        """Everything in the source, every page. The version is read first, so a change
        during the read is caught by the next check rather than missed."""
        if source == LIKED:
            first, entries = await self._pages(
                discord_user_id, lambda sp: sp.current_user_saved_tracks(limit=PAGE_SIZE)
            )
            return SourceContents(
                LIKED, LIKED_NAME, _liked_version(first), _parse_tracks(entries, "track")
            )
        meta = await self._playlist(discord_user_id, source)
        try:
            _, entries = await self._pages(
                discord_user_id,
                lambda sp: sp.playlist_items(source, limit=PAGE_SIZE, additional_types=("track",)),
            )
        except SpotifyForbidden as error:
            raise unreadable(error) from None
        name = str(meta.get("name") or "Untitled playlist")
        return SourceContents(source, name, meta.get("snapshot_id"), _parse_tracks(entries, "item"))

    async def _pages(
        self, discord_user_id: int, first: Callable[[WebAPI], dict[str, Any]]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The first page (it carries the totals) and every page's entries."""
        pages = [page async for page in user_pages(self._spotify, discord_user_id, first)]
        return pages[0], [entry for page in pages for entry in page.get("items") or []]
