"""Each member's watchlist: the artists they follow on Spotify, their top artists (three time
ranges), the artists of their Encore likes and the artists they added with /radar follow,
minus the ones they blocked. Spotify is asked lazily: at most once a day per member, when
they use /radar, never by the checker (which sees only the union, `radar_artists`)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.errors import BadInput, EncoreError, MissingScope, NotFound, NotLinked
from bot.radar.budget import charge, paused
from bot.radar.schedule import DEFAULT_DAY, DEFAULT_TIME, next_delivery
from bot.spotify import SpotifyGateway, is_spotify_id
from bot.spotify.webapi import WebAPI
from db.engine import SessionFactory, again_if_connection_lost
from db.erasure import link_generation, still_linked, writing_about
from db.models import (
    Like,
    RadarArtist,
    RadarBlock,
    RadarSettings,
    RadarTrackArtists,
    RadarWatch,
    SpotifyLink,
)

log = logging.getLogger(__name__)

SOURCES = ("followed", "top", "likes", "manual")
FOLLOW_SCOPE = "user-follow-read"
TOP_SCOPE = "user-top-read"
PLAYLIST_SCOPE = "playlist-modify-private"
TIME_RANGES = ("short_term", "medium_term", "long_term")
REFRESH_EVERY = dt.timedelta(days=1)
FOLLOWED_PAGES = 20  # 1,000 followed artists at 50 a page
LIKES_READ = 50  # the latest likes whose artists are watched
LOOKUPS_PER_REFRESH = 20  # liked tracks whose artists are looked up per refresh (then cached)
MAX_MANUAL = 500
ARTIST_LINK = re.compile(
    r"(?:open\.spotify\.com/(?:intl-[a-z-]+/)?artist/|spotify:artist:)([0-9A-Za-z]{22})"
)


@dataclass(frozen=True)
class WatchedArtist:
    id: str
    name: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Watchlist:
    artists: tuple[WatchedArtist, ...]  # watched (not blocked), by name
    blocked: tuple[WatchedArtist, ...]
    missing_scopes: tuple[str, ...]  # what a refresh could not read for want of a permission
    refreshed_at: dt.datetime | None


@dataclass(frozen=True)
class Fetched:
    """What one refresh read from Spotify, per source, and what it could not read."""

    sources: dict[str, dict[str, str]]  # source -> artist id -> name
    missing: tuple[str, ...]
    calls: int  # Spotify calls it made


async def ensure_settings(session: AsyncSession, discord_user_id: int, now: dt.datetime) -> None:
    """A member's radar settings, made with the defaults the first time (Friday 09:00 UTC)."""
    when, _ = next_delivery(now, DEFAULT_DAY, DEFAULT_TIME, "UTC")
    await session.execute(
        insert(RadarSettings)
        .values(discord_user_id=discord_user_id, next_delivery_at=when)
        .on_conflict_do_nothing(index_elements=["discord_user_id"])
    )


async def watch_artists(session: AsyncSession, artists: dict[str, str]) -> None:
    """Add artists to the union the checker works through; a new one is due at once."""
    if not artists:
        return
    statement = insert(RadarArtist).values(
        [{"artist_id": artist_id, "name": name} for artist_id, name in sorted(artists.items())]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["artist_id"], set_={"name": statement.excluded.name}
        )
    )


class WatchlistService:
    def __init__(self, sessions: SessionFactory, spotify: SpotifyGateway, clock: Clock) -> None:
        self._sessions = sessions
        self._spotify = spotify
        self._clock = clock
        self.calls = 0  # Spotify calls this process's refreshes made (the bench reads it)

    # -- reading ---------------------------------------------------------------------------

    async def watchlist(self, discord_user_id: int) -> Watchlist:
        """The member's watchlist from the database alone (no Spotify call)."""
        rows, blocks, refreshed = await self._stored(discord_user_id)
        blocked = {artist_id: name for artist_id, name in blocks}
        names: dict[str, str] = {}
        sources: dict[str, set[str]] = {}
        for artist_id, name, source in rows:
            names.setdefault(artist_id, name)
            sources.setdefault(artist_id, set()).add(source)
        watched = tuple(
            sorted(
                (
                    WatchedArtist(a, names[a], tuple(s for s in SOURCES if s in sources[a]))
                    for a in names
                    if a not in blocked
                ),
                key=lambda artist: (artist.name.casefold(), artist.id),
            )
        )
        return Watchlist(
            watched,
            tuple(
                WatchedArtist(a, name, ())
                for a, name in sorted(blocked.items(), key=lambda i: i[1].casefold())
            ),
            await self.missing_scopes(discord_user_id),
            refreshed,
        )

    @again_if_connection_lost
    async def _stored(
        self, discord_user_id: int
    ) -> tuple[list[Any], list[Any], dt.datetime | None]:
        """(watched rows, blocked rows, when the Spotify sources were last read)."""
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(RadarWatch.artist_id, RadarWatch.artist_name, RadarWatch.source).where(
                        RadarWatch.discord_user_id == discord_user_id
                    )
                )
            ).all()
            blocks = (
                await session.execute(
                    select(RadarBlock.artist_id, RadarBlock.artist_name).where(
                        RadarBlock.discord_user_id == discord_user_id
                    )
                )
            ).all()
            refreshed = await session.scalar(
                select(RadarSettings.watchlist_refreshed_at).where(
                    RadarSettings.discord_user_id == discord_user_id
                )
            )
        return list(rows), list(blocks), refreshed

    async def missing_scopes(self, discord_user_id: int) -> tuple[str, ...]:
        missing: list[str] = []
        for scope in (FOLLOW_SCOPE, TOP_SCOPE):
            try:
                await self._spotify.require_scopes(discord_user_id, {scope})
            except MissingScope:
                missing.append(scope)
        return tuple(missing)

    # -- refreshing from Spotify -------------------------------------------------------------

    async def refresh_if_stale(self, discord_user_id: int) -> bool:
        """Refresh the Spotify sources if the last refresh is a day old; True if it ran.

        A Spotify failure leaves the last copy in place: the list is shown as it was."""
        async with self._sessions() as session:
            refreshed = await session.scalar(
                select(RadarSettings.watchlist_refreshed_at).where(
                    RadarSettings.discord_user_id == discord_user_id
                )
            )
        if refreshed is not None and self._clock.now() - refreshed < REFRESH_EVERY:
            return False
        try:
            await self.refresh(discord_user_id)
        except NotLinked:
            raise
        except EncoreError as error:
            log.info("Radar watchlist of user %s not refreshed: %s", discord_user_id, error)
            return False
        return True

    async def refresh(
        self, discord_user_id: int, *, now: dt.datetime | None = None
    ) -> tuple[str, ...]:
        """Read the member's followed, top and liked artists; the scopes they lack."""
        async with self._sessions() as session:
            generation = await link_generation(session, discord_user_id)
        if generation is None:
            raise NotLinked
        fetched = await self._fetch(discord_user_id)
        now = now or self._clock.now()
        async with self._sessions() as session, session.begin():
            await writing_about(session, discord_user_id)
            if not await still_linked(session, discord_user_id, generation):
                raise NotLinked
            await ensure_settings(session, discord_user_id, now)
            for source, artists in fetched.sources.items():
                await session.execute(
                    delete(RadarWatch).where(
                        RadarWatch.discord_user_id == discord_user_id, RadarWatch.source == source
                    )
                )
                if artists:
                    await session.execute(
                        insert(RadarWatch).values(
                            [
                                {
                                    "discord_user_id": discord_user_id,
                                    "artist_id": artist_id,
                                    "source": source,
                                    "artist_name": name,
                                }
                                for artist_id, name in sorted(artists.items())
                            ]
                        )
                    )
            union: dict[str, str] = {}
            for artists in fetched.sources.values():
                union.update(artists)
            await watch_artists(session, union)
            settings = await session.get(RadarSettings, discord_user_id)
            assert settings is not None
            settings.watchlist_refreshed_at = now
            await charge(session, fetched.calls)
        self.calls += fetched.calls
        return fetched.missing

    async def refresh_stale(self, *, limit: int = 20, now: dt.datetime | None = None) -> int:
        """The worker's daily refresh of members who use the radar: each is claimed (its
        `watchlist_refreshed_at` moved to now, `SKIP LOCKED`) so one worker refreshes it."""
        now = now or self._clock.now()
        stale = (
            select(RadarSettings.discord_user_id)
            .join(SpotifyLink, SpotifyLink.discord_user_id == RadarSettings.discord_user_id)
            .where(
                RadarSettings.enabled,
                (RadarSettings.watchlist_refreshed_at.is_(None))
                | (RadarSettings.watchlist_refreshed_at < now - REFRESH_EVERY),
            )
            .order_by(RadarSettings.watchlist_refreshed_at.nulls_first())
            .limit(limit)
            .with_for_update(of=RadarSettings, skip_locked=True)
        )
        async with self._sessions() as session, session.begin():
            if await paused(session, now):
                return 0
            users = list(
                await session.scalars(
                    update(RadarSettings)
                    .where(RadarSettings.discord_user_id.in_(stale.scalar_subquery()))
                    .values(watchlist_refreshed_at=now)
                    .returning(RadarSettings.discord_user_id)
                )
            )
        done = 0
        for user in users:
            try:
                await self.refresh(user, now=now)
            except EncoreError as error:
                log.info("Radar watchlist of user %s not refreshed: %s", user, type(error).__name__)
                continue
            done += 1
        return done

    async def _fetch(self, discord_user_id: int) -> Fetched:
        sources: dict[str, dict[str, str]] = {}
        missing: list[str] = []
        calls = [0]
        try:
            sources["followed"] = await self._followed(discord_user_id, calls)
        except MissingScope:
            missing.append(FOLLOW_SCOPE)
        try:
            sources["top"] = await self._top(discord_user_id, calls)
        except MissingScope:
            missing.append(TOP_SCOPE)
        sources["likes"] = await self._liked_artists(discord_user_id, calls)
        return Fetched(sources, tuple(missing), calls[0])

    async def _followed(self, discord_user_id: int, calls: list[int]) -> dict[str, str]:
        found: dict[str, str] = {}
        after: str | None = None
        for _ in range(FOLLOWED_PAGES):
            calls[0] += 1
            page: dict[str, Any] = await self._spotify.as_user(
                discord_user_id,
                _followed_page(after),
                scopes={FOLLOW_SCOPE},
                endpoint="radar:following",
            )
            artists = page.get("artists") or {}
            _collect(found, artists.get("items") or [])
            after = (artists.get("cursors") or {}).get("after")
            if not after or not artists.get("next"):
                break
        return found

    async def _top(self, discord_user_id: int, calls: list[int]) -> dict[str, str]:
        found: dict[str, str] = {}
        for time_range in TIME_RANGES:
            calls[0] += 1
            page: dict[str, Any] = await self._spotify.as_user(
                discord_user_id,
                _top_page(time_range),
                scopes={TOP_SCOPE},
                endpoint="radar:top",
            )
            _collect(found, page.get("items") or [])
        return found

    async def _liked_artists(self, discord_user_id: int, calls: list[int]) -> dict[str, str]:
        """Artists of the latest likes: likes keep track names only, so each liked track's
        artists are looked up once (app token) and cached for every member."""
        async with self._sessions() as session:
            tracks = list(
                await session.scalars(
                    select(Like.track_id)
                    .where(Like.discord_user_id == discord_user_id)
                    .order_by(Like.liked_at.desc())
                    .limit(LIKES_READ)
                )
            )
            cached = {
                row.track_id: row.artists
                for row in await session.scalars(
                    select(RadarTrackArtists).where(RadarTrackArtists.track_id.in_(tracks))
                )
            }
        looked_up: dict[str, list[Any]] = {}
        for track_id in [t for t in tracks if t not in cached][:LOOKUPS_PER_REFRESH]:
            calls[0] += 1
            try:
                track: dict[str, Any] = await self._spotify.as_app(
                    _track(track_id), endpoint="radar:track"
                )
            except NotFound:
                track = {"artists": []}
            looked_up[track_id] = [
                {"id": a["id"], "name": str(a.get("name") or "Unknown artist")}
                for a in track.get("artists") or []
                if a.get("id")
            ]
        if looked_up:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    insert(RadarTrackArtists)
                    .values([{"track_id": t, "artists": a} for t, a in looked_up.items()])
                    .on_conflict_do_nothing(index_elements=["track_id"])
                )
        found: dict[str, str] = {}
        for artists in [*cached.values(), *looked_up.values()]:
            _collect(found, artists)
        return found

    # -- the member's own changes ------------------------------------------------------------

    async def resolve(self, text: str) -> tuple[str, str]:
        """An artist from a link, an id or a name (the best search match): (id, name)."""
        artist_id = _artist_id_in(text)
        if artist_id is not None:
            found: dict[str, Any] = await self._spotify.as_app(
                lambda sp: sp.artist(artist_id), endpoint="radar:artist"
            )
            return str(found["id"]), str(found.get("name") or "Unknown artist")
        query = " ".join(text.split())
        if not query:
            raise BadInput("Name an artist, or paste a link to one.")
        answer: dict[str, Any] = await self._spotify.as_app(
            lambda sp: sp.search(query[:200], limit=1, type="artist"), endpoint="radar:search"
        )
        items = (answer.get("artists") or {}).get("items") or []
        if not items:
            raise NotFound
        return str(items[0]["id"]), str(items[0].get("name") or "Unknown artist")

    async def suggest(self, typed: str) -> list[tuple[str, str]]:
        query = " ".join(typed.split())[:200]
        if not query:
            return []
        answer: dict[str, Any] = await self._spotify.as_app(
            lambda sp: sp.search(query, limit=10, type="artist"), endpoint="radar:search"
        )
        items = (answer.get("artists") or {}).get("items") or []
        return [(str(a["id"]), str(a.get("name") or "Unknown artist")) for a in items if a]

    # A member's change is one transaction, run again on its own (never the Spotify look-up
    # before it) when the connection dies under it before commit (`again_if_connection_lost`).

    async def follow(self, discord_user_id: int, text: str) -> WatchedArtist:
        artist_id, name = await self.resolve(text)
        return await self._follow(discord_user_id, artist_id, name)

    @again_if_connection_lost
    async def _follow(self, discord_user_id: int, artist_id: str, name: str) -> WatchedArtist:
        async with self._sessions() as session, session.begin():
            await self._linked(session, discord_user_id)
            manual = await session.scalar(
                select(func.count()).where(
                    RadarWatch.discord_user_id == discord_user_id, RadarWatch.source == "manual"
                )
            )
            if int(manual or 0) >= MAX_MANUAL:
                raise BadInput(f"Your radar holds {MAX_MANUAL} artists you added: unfollow some.")
            await ensure_settings(session, discord_user_id, self._clock.now())
            await session.execute(
                insert(RadarWatch)
                .values(
                    discord_user_id=discord_user_id,
                    artist_id=artist_id,
                    source="manual",
                    artist_name=name,
                )
                .on_conflict_do_nothing()
            )
            await session.execute(
                delete(RadarBlock).where(
                    RadarBlock.discord_user_id == discord_user_id, RadarBlock.artist_id == artist_id
                )
            )
            await watch_artists(session, {artist_id: name})
            sources = await self._sources(session, discord_user_id, artist_id)
        return WatchedArtist(artist_id, name, sources)

    @again_if_connection_lost
    async def unfollow(self, discord_user_id: int, text: str) -> WatchedArtist:
        """Remove an artist the member added; the other sources stay (block hides those)."""
        async with self._sessions() as session, session.begin():
            await self._linked(session, discord_user_id)
            artist_id, name = await self._known(session, discord_user_id, text)
            await session.execute(
                delete(RadarWatch).where(
                    RadarWatch.discord_user_id == discord_user_id,
                    RadarWatch.artist_id == artist_id,
                    RadarWatch.source == "manual",
                )
            )
            sources = await self._sources(session, discord_user_id, artist_id)
        return WatchedArtist(artist_id, name, sources)

    async def block(self, discord_user_id: int, text: str) -> WatchedArtist:
        artist_id, name = await self._known_or_none(discord_user_id, text)
        if not artist_id:
            artist_id, name = await self.resolve(text)  # no transaction open while Spotify answers
        return await self._block(discord_user_id, artist_id, name)

    @again_if_connection_lost
    async def _known_or_none(self, discord_user_id: int, text: str) -> tuple[str, str]:
        async with self._sessions() as session:
            try:
                return await self._known(session, discord_user_id, text)
            except NotFound:
                return "", ""

    @again_if_connection_lost
    async def _block(self, discord_user_id: int, artist_id: str, name: str) -> WatchedArtist:
        async with self._sessions() as session, session.begin():
            await self._linked(session, discord_user_id)
            await ensure_settings(session, discord_user_id, self._clock.now())
            await session.execute(
                insert(RadarBlock)
                .values(discord_user_id=discord_user_id, artist_id=artist_id, artist_name=name)
                .on_conflict_do_nothing()
            )
        return WatchedArtist(artist_id, name, ())

    @again_if_connection_lost
    async def unblock(self, discord_user_id: int, text: str) -> WatchedArtist:
        async with self._sessions() as session, session.begin():
            await self._linked(session, discord_user_id)
            blocks = (
                await session.execute(
                    select(RadarBlock.artist_id, RadarBlock.artist_name).where(
                        RadarBlock.discord_user_id == discord_user_id
                    )
                )
            ).all()
            artist = _match(text, [(a, n) for a, n in blocks])
            if artist is None:
                raise BadInput(
                    "That artist is not blocked on your radar (`/radar list` shows them)."
                )
            await session.execute(
                delete(RadarBlock).where(
                    RadarBlock.discord_user_id == discord_user_id,
                    RadarBlock.artist_id == artist[0],
                )
            )
            sources = await self._sources(session, discord_user_id, artist[0])
        return WatchedArtist(artist[0], artist[1], sources)

    @again_if_connection_lost
    async def known_suggestions(
        self, discord_user_id: int, typed: str, *, blocked: bool = False
    ) -> list[tuple[str, str]]:
        """The member's own radar artists (or blocks) matching what they typed."""
        model: type[RadarWatch] | type[RadarBlock] = RadarBlock if blocked else RadarWatch
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(model.artist_id, model.artist_name)
                    .where(
                        model.discord_user_id == discord_user_id,
                        model.artist_name.ilike(f"%{_like_escaped(typed.strip())}%"),
                    )
                    .distinct()
                    .order_by(model.artist_name)
                    .limit(25)
                )
            ).all()
        return [(a, n) for a, n in rows]

    async def _linked(self, session: AsyncSession, discord_user_id: int) -> None:
        await writing_about(session, discord_user_id)
        if await link_generation(session, discord_user_id) is None:
            raise NotLinked

    async def _known(
        self, session: AsyncSession, discord_user_id: int, text: str
    ) -> tuple[str, str]:
        rows = (
            await session.execute(
                select(RadarWatch.artist_id, RadarWatch.artist_name)
                .where(RadarWatch.discord_user_id == discord_user_id)
                .distinct()
            )
        ).all()
        found = _match(text, [(a, n) for a, n in rows])
        if found is None:
            raise NotFound("That artist is not on your radar (`/radar list` shows who is).")
        return found

    async def _sources(
        self, session: AsyncSession, discord_user_id: int, artist_id: str
    ) -> tuple[str, ...]:
        found = set(
            await session.scalars(
                select(RadarWatch.source).where(
                    RadarWatch.discord_user_id == discord_user_id,
                    RadarWatch.artist_id == artist_id,
                )
            )
        )
        return tuple(s for s in SOURCES if s in found)


def _collect(found: dict[str, str], items: Iterable[Any]) -> None:
    for item in items:
        if isinstance(item, dict) and item.get("id"):
            found.setdefault(str(item["id"]), str(item.get("name") or "Unknown artist"))


def _track(track_id: str) -> Callable[[WebAPI], Any]:
    return lambda sp: sp.track(track_id)


def _followed_page(after: str | None) -> Callable[[WebAPI], Any]:
    return lambda sp: sp.current_user_followed_artists(limit=50, after=after)


def _top_page(time_range: str) -> Callable[[WebAPI], Any]:
    return lambda sp: sp.current_user_top_artists(limit=50, time_range=time_range)


def _artist_id_in(text: str) -> str | None:
    stripped = text.strip()
    if is_spotify_id(stripped):
        return stripped
    found = ARTIST_LINK.search(stripped)
    return found[1] if found else None


def _match(text: str, artists: list[tuple[str, str]]) -> tuple[str, str] | None:
    """An artist of the member's by id (what autocomplete sends) or by name."""
    wanted = text.strip()
    for artist_id, name in artists:
        if artist_id == wanted:
            return artist_id, name
    linked = _artist_id_in(wanted)
    for candidate, name in artists:
        if candidate == linked:
            return candidate, name
    for candidate, name in artists:
        if name.casefold() == wanted.casefold():
            return candidate, name
    return None


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
