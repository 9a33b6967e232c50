"""The likes service: tracks a user likes through Encore, kept in PostgreSQL and saved to
their Spotify library when they allowed it; privacy of the list, import of Spotify's liked
songs."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from bot.clock import Clock
from bot.errors import BadInput, EncoreError, LinkRemoved, MissingScope, NotFound, NotLinked
from bot.likes.results import (
    ImportProgress,
    ImportResult,
    LikedTrack,
    LikeResult,
    LikesPage,
    LikesPrivate,
    NothingPlaying,
    NotInLikes,
    ProgressReport,
    UnlikeResult,
)
from bot.likes.search_cache import TrackSearchCache, normalise
from bot.music import Track
from bot.spotify import (
    PAGE_SIZE,
    SEARCH_PAGE_SIZE,
    SpotifyGateway,
    is_spotify_id,
    track_id_in,
    user_pages,
)
from db.engine import DriverReads, SessionFactory, again_if_connection_lost
from db.erasure import still_linked, writing_about
from db.models import Like, SpotifyLink, UserPreferences

log = logging.getLogger(__name__)

SAVE_SCOPE = "user-library-modify"
READ_SCOPE = "user-library-read"

# `/likes`, built once (compiled once): whether the owner shares, how many, one page of them.
_LIKES = Like.__table__
_LIKES_PUBLIC = select(UserPreferences.__table__.c.likes_public).where(
    UserPreferences.__table__.c.discord_user_id == bindparam("owner")
)
_LIKES_COUNT = (
    select(func.count()).select_from(_LIKES).where(_LIKES.c.discord_user_id == bindparam("owner"))
)
_LIKES_PAGE = (
    select(
        _LIKES.c.track_id,
        _LIKES.c.track_name,
        _LIKES.c.artist_names,
        _LIKES.c.album_name,
        _LIKES.c.url,
        _LIKES.c.liked_at,
    )
    .where(_LIKES.c.discord_user_id == bindparam("owner"))
    .order_by(_LIKES.c.liked_at.desc(), _LIKES.c.id.desc())
    .offset(bindparam("skip"))
    .limit(bindparam("size"))
)


@dataclass(frozen=True)
class _Granted:
    """The user's link when the work began: what it may do, and the generation its writes
    are anchored to (`db.erasure`: after /forget-me or /unlink they store nothing)."""

    scopes: frozenset[str]
    generation: int


class LikeService:
    def __init__(self, sessions: SessionFactory, spotify: SpotifyGateway, clock: Clock) -> None:
        self._sessions = sessions
        self._driver = DriverReads(sessions)  # likes pages
        self._spotify = spotify
        self._clock = clock
        self.search_cache = TrackSearchCache(self._search, clock)

    # -- suggestions -----------------------------------------------------------------------

    async def suggest(self, discord_user_id: int, text: str) -> Sequence[Track | LikedTrack]:
        """Tracks for `/like` autocomplete: Spotify's matches, or recent likes for short text."""
        if len(normalise(text)) < 2:
            return await self.recent(discord_user_id, limit=10)
        return await self.search_cache.tracks(text)

    async def recent(
        self, discord_user_id: int, *, text: str = "", limit: int = 25
    ) -> list[LikedTrack]:
        """The user's likes, newest first, whose name or artists contain `text`."""
        query = (
            select(Like)
            .where(Like.discord_user_id == discord_user_id)
            .order_by(Like.liked_at.desc(), Like.id.desc())
            .limit(limit)
        )
        if text.strip():
            pattern = f"%{_escape_like(text.strip())}%"
            query = query.where(
                or_(Like.track_name.ilike(pattern), Like.artist_names.ilike(pattern))
            )
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [LikedTrack.from_row(row) for row in rows]

    async def _search(self, text: str) -> list[Track]:
        found: dict[str, Any] = await self._spotify.as_app(
            lambda sp: sp.search(text, limit=SEARCH_PAGE_SIZE, type="track")
        )
        items = (found.get("tracks") or {}).get("items") or []
        return [Track.from_spotify(item) for item in items if item and item.get("id")]

    # -- liking ----------------------------------------------------------------------------

    async def like(self, discord_user_id: int, query: str | None) -> LikeResult:
        """Like a track named by id, link or text; without a query, what the user plays now."""
        granted = await self._granted_scopes(discord_user_id)
        if query is None or not query.strip():
            playing = await self._now_playing(discord_user_id)
            return await self._like(discord_user_id, playing, granted)
        track_id = track_id_in(query)
        named = await self._track_or_none(track_id) if track_id else None
        if named is not None:
            return await self._like(discord_user_id, named, granted)
        if track_id and not is_spotify_id(query.strip()):
            raise NotFound  # a link to a track Spotify does not know
        # Free text (or 22 letters that were no track id): the top search result.
        found = await self._top_result(query)
        result = await self._like(discord_user_id, found, granted)
        return replace(result, searched_for=query.strip())

    async def like_track(self, discord_user_id: int, track_id: str) -> LikeResult:
        """A like button on a track."""
        granted = await self._granted_scopes(discord_user_id)
        track = await self._track_or_none(track_id)
        if track is None:
            raise NotFound
        return await self._like(discord_user_id, track, granted)

    async def like_album(self, discord_user_id: int, album_id: str) -> LikeResult:
        """A like button on a release: likes are tracks, so its first track is liked."""
        granted = await self._granted_scopes(discord_user_id)
        album: dict[str, Any] = await self._spotify.as_app(lambda sp: sp.album(album_id))
        items = (album.get("tracks") or {}).get("items") or []
        if not items:
            raise NotFound
        first = dict(items[0])
        first.setdefault("album", {"name": album.get("name")})  # simplified tracks lack it
        result = await self._like(discord_user_id, Track.from_spotify(first), granted)
        return replace(result, album_name=str(album.get("name") or ""))

    async def _like(self, discord_user_id: int, track: Track, granted: _Granted) -> LikeResult:
        new, saved = await self._store(discord_user_id, track, granted.generation)
        if saved:
            return LikeResult(track, already_liked=not new, saved_to_spotify=True)
        if SAVE_SCOPE not in granted.scopes:
            return LikeResult(
                track, already_liked=not new, saved_to_spotify=False, scope_missing=True
            )
        try:
            await self._spotify.as_user(
                discord_user_id, lambda sp: sp.current_user_saved_tracks_add([track.uri])
            )
        except MissingScope:
            return LikeResult(
                track, already_liked=not new, saved_to_spotify=False, scope_missing=True
            )
        except EncoreError as error:
            # The like is kept in Encore either way; the user is told Spotify did not take it.
            return LikeResult(
                track, already_liked=not new, saved_to_spotify=False, spotify_error=error
            )
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(Like)
                .where(Like.discord_user_id == discord_user_id, Like.track_id == track.id)
                .values(saved_to_spotify=True)
            )
        return LikeResult(track, already_liked=not new, saved_to_spotify=True, saved_just_now=True)

    async def _store(
        self, discord_user_id: int, track: Track, generation: int
    ) -> tuple[bool, bool]:
        """Insert the like once; returns (it is new, it is already saved on Spotify)."""
        async with self._sessions() as session, session.begin():
            await writing_about(session, discord_user_id)
            if not await still_linked(session, discord_user_id, generation):
                raise LinkRemoved
            inserted = await session.scalar(
                pg_insert(Like)
                .values(
                    discord_user_id=discord_user_id,
                    track_id=track.id,
                    track_name=track.name,
                    artist_names=track.artist_names,
                    album_name=track.album,
                    url=track.url,
                    liked_at=self._clock.now(),
                )
                .on_conflict_do_nothing(index_elements=[Like.discord_user_id, Like.track_id])
                .returning(Like.id)
            )
            if inserted is not None:
                return True, False
            saved = await session.scalar(
                select(Like.saved_to_spotify).where(
                    Like.discord_user_id == discord_user_id, Like.track_id == track.id
                )
            )
        return False, bool(saved)

    async def _granted_scopes(self, discord_user_id: int) -> _Granted:
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(SpotifyLink.scopes, SpotifyLink.generation).where(
                        SpotifyLink.discord_user_id == discord_user_id
                    )
                )
            ).one_or_none()
        if found is None:
            raise NotLinked
        return _Granted(frozenset(found.scopes.split()), found.generation)

    async def _now_playing(self, discord_user_id: int) -> Track:
        playing: dict[str, Any] | None = await self._spotify.as_user(
            discord_user_id, lambda sp: sp.currently_playing()
        )
        item = (playing or {}).get("item")
        if not item or item.get("type", "track") != "track" or not item.get("id"):
            raise NothingPlaying  # 204, a podcast episode, or a local file
        return Track.from_spotify(item)

    async def _track_or_none(self, track_id: str) -> Track | None:
        try:
            item: dict[str, Any] = await self._spotify.as_app(lambda sp: sp.track(track_id))
        except (NotFound, BadInput):
            return None
        return Track.from_spotify(item)

    async def _top_result(self, text: str) -> Track:
        found: dict[str, Any] = await self._spotify.as_app(
            lambda sp: sp.search(text.strip(), limit=1, type="track")
        )
        items = (found.get("tracks") or {}).get("items") or []
        if not items:
            raise BadInput(f"Spotify found no track for “{text.strip()[:80]}”.")
        return Track.from_spotify(items[0])

    # -- unliking --------------------------------------------------------------------------

    async def unlike(self, discord_user_id: int, query: str) -> UnlikeResult:
        """Remove a like in Encore, and from the user's Spotify library when allowed."""
        track_id = track_id_in(query)
        if track_id is None:
            matches = await self.recent(discord_user_id, text=query, limit=1)
            if not matches:
                raise NotInLikes
            track_id = matches[0].id
        async with self._sessions() as session, session.begin():
            removed = await session.scalar(
                delete(Like)
                .where(Like.discord_user_id == discord_user_id, Like.track_id == track_id)
                .returning(Like)
            )
            liked = LikedTrack.from_row(removed) if removed is not None else None
            scopes = await session.scalar(
                select(SpotifyLink.scopes).where(SpotifyLink.discord_user_id == discord_user_id)
            )
        if liked is None:
            raise NotInLikes
        if scopes is None:  # unlinked since: nothing to do on Spotify
            return UnlikeResult(liked, removed_from_spotify=False)
        if SAVE_SCOPE not in scopes.split():
            return UnlikeResult(liked, removed_from_spotify=False, scope_missing=True)
        try:
            await self._spotify.as_user(
                discord_user_id,
                lambda sp: sp.current_user_saved_tracks_delete([f"spotify:track:{track_id}"]),
            )
        except EncoreError as error:
            return UnlikeResult(liked, removed_from_spotify=False, spotify_error=error)
        return UnlikeResult(liked, removed_from_spotify=True)

    # -- the list and its privacy ----------------------------------------------------------

    @again_if_connection_lost
    async def page(
        self, owner_id: int, viewer_id: int, number: int, *, size: int = 10
    ) -> LikesPage:
        """One page of `owner_id`'s likes, newest first, if `viewer_id` may see them."""
        async with self._driver.connection() as read:
            if owner_id != viewer_id:
                public = await read.scalar(_LIKES_PUBLIC, {"owner": owner_id})
                if not public:
                    raise LikesPrivate
            total = await read.scalar(_LIKES_COUNT, {"owner": owner_id})
            rows = await read.all(
                _LIKES_PAGE, {"owner": owner_id, "skip": number * size, "size": size}
            )
            tracks = [LikedTrack(*row) for row in rows]
        return LikesPage(int(total or 0), tracks)

    @again_if_connection_lost
    async def set_public(self, discord_user_id: int, public: bool) -> None:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            await writing_about(session, discord_user_id)
            await session.execute(
                pg_insert(UserPreferences)
                .values(discord_user_id=discord_user_id, likes_public=public, updated_at=now)
                .on_conflict_do_update(
                    index_elements=[UserPreferences.discord_user_id],
                    set_={"likes_public": public, "updated_at": now},
                )
            )

    # -- import ----------------------------------------------------------------------------

    async def import_from_spotify(
        self, discord_user_id: int, progress: ProgressReport | None = None
    ) -> ImportResult:
        """Copy the user's Spotify liked songs into Encore, page by page, idempotently.

        A 429 or an outage part-way stops the import and keeps what was read: running it
        again later adds only what is missing.
        """
        granted = await self._granted_scopes(discord_user_id)
        if READ_SCOPE not in granted.scopes:
            raise MissingScope((READ_SCOPE,))
        pages = user_pages(
            self._spotify,
            discord_user_id,
            lambda sp: sp.current_user_saved_tracks(limit=PAGE_SIZE),
        )
        page = await anext(pages)  # the first page's errors are the command's to show
        total = int(page.get("total") or 0)
        read = added = 0
        while True:
            entries = page.get("items") or []
            added += await self._store_imported(discord_user_id, entries, granted.generation)
            read += len(entries)
            if progress is not None:
                await progress(ImportProgress(read, total))
            try:
                page = await anext(pages)
            except StopAsyncIteration:
                return ImportResult(read, max(total, read), added)
            except EncoreError as error:
                log.info(
                    "Import of likes for %s stopped after %d: %r", discord_user_id, read, error
                )
                return ImportResult(read, total, added, interrupted_by=error)

    async def _store_imported(
        self, discord_user_id: int, entries: list[dict[str, Any]], generation: int
    ) -> int:
        rows: dict[str, dict[str, Any]] = {}
        for entry in entries:
            item = entry.get("track")
            if not item or not item.get("id"):
                continue  # a local file or a removed track: nothing to like
            track = Track.from_spotify(item)
            rows[track.id] = {
                "discord_user_id": discord_user_id,
                "track_id": track.id,
                "track_name": track.name,
                "artist_names": track.artist_names,
                "album_name": track.album,
                "url": track.url,
                "saved_to_spotify": True,
                "liked_at": _added_at(entry.get("added_at")) or self._clock.now(),
            }
        if not rows:
            return 0
        async with self._sessions() as session, session.begin():
            await writing_about(session, discord_user_id)
            if not await still_linked(session, discord_user_id, generation):
                raise LinkRemoved  # forgotten or unlinked while this page was read
            inserted = await session.scalars(
                pg_insert(Like)
                .values(list(rows.values()))
                .on_conflict_do_nothing(index_elements=[Like.discord_user_id, Like.track_id])
                .returning(Like.id)
            )
            return len(inserted.all())


def _added_at(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
