"""A user's Spotify playlists and their tracks: listed, cached briefly, found by name or link.

The list is cached per Discord user for a minute in this process (each gateway process
has its own cache; nothing else depends on it), so paging, autocomplete and a command run
twice cost Spotify one round of calls, not one per keystroke.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.clock import Clock
from bot.errors import BadInput, EncoreError, NotFound, PlaylistNotReadable
from bot.music import ArtistRef, PlaylistSummary, Track
from bot.spotify import (
    PAGE_SIZE,
    SpotifyForbidden,
    SpotifyGateway,
    is_spotify_id,
    playlist_id_in_link,
    user_pages,
)

log = logging.getLogger(__name__)

CACHE_TTL = dt.timedelta(seconds=60)
# Autocomplete must answer within Discord's 3 s; the first keystroke may wait this long
# for the list, and the fill carries on in the background if Spotify is slower.
AUTOCOMPLETE_WAIT = 2.0
SUGGESTIONS = 25  # Discord shows at most 25 choices


def matching(playlists: Sequence[PlaylistSummary], typed: str) -> list[PlaylistSummary]:
    """Playlists whose name contains `typed`: exact names first, then prefixes, then the rest."""
    wanted = typed.strip().casefold()
    if not wanted:
        return list(playlists)

    def rank(playlist: PlaylistSummary) -> int:
        name = playlist.name.casefold()
        return 0 if name == wanted else 1 if name.startswith(wanted) else 2

    found = [playlist for playlist in playlists if wanted in playlist.name.casefold()]
    return sorted(found, key=rank)  # stable: Spotify's order within a rank


@dataclass
class _CachedList:
    playlists: tuple[PlaylistSummary, ...]
    fetched_at: dt.datetime


ChunkLoader = Callable[[int], Awaitable[tuple[int, list[Track | None]]]]


class PlaylistTracks:
    """One playlist's tracks, fetched from Spotify a page of `PAGE_SIZE` at a time as they
    are shown."""

    def __init__(
        self,
        playlist: PlaylistSummary,
        load: ChunkLoader,
        total: int,
        first_chunk: list[Track | None],
        *,
        per_page: int,
    ) -> None:
        self.playlist = playlist
        self.total = total
        self.per_page = per_page
        self._load = load
        self._chunks: dict[int, list[Track | None]] = {0: first_chunk}

    @property
    def page_count(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    async def page(self, number: int) -> list[tuple[int, Track | None]]:
        """Page `number` (0-based) as (position, track) pairs; None for an unavailable item."""
        first = number * self.per_page
        last = min(first + self.per_page, self.total)
        shown: list[tuple[int, Track | None]] = []
        for position in range(first, last):
            offset = position - position % PAGE_SIZE
            if offset not in self._chunks:
                total, entries = await self._load(offset)
                self._chunks[offset] = entries
                self.total = total  # the playlist may have changed since we first looked
            chunk = self._chunks[offset]
            if position - offset >= len(chunk):
                break
            shown.append((position + 1, chunk[position - offset]))
        return shown


def _entry(item: dict[str, Any] | None) -> Track | None:
    """A playlist entry's `item` as a Track; local files have no id, removed tracks no item."""
    if not item:
        return None
    if item.get("id"):
        return Track.from_spotify(item)
    return Track(
        id="",
        name=str(item.get("name") or "Untitled"),
        artists=tuple(ArtistRef.from_spotify(a) for a in item.get("artists") or []),
    )


class PlaylistService:
    def __init__(
        self,
        spotify: SpotifyGateway,
        clock: Clock,
        *,
        ttl: dt.timedelta = CACHE_TTL,
        autocomplete_wait: float = AUTOCOMPLETE_WAIT,
    ) -> None:
        self._spotify = spotify
        self._clock = clock
        self._ttl = ttl
        self._autocomplete_wait = autocomplete_wait
        self._cache: dict[int, _CachedList] = {}
        # One fill per user at a time: a command and autocomplete arriving together share it.
        self._filling: dict[int, asyncio.Task[tuple[PlaylistSummary, ...]]] = {}

    # -- the list ----------------------------------------------------------------------

    async def playlists(self, discord_user_id: int) -> tuple[PlaylistSummary, ...]:
        """All of the user's playlists in Spotify's order (cached for a minute)."""
        cached = self._fresh(discord_user_id)
        if cached is not None:
            return cached
        # Shielded: if this command gives up, the list still lands in the cache.
        return await asyncio.shield(self._fill(discord_user_id))

    async def suggestions(self, discord_user_id: int, typed: str) -> list[PlaylistSummary]:
        """Autocomplete: never more than one fill per minute, and never late for Discord."""
        cached = self._fresh(discord_user_id)
        if cached is None:
            try:
                cached = await asyncio.wait_for(
                    asyncio.shield(self._fill(discord_user_id)), self._autocomplete_wait
                )
            except (TimeoutError, EncoreError):
                return []  # the command itself will explain (not linked, Spotify busy...)
        return matching(cached, typed)[:SUGGESTIONS]

    def forget(self, discord_user_id: int) -> None:
        """Drop the cached list (after /unlink, so nothing is shown from the old account)."""
        self._cache.pop(discord_user_id, None)
        self._filling.pop(discord_user_id, None)  # a fill under way will not be cached

    def _fresh(self, discord_user_id: int) -> tuple[PlaylistSummary, ...] | None:
        cached = self._cache.get(discord_user_id)
        if cached is None or self._clock.now() - cached.fetched_at >= self._ttl:
            return None
        return cached.playlists

    def _fill(self, discord_user_id: int) -> asyncio.Task[tuple[PlaylistSummary, ...]]:
        task = self._filling.get(discord_user_id)
        if task is None:
            task = asyncio.create_task(self._fetch_all(discord_user_id))
            self._filling[discord_user_id] = task
            task.add_done_callback(lambda done: self._filled(discord_user_id, done))
        return task

    def _filled(
        self, discord_user_id: int, task: asyncio.Task[tuple[PlaylistSummary, ...]]
    ) -> None:
        # The exception is retrieved here, so an abandoned autocomplete fill logs no warning.
        failed = task.cancelled() or task.exception() is not None
        if self._filling.get(discord_user_id) is not task:
            return  # forgotten while under way: the list may be the old account's
        del self._filling[discord_user_id]
        if failed:
            return
        now = self._clock.now()
        # Expired lists are dropped as new ones arrive, so the cache holds active users only.
        for user, entry in list(self._cache.items()):
            if now - entry.fetched_at >= self._ttl:
                del self._cache[user]
        self._cache[discord_user_id] = _CachedList(task.result(), now)

    async def _fetch_all(self, discord_user_id: int) -> tuple[PlaylistSummary, ...]:
        found: list[PlaylistSummary] = []
        async for page in user_pages(
            self._spotify, discord_user_id, lambda sp: sp.current_user_playlists(limit=PAGE_SIZE)
        ):
            found.extend(PlaylistSummary.from_spotify(item) for item in page["items"] if item)
        return tuple(found)

    # -- one playlist ------------------------------------------------------------------

    async def open(self, discord_user_id: int, value: str, *, per_page: int = 10) -> PlaylistTracks:
        """The playlist the user chose (an id from autocomplete, a name, a URL or URI)."""
        playlist = await self._find(discord_user_id, value.strip())

        async def load(offset: int) -> tuple[int, list[Track | None]]:
            return await self._items(discord_user_id, playlist.id, offset)

        total, first = await load(0)
        return PlaylistTracks(playlist, load, total, first, per_page=per_page)

    async def _find(self, discord_user_id: int, value: str) -> PlaylistSummary:
        if not value:
            raise BadInput("Choose one of your playlists, or paste a Spotify playlist link.")
        playlist_id = playlist_id_in_link(value) or (value if is_spotify_id(value) else None)
        cached = self._fresh(discord_user_id)
        if cached is not None:
            for playlist in cached:
                if playlist.id == playlist_id:
                    return playlist
        if playlist_id is None:
            return playlist_named(cached or await self.playlists(discord_user_id), value)
        # A link or an id: one call for its name, rather than a whole list of playlists.
        try:
            item: dict[str, Any] = await self._spotify.as_user(
                discord_user_id, lambda sp: sp.playlist(playlist_id, fields=_SUMMARY_FIELDS)
            )
        except (NotFound, BadInput):
            if playlist_id != value:
                raise
            # 22 letters and digits can be a name too.
            return playlist_named(cached or await self.playlists(discord_user_id), value)
        return PlaylistSummary.from_spotify(item)

    async def _items(
        self, discord_user_id: int, playlist_id: str, offset: int
    ) -> tuple[int, list[Track | None]]:
        try:
            page: dict[str, Any] = await self._spotify.as_user(
                discord_user_id,
                lambda sp: sp.playlist_items(
                    playlist_id, limit=PAGE_SIZE, offset=offset, additional_types=("track",)
                ),
            )
        except SpotifyForbidden as error:
            raise unreadable(error) from None
        return int(page.get("total") or 0), [_entry(entry.get("item")) for entry in page["items"]]


def unreadable(error: SpotifyForbidden) -> EncoreError:
    """A 403 on a playlist's contents: the playlist is someone else's, unless the app refuses
    this user everything (development mode), which is the error to show."""
    return error if error.development_mode else PlaylistNotReadable()


def playlist_named(playlists: Sequence[PlaylistSummary], name: str) -> PlaylistSummary:
    """The one playlist a typed name means: its exact name, else the only partial match."""
    named = matching(playlists, name)
    exact = [playlist for playlist in named if playlist.name.casefold() == name.casefold()]
    if len(exact) == 1 or len(named) == 1:
        return (exact or named)[0]
    if named:
        raise BadInput(
            f"{len(named)} of your playlists match that name: pick one from the suggestions."
        )
    raise BadInput(
        "None of your playlists has that name. Pick one from the suggestions, or paste a "
        "Spotify playlist link."
    )


_SUMMARY_FIELDS = "id,name,owner,collaborative,snapshot_id,external_urls,items.total,tracks.total"
