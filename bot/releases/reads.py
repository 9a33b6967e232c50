"""Reading the local copy of new releases: for /releases, the JSON API and the digests.
Reads never call Spotify."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import Clock
from bot.releases.dates import format_release_date
from bot.single_flight import KeptAnswers, SingleFlight
from db.engine import SessionFactory, again_if_connection_lost, reads
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


# The JSON API's answers, written by PostgreSQL: one statement per answer returns the JSON
# text itself, byte for byte what `json.dumps(body, separators=(",", ":"), sort_keys=True)`
# made of `to_json()` above (keys sorted, no spaces, `null`s, Spotify's date spelling), so a
# miss costs no row objects, no dicts and no encoder in Python. PostgreSQL escapes strings as
# Python does (`\"`, `\\`, `\n`..., other controls as `\u00xx`) but leaves DEL and non-ASCII
# as they are; `ascii_json` escapes those as `ensure_ascii` does.
def _release_object(table: str) -> str:
    """SQL for `StoredRelease.to_json()` of a row of `releases` named `table`, as JSON text."""
    r = table
    return (
        f"""'{{"id":' || to_json({r}.id::text)::text"""
        f""" || ',"image":' || coalesce(to_json({r}.image_url)::text, 'null')"""
        f""" || ',"name":' || to_json({r}.name)::text"""
        # format_release_date: "%Y" is not zero-padded (as glibc spells it), isoformat is.
        f""" || ',"release_date":"' || CASE {r}.release_date_precision"""
        f""" WHEN 'year' THEN extract(year FROM {r}.release_date)::int::text"""
        f""" WHEN 'month' THEN extract(year FROM {r}.release_date)::int::text"""
        f""" || to_char({r}.release_date, '-MM')"""
        f""" ELSE to_char({r}.release_date, 'YYYY-MM-DD') END || '"'"""
        f""" || ',"type":' || to_json({r}.album_type::text)::text"""
        f""" || ',"url":' || coalesce(to_json({r}.url)::text, 'null') || '}}'"""
    )


# `_latest_by_artist` in one statement: the newest `limit` releases of the window, their
# artists (first seen at `position`), each artist's releases in the window in the same order
# (its first is `latest_release`), and the sort key of that first release. The artists are
# put in order in Python (`str.lower()` is not PostgreSQL's `lower()`): a few hundred short
# rows at most. The LATERAL subqueries (OFFSET 0: kept as they are, not flattened into joins)
# make each step a few index lookups per release or artist, whatever the planner estimates;
# as joins it hashed all of `release_artists` (40,000 rows at 20,000 releases) per answer.
_IN_ORDER = "r.release_date DESC, r.album_type = 'album' DESC, r.total_tracks DESC, r.name, r.id"
ARTISTS_JSON = text(
    f"""
WITH latest AS MATERIALIZED (
    SELECT id FROM releases
    WHERE release_date >= :since
    ORDER BY release_date DESC, first_seen DESC, id
    LIMIT :limit
), picked AS MATERIALIZED (
    SELECT ra.artist_id, min(ra.position) AS position
    FROM latest CROSS JOIN LATERAL (
        SELECT artist_id, position FROM release_artists WHERE release_id = latest.id OFFSET 0
    ) AS ra
    GROUP BY ra.artist_id
)
SELECT g.latest_date, g.latest_is_album, g.latest_tracks, a.name, p.position, a.id,
    '{{"id":' || to_json(a.id::text)::text || ',"latest_release":' || g.latest
    || ',"name":' || to_json(a.name)::text || ',"releases":[' || g.releases
    || '],"url":' || coalesce(to_json(a.url)::text, 'null') || '}}' AS body
FROM picked AS p
CROSS JOIN LATERAL (
    SELECT id, name, url FROM artists WHERE artists.id = p.artist_id OFFSET 0
) AS a
CROSS JOIN LATERAL (
    SELECT string_agg(body, ',' ORDER BY {_IN_ORDER}) AS releases,
        (array_agg(body ORDER BY {_IN_ORDER}))[1] AS latest,
        max(r.release_date) AS latest_date,
        (array_agg(r.album_type = 'album' ORDER BY {_IN_ORDER}))[1] AS latest_is_album,
        (array_agg(r.total_tracks ORDER BY {_IN_ORDER}))[1] AS latest_tracks
    FROM (
        SELECT r.*, {_release_object("r")} AS body
        FROM release_artists AS ra JOIN releases AS r ON r.id = ra.release_id
        WHERE ra.artist_id = p.artist_id AND r.release_date >= :since
        OFFSET 0
    ) AS r
) AS g
"""
)

# `recent` in one statement: the `limit` newest releases of the window, as JSON text.
RELEASES_JSON = text(
    f"""
SELECT count(*) AS count,
    coalesce(string_agg(body, ',' ORDER BY release_date DESC, first_seen DESC, id), '') AS items
FROM (
    SELECT r.release_date, r.first_seen, r.id, {_release_object("r")} AS body
    FROM releases AS r
    WHERE r.release_date >= :since
    ORDER BY r.release_date DESC, r.first_seen DESC, r.id
    LIMIT :limit
) AS newest
"""
)

_NOT_ASCII = re.compile("[\x7f-\U0010ffff]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # a surrogate pair, as json.dumps writes it
    return f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}"


def ascii_json(body: str) -> bytes:
    """JSON text as `json.dumps(..., ensure_ascii=True)` spells it: DEL and non-ASCII escaped.

    Keys and punctuation are ASCII, so every such character is inside a string."""
    if body.isascii() and "\x7f" not in body:
        return body.encode("ascii")
    return _NOT_ASCII.sub(_escaped, body).encode("ascii")


def _json_answer(count: int, items: str) -> bytes:
    return ascii_json(f'{{"count":{count},"items":[{items}]}}')


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
        # The API's one-statement reads: autocommit, one round trip (no BEGIN, ROLLBACK).
        self._read = reads(sessions)
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

    @again_if_connection_lost
    async def recent_json(self, *, limit: int = 20, days: int = 14) -> bytes:
        """`/api/releases`'s body: `{"count", "items"}` of `recent()` as JSON, from one query."""
        since = self._clock.now().date() - dt.timedelta(days=days)
        async with self._read() as connection:
            row = (await connection.execute(RELEASES_JSON, {"since": since, "limit": limit})).one()
        return _json_answer(row[0], row[1])

    @again_if_connection_lost
    async def latest_by_artist_json(self, *, limit: int = 20, days: int = 14) -> bytes:
        """`/api/artists`'s body: `{"count", "items"}` of `latest_by_artist()` as JSON.

        One query; PostgreSQL writes each artist's object, Python only puts them in order
        (the same key as `_artists_with_releases`) and joins them."""
        since = self._clock.now().date() - dt.timedelta(days=days)
        async with self._read() as connection:
            rows = (await connection.execute(ARTISTS_JSON, {"since": since, "limit": limit})).all()
        # (latest_date, latest_is_album, latest_tracks, name, position, id, body); ties of
        # the key broken by first position, then id (the Python path kept the rows' order).
        ordered = sorted(
            rows, key=lambda r: (-r[0].toordinal(), not r[1], -r[2], r[3].lower(), r[4], r[5])
        )
        return _json_answer(len(ordered), ",".join(row[6] for row in ordered))

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
