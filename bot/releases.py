"""New releases: a local copy in PostgreSQL, filled by ingestion from pluggable Spotify sources,
and the reads built on it (`/releases`, the JSON API, the daily digests). Reads never call Spotify.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import spotipy
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics
from bot.clock import Clock
from bot.errors import EncoreError, SpotifyBusy, SpotifyUnavailable
from bot.spotify import PAGE_SIZE, SEARCH_PAGE_SIZE, SpotifyGateway
from db.engine import SessionFactory
from db.models import Artist, IngestionRun, Release, ReleaseArtist

log = logging.getLogger(__name__)

# Any constant unique to this job: pg_try_advisory_xact_lock keys are cluster-wide.
INGESTION_LOCK = 0x656E_636F_7265_0001
KEPT_TYPES = frozenset({"album", "single"})


# -- dates -------------------------------------------------------------------------------


def parse_release_date(value: str, precision: str | None = None) -> tuple[dt.date, str]:
    """Spotify's "2026", "2026-11" or "2026-11-03" as a date (first day of the period) and precision."""
    parts = value.strip().split("-")
    try:
        numbers = [int(part) for part in parts]
        if len(numbers) == 1:
            return dt.date(numbers[0], 1, 1), "year"
        if len(numbers) == 2:
            return dt.date(numbers[0], numbers[1], 1), "month"
        if len(numbers) == 3:
            return dt.date(*numbers), "day"
    except ValueError:
        pass
    raise ValueError(f"not a Spotify release date: {value!r} ({precision})")


def format_release_date(day: dt.date, precision: str) -> str:
    """Back to Spotify's spelling, so a year-only release is not shown as January 1st."""
    if precision == "year":
        return f"{day:%Y}"
    if precision == "month":
        return f"{day:%Y-%m}"
    return day.isoformat()


# -- what the reads return ---------------------------------------------------------------


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


# -- sources -----------------------------------------------------------------------------


class SourceUnavailable(Exception):
    """The source answered 403/404/410: it does not exist for this app; try the next one."""

    def __init__(self, status: int) -> None:
        self.status = status
        super().__init__(f"answered {status}")


Page = tuple[list[dict[str, Any]], bool]  # the albums, and whether another page follows


class ReleaseSource(Protocol):
    name: str
    page_size: int

    def fetch(self, sp: spotipy.Spotify, offset: int) -> Page:
        """One page of albums at `offset` (runs in a Spotify thread)."""
        ...

    def wanted(self, cap: int) -> int:
        """How many albums to read at most."""
        ...


def _gone(error: spotipy.SpotifyException) -> bool:
    return error.http_status in (403, 404, 410)


class NewReleasesSource:
    """`GET /browse/new-releases`: extended-quota apps, and apps created before 2026-02-11."""

    name = "new-releases"
    page_size = PAGE_SIZE

    def fetch(self, sp: spotipy.Spotify, offset: int) -> Page:
        try:
            answer = sp.new_releases(limit=self.page_size, offset=offset)
        except spotipy.SpotifyException as error:
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

    def fetch(self, sp: spotipy.Spotify, offset: int) -> Page:
        try:
            answer = sp.search(q="tag:new", type="album", limit=self.page_size, offset=offset)
        except spotipy.SpotifyException as error:
            if _gone(error):
                raise SourceUnavailable(error.http_status) from None
            raise
        albums = (answer or {}).get("albums") or {}
        return list(albums.get("items") or []), bool(albums.get("next"))

    def wanted(self, cap: int) -> int:
        return cap


DEFAULT_SOURCES: tuple[ReleaseSource, ...] = (NewReleasesSource(), TagNewSearchSource())


@dataclass
class IngestionOutcome:
    """How one ingestion ended; `skipped` when another process was already ingesting."""

    status: str  # ok | failed | skipped
    source: str | None = None
    releases: int = 0
    pages: int = 0
    spotify_calls: int = 0
    error: str | None = None
    run_id: int | None = None


@dataclass
class _Batch:
    artists: dict[str, dict[str, Any]] = field(default_factory=dict)
    releases: dict[str, dict[str, Any]] = field(default_factory=dict)
    links: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


PageHook = Callable[[IngestionOutcome], Awaitable[None]]


class ReleaseService:
    """Ingests new releases into the local copy and reads it back."""

    def __init__(
        self,
        sessions: SessionFactory,
        spotify: SpotifyGateway,
        clock: Clock,
        *,
        status: dict[str, object],
        search_cap: int = 500,
        interval: dt.timedelta = dt.timedelta(hours=6),
        sources: Sequence[ReleaseSource] = DEFAULT_SOURCES,
        retry_delays: Sequence[float] = (2.0, 10.0, 30.0),
        max_wait: float = 120.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._sessions = sessions
        self._spotify = spotify
        self._clock = clock
        self._status = status
        self.search_cap = search_cap
        self.interval = interval
        self._sources = tuple(sources)
        self._retry_delays = tuple(retry_delays)
        self._max_wait = max_wait
        self._sleep = sleep
        # Answers of latest_by_artist, keyed by what they depend on (see there).
        self._latest: OrderedDict[tuple[object, ...], tuple[ArtistReleases, ...]] = OrderedDict()

    # -- ingestion -----------------------------------------------------------------------

    async def ingest_if_stale(self) -> IngestionOutcome | None:
        """The worker's tick: ingest when the last successful run started an interval ago."""
        last = await self.last_success()
        if last is not None and self._clock.now() - last.started_at < self.interval:
            return None
        return await self.ingest()

    async def ingest(self, *, on_page: PageHook | None = None) -> IngestionOutcome:
        """Fetch new releases and upsert them, a page per transaction; one process at a time."""
        async with self._sessions() as lock_session, lock_session.begin():
            # Held by this open transaction until the run ends; released even if we crash.
            locked = await lock_session.scalar(
                select(func.pg_try_advisory_xact_lock(INGESTION_LOCK))
            )
            if not locked:
                log.info("Release ingestion skipped: another process is ingesting")
                return IngestionOutcome(status="skipped")
            return await self._ingest_locked(on_page)

    async def _ingest_locked(self, on_page: PageHook | None) -> IngestionOutcome:
        started = self._clock.now()
        async with self._sessions() as session, session.begin():
            run = IngestionRun(started_at=started, status="running")
            session.add(run)
            await session.flush()
            run_id = run.id
        outcome = IngestionOutcome(status="running", run_id=run_id)
        self._report(outcome, started)
        try:
            await self._fetch_all(outcome, on_page)
        except EncoreError as error:
            outcome.status = "failed"
            outcome.error = error.user_message
        except Exception as error:
            outcome.status = "failed"
            outcome.error = f"unexpected error ({type(error).__name__})"
            log.exception("Release ingestion failed")
        else:
            outcome.status = "ok"
        finished = self._clock.now()
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(IngestionRun)
                .where(IngestionRun.id == run_id)
                .values(
                    status=outcome.status,
                    finished_at=finished,
                    source=outcome.source,
                    releases_seen=outcome.releases,
                    error=outcome.error,
                )
            )
        metrics.INGESTIONS.labels(outcome.source or "none", outcome.status).inc()
        if outcome.status == "ok":
            metrics.LAST_INGESTION.set(finished.timestamp())
            log.info(
                "Release ingestion from %s stored %d releases in %d pages",
                outcome.source,
                outcome.releases,
                outcome.pages,
            )
        else:
            log.warning(
                "Release ingestion from %s failed after %d releases: %s; the next tick retries",
                outcome.source,
                outcome.releases,
                outcome.error,
            )
        self._report(outcome, started, finished)
        return outcome

    async def _fetch_all(self, outcome: IngestionOutcome, on_page: PageHook | None) -> None:
        for position, source in enumerate(self._sources):
            outcome.source = source.name
            try:
                await self._fetch_source(source, outcome, on_page)
                return
            except SourceUnavailable as gone:
                # Only the first page can tell us the source does not exist for this app.
                if outcome.pages or position == len(self._sources) - 1:
                    raise SpotifyUnavailable(
                        f"Spotify's {source.name} answered {gone.status}."
                    ) from None
                log.info("Release source %s answered %s; trying the next", source.name, gone.status)

    async def _fetch_source(
        self, source: ReleaseSource, outcome: IngestionOutcome, on_page: PageHook | None
    ) -> None:
        wanted = source.wanted(self.search_cap)
        offset = 0
        while offset < wanted:
            albums, more = await self._page_with_retries(source, offset, outcome)
            stored = await self._store(albums)
            outcome.pages += 1
            outcome.releases += stored
            offset += source.page_size
            self._report(outcome, None)
            if on_page is not None:
                await on_page(outcome)
            if not more or not albums:
                return

    async def _page_with_retries(
        self, source: ReleaseSource, offset: int, outcome: IngestionOutcome
    ) -> Page:
        """A background job waits out a 429 or a 5xx a few times, then gives up until the next tick."""
        for attempt in range(len(self._retry_delays) + 1):
            outcome.spotify_calls += 1
            try:
                return await self._spotify.as_app(lambda sp: source.fetch(sp, offset))
            except SpotifyBusy as busy:
                if attempt == len(self._retry_delays) or busy.retry_after > self._max_wait:
                    raise
                await self._sleep(busy.retry_after)
            except SpotifyUnavailable:
                if attempt == len(self._retry_delays):
                    raise
                await self._sleep(self._retry_delays[attempt])
        raise AssertionError("unreachable")

    async def _store(self, albums: list[dict[str, Any]]) -> int:
        """Upsert one page in its own transaction: what is stored stays if a later page fails."""
        now = self._clock.now()
        batch = _Batch()
        for album in albums:
            kind = str(album.get("album_type") or "").lower()
            if kind not in KEPT_TYPES or not album.get("id"):
                continue
            try:
                day, precision = parse_release_date(str(album.get("release_date") or ""))
            except ValueError:
                log.info(
                    "Skipping release %s with release date %r",
                    album["id"],
                    album.get("release_date"),
                )
                continue
            images = album.get("images") or []
            batch.releases[album["id"]] = {
                "id": album["id"],
                "name": str(album.get("name") or "Untitled"),
                "album_type": kind,
                "release_date": day,
                "release_date_precision": precision,
                "total_tracks": int(album.get("total_tracks") or 0),
                "image_url": images[0]["url"] if images else None,
                "url": (album.get("external_urls") or {}).get("spotify"),
                "first_seen": now,
                "last_seen": now,
            }
            for position, artist in enumerate(album.get("artists") or []):
                if not artist.get("id"):
                    continue
                batch.artists[artist["id"]] = {
                    "id": artist["id"],
                    "name": str(artist.get("name") or "Unknown artist"),
                    "url": (artist.get("external_urls") or {}).get("spotify"),
                    "first_seen": now,
                    "last_seen": now,
                }
                batch.links[(album["id"], artist["id"])] = {
                    "release_id": album["id"],
                    "artist_id": artist["id"],
                    "position": position,
                }
        if not batch.releases:
            return 0
        async with self._sessions() as session, session.begin():
            await _upsert(session, Artist, list(batch.artists.values()), ("name", "url"))
            await _upsert(
                session,
                Release,
                list(batch.releases.values()),
                (
                    "name",
                    "album_type",
                    "release_date",
                    "release_date_precision",
                    "total_tracks",
                    "image_url",
                    "url",
                ),
            )
            if batch.links:
                statement = insert(ReleaseArtist).values(list(batch.links.values()))
                await session.execute(
                    statement.on_conflict_do_update(
                        index_elements=["release_id", "artist_id"],
                        set_={"position": statement.excluded.position},
                    )
                )
        return len(batch.releases)

    def _report(
        self,
        outcome: IngestionOutcome,
        started: dt.datetime | None,
        finished: dt.datetime | None = None,
    ) -> None:
        """What /health shows about the ingestion this process ran last."""
        current = self._status.get("ingestion")
        report: dict[str, Any] = dict(current) if isinstance(current, dict) else {}
        if started is not None:
            report = {"started_at": started.isoformat()}
        report.update(
            status=outcome.status,
            source=outcome.source,
            releases=outcome.releases,
            pages=outcome.pages,
        )
        if finished is not None:
            report["finished_at"] = finished.isoformat()
        if outcome.error:
            report["error"] = outcome.error
        self._status["ingestion"] = report

    # -- reading the copy ------------------------------------------------------------------

    async def last_success(self) -> IngestionRun | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(IngestionRun)
                .where(IngestionRun.status == "ok")
                .order_by(IngestionRun.started_at.desc())
                .limit(1)
            )

    async def count(self) -> int:
        async with self._sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(Release)) or 0)

    async def newest_seen(self) -> dt.datetime | None:
        async with self._sessions() as session:
            return await session.scalar(select(func.max(Release.last_seen)))

    async def recent(self, *, limit: int = 20, days: int = 14) -> list[StoredRelease]:
        """The `limit` latest releases dated within the last `days` days, newest first."""
        since = self._clock.now().date() - dt.timedelta(days=days)
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Release)
                .where(Release.release_date >= since)
                .order_by(Release.release_date.desc(), Release.first_seen.desc(), Release.id)
                .limit(limit)
            )
            return [_stored(row) for row in rows]

    async def latest_by_artist(self, *, limit: int = 20, days: int = 14) -> list[ArtistReleases]:
        """The artists of the `limit` latest releases, each with their releases in the window.

        Artists are ordered by their newest release; as in the original `release_limit`.
        The answer depends only on the arguments, today's date and the copy, which changes
        only when an ingestion writes (`max(last_seen)` moves): it is kept until then, so a
        busy `/releases` costs one aggregate query.
        """
        key = (limit, days, self._clock.now().date(), await self.newest_seen())
        cached = self._latest.get(key)
        if cached is None:
            cached = tuple(await self._latest_by_artist(limit, days))
            self._latest[key] = cached
            if len(self._latest) > 64:
                self._latest.popitem(last=False)
        return list(cached)

    async def _latest_by_artist(self, limit: int, days: int) -> list[ArtistReleases]:
        latest = await self.recent(limit=limit, days=days)
        if not latest:
            return []
        since = self._clock.now().date() - dt.timedelta(days=days)
        async with self._sessions() as session:
            artist_ids = list(
                dict.fromkeys(
                    await session.scalars(
                        select(ReleaseArtist.artist_id)
                        .where(ReleaseArtist.release_id.in_([r.id for r in latest]))
                        .order_by(ReleaseArtist.position)
                    )
                )
            )
            return await _artists_with_releases(session, artist_ids, Release.release_date >= since)

    async def released_on(self, day: dt.date) -> list[ArtistReleases]:
        """Releases dated exactly `day` (day precision only), grouped by artist."""
        async with self._sessions() as session:
            artist_ids = list(
                dict.fromkeys(
                    await session.scalars(
                        select(ReleaseArtist.artist_id)
                        .join(Release, Release.id == ReleaseArtist.release_id)
                        .where(Release.release_date == day, Release.release_date_precision == "day")
                        .order_by(ReleaseArtist.artist_id)
                    )
                )
            )
            return await _artists_with_releases(
                session,
                artist_ids,
                (Release.release_date == day) & (Release.release_date_precision == "day"),
            )


async def _upsert(
    session: AsyncSession,
    model: type[Artist] | type[Release],
    rows: list[dict[str, Any]],
    columns: tuple[str, ...],
) -> None:
    # first_seen is not in the update: a second ingestion keeps when we first saw it.
    statement = insert(model).values(rows)
    changes = {name: statement.excluded[name] for name in (*columns, "last_seen")}
    await session.execute(statement.on_conflict_do_update(index_elements=["id"], set_=changes))


def _stored(row: Release) -> StoredRelease:
    return StoredRelease(
        id=row.id,
        name=row.name,
        album_type=row.album_type,
        release_date=row.release_date,
        precision=row.release_date_precision,
        total_tracks=row.total_tracks,
        image_url=row.image_url,
        url=row.url,
    )


async def _artists_with_releases(
    session: AsyncSession, artist_ids: list[str], window: Any
) -> list[ArtistReleases]:
    if not artist_ids:
        return []
    artists = {
        artist.id: artist
        for artist in await session.scalars(select(Artist).where(Artist.id.in_(artist_ids)))
    }
    rows = await session.execute(
        select(ReleaseArtist.artist_id, Release)
        .join(Release, Release.id == ReleaseArtist.release_id)
        .where(ReleaseArtist.artist_id.in_(artist_ids), window)
        # Albums before singles on the same day, longer first: the "top" release leads.
        .order_by(
            Release.release_date.desc(),
            (Release.album_type == "album").desc(),
            Release.total_tracks.desc(),
            Release.name,
        )
    )
    by_artist: dict[str, list[StoredRelease]] = {}
    for artist_id, release in rows:
        by_artist.setdefault(artist_id, []).append(_stored(release))
    grouped = [
        ArtistReleases(
            id=artist_id,
            name=artists[artist_id].name,
            url=artists[artist_id].url,
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
