"""Reading the local copy of new releases: for /releases, the JSON API and the digests.
Reads never call Spotify."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import Clock
from bot.releases.dates import format_release_date
from bot.single_flight import KeptAnswers, SingleFlight
from db.engine import SessionFactory
from db.models import Artist, Release, ReleaseArtist

# Reads build plain rows from Core statements on the tables, not ORM entities: an answer of
# hundreds of releases is read often and never written back.
RELEASES = Release.__table__
RELEASE_ARTISTS = ReleaseArtist.__table__
ARTISTS = Artist.__table__

# How long this process trusts the copy's version (`max(last_seen)`) before asking again: a
# read answers from memory within it, so another process's ingestion shows up at most this
# late (this process's own ingestion shows up at once).
VERSION_TTL = 1.0


@dataclass(frozen=True)
class StoredRelease:
    id: str
    name: str
    album_type: str
    release_date: dt.date
    precision: str
    total_tracks: int
    image_url: str | None
    url: str | None

    @property
    def release_date_text(self) -> str:
        return format_release_date(self.release_date, self.precision)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": self.album_type,
            "release_date": self.release_date_text,
            "url": self.url,
            "image": self.image_url,
        }


@dataclass(frozen=True)
class ArtistReleases:
    """One artist and their releases in the window asked for, newest first."""

    id: str
    name: str
    url: str | None
    releases: tuple[StoredRelease, ...]

    @property
    def latest_release(self) -> StoredRelease:
        return self.releases[0]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "url": self.url,
            "releases": [release.to_json() for release in self.releases],
            "latest_release": self.latest_release.to_json(),
        }


Connect = Callable[[], Awaitable[AsyncConnection]]


async def _ready(connection: AsyncConnection) -> AsyncConnection:
    return connection


class _OnDemand:
    """A session opened on the first `connection()`, closed with the block (if opened)."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions
        self._stack = AsyncExitStack()
        self._connection: AsyncConnection | None = None

    async def connection(self) -> AsyncConnection:
        if self._connection is None:
            session = await self._stack.enter_async_context(self._sessions())
            self._connection = await session.connection()
        return self._connection

    async def __aenter__(self) -> _OnDemand:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()


class ReleaseCopy:
    """The local copy, read back."""

    LATEST_KEPT = 64

    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        *,
        version_ttl: float = VERSION_TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._version_ttl = version_ttl
        self._monotonic = monotonic
        self._version: tuple[float, dt.datetime | None] | None = None  # (asked at, version)
        self._version_generation = 0  # moved by forget_version: a read in flight is stale
        self._version_flight: SingleFlight[str, dt.datetime | None] = SingleFlight()
        # Answers of latest_by_artist, keyed by what they depend on (see there).
        self._latest: KeptAnswers[tuple[object, ...], tuple[ArtistReleases, ...]] = KeptAnswers(
            self.LATEST_KEPT
        )

    async def count(self) -> int:
        async with self._sessions() as session:
            connection = await session.connection()
            return int(await connection.scalar(select(func.count()).select_from(RELEASES)) or 0)

    async def newest_seen(self, connect: Connect | None = None) -> dt.datetime | None:
        """The copy's version: it moves whenever an ingestion writes (an index answers it)."""
        if connect is not None:
            found: dt.datetime | None = await (await connect()).scalar(
                select(func.max(RELEASES.c.last_seen))
            )
            return found
        async with self._sessions() as session:
            connection = await session.connection()
            return await self.newest_seen(lambda: _ready(connection))

    def _known_version(self) -> tuple[dt.datetime | None] | None:
        """The version, if this process asked for it less than `version_ttl` ago."""
        known = self._version
        if known is not None and self._monotonic() - known[0] < self._version_ttl:
            return (known[1],)
        return None

    async def version(self, connect: Connect | None = None) -> dt.datetime | None:
        """`newest_seen`, as this process knew it at most `version_ttl` seconds ago.

        Concurrent readers past the TTL share one query (on `connect()`, when given).
        """
        known = self._known_version()
        if known is not None:
            return known[0]

        async def read() -> dt.datetime | None:
            generation, asked_at = self._version_generation, self._monotonic()
            version = await self.newest_seen(connect)
            if generation == self._version_generation:
                self._version = (asked_at, version)
            return version

        return await self._version_flight.run("newest_seen", read)

    def forget_version(self) -> None:
        """This process wrote to the copy: the next read asks for the version again."""
        self._version = None
        self._version_generation += 1

    async def recent(self, *, limit: int = 20, days: int = 14) -> list[StoredRelease]:
        """The `limit` latest releases dated within the last `days` days, newest first."""
        since = self._clock.now().date() - dt.timedelta(days=days)
        async with self._sessions() as session:
            connection = await session.connection()
            rows = await connection.execute(
                select(RELEASES)
                .where(RELEASES.c.release_date >= since)
                .order_by(
                    RELEASES.c.release_date.desc(), RELEASES.c.first_seen.desc(), RELEASES.c.id
                )
                .limit(limit)
            )
            return [_stored(row) for row in rows.mappings()]

    async def latest_by_artist(self, *, limit: int = 20, days: int = 14) -> list[ArtistReleases]:
        """The artists of the `limit` latest releases, each with their releases in the window.

        Artists are ordered by their newest release; as in the original `release_limit`.
        The answer depends only on the arguments, today's date and the copy, which changes
        only when an ingestion writes (`max(last_seen)` moves): it is kept until then, so a
        busy `/releases` costs no query within `version_ttl`, and one small one after it.
        Concurrent misses of one key are built once.
        """
        today = self._clock.now().date()
        known = self._known_version()
        if known is not None:
            cached = self._latest.get((limit, days, today, known[0]))
            if cached is not None:
                return list(cached)  # no query at all
        # One session for what is missing (the version, the answer), opened only if a query
        # is run here: a reader that joins another's version read takes no connection.
        async with _OnDemand(self._sessions) as on_demand:
            key = (limit, days, today, await self.version(on_demand.connection))
            cached = self._latest.get(key)
            if cached is None:

                async def build() -> tuple[ArtistReleases, ...]:
                    connection = await on_demand.connection()
                    return tuple(await self._latest_by_artist(limit, days, connection))

                cached = await self._latest.fill(key, build)
        return list(cached)

    async def _latest_by_artist(
        self, limit: int, days: int, connection: AsyncConnection
    ) -> list[ArtistReleases]:
        since = self._clock.now().date() - dt.timedelta(days=days)
        window = RELEASES.c.release_date >= since
        latest = (
            select(RELEASES.c.id)
            .where(window)
            .order_by(RELEASES.c.release_date.desc(), RELEASES.c.first_seen.desc(), RELEASES.c.id)
            .limit(limit)
            .subquery()
        )
        found = await connection.scalars(
            select(RELEASE_ARTISTS.c.artist_id)
            .where(RELEASE_ARTISTS.c.release_id.in_(select(latest.c.id)))
            .order_by(RELEASE_ARTISTS.c.position)
        )
        artist_ids = list(dict.fromkeys(found))
        return await _artists_with_releases(connection, artist_ids, window)

    async def released_on(self, day: dt.date) -> list[ArtistReleases]:
        """Releases dated exactly `day` (day precision only), grouped by artist."""
        window = (RELEASES.c.release_date == day) & (RELEASES.c.release_date_precision == "day")
        async with self._sessions() as session:
            connection = await session.connection()
            found = await connection.scalars(
                select(RELEASE_ARTISTS.c.artist_id)
                .join(RELEASES, RELEASES.c.id == RELEASE_ARTISTS.c.release_id)
                .where(window)
                .order_by(RELEASE_ARTISTS.c.artist_id)
            )
            artist_ids = list(dict.fromkeys(found))
            return await _artists_with_releases(connection, artist_ids, window)


def _stored(row: RowMapping) -> StoredRelease:
    return StoredRelease(
        id=row["id"],
        name=row["name"],
        album_type=row["album_type"],
        release_date=row["release_date"],
        precision=row["release_date_precision"],
        total_tracks=row["total_tracks"],
        image_url=row["image_url"],
        url=row["url"],
    )


async def _artists_with_releases(
    connection: AsyncConnection, artist_ids: list[str], window: ColumnElement[bool]
) -> list[ArtistReleases]:
    if not artist_ids:
        return []
    artists = {
        row["id"]: row
        for row in (
            await connection.execute(
                select(ARTISTS.c.id, ARTISTS.c.name, ARTISTS.c.url).where(
                    ARTISTS.c.id.in_(artist_ids)
                )
            )
        ).mappings()
    }
    rows = await connection.execute(
        select(RELEASE_ARTISTS.c.artist_id, RELEASES)
        .join(RELEASES, RELEASES.c.id == RELEASE_ARTISTS.c.release_id)
        .where(RELEASE_ARTISTS.c.artist_id.in_(artist_ids), window)
        # Albums before singles on the same day, longer first: the "top" release leads.
        .order_by(
            RELEASES.c.release_date.desc(),
            (RELEASES.c.album_type == "album").desc(),
            RELEASES.c.total_tracks.desc(),
            RELEASES.c.name,
        )
    )
    by_artist: dict[str, list[StoredRelease]] = {}
    for row in rows.mappings():
        by_artist.setdefault(row["artist_id"], []).append(_stored(row))
    grouped = [
        ArtistReleases(
            id=artist_id,
            name=artists[artist_id]["name"],
            url=artists[artist_id]["url"],
            releases=tuple(by_artist[artist_id]),
        )
        for artist_id in artist_ids
        if artist_id in by_artist and artist_id in artists
    ]
    grouped.sort(
        key=lambda a: (
            -a.latest_release.release_date.toordinal(),
            a.latest_release.album_type != "album",
            -a.latest_release.total_tracks,
            a.name.lower(),
        )
    )
    return grouped
