"""Ingestion: new releases fetched from the first source that answers, a page at a time, and
upserted into the local copy; one process at a time across the deployment."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics
from bot.clock import Clock
from bot.errors import EncoreError, SpotifyBusy, SpotifyUnavailable
from bot.releases.dates import parse_release_date
from bot.releases.sources import DEFAULT_SOURCES, Page, ReleaseSource, SourceUnavailable
from bot.spotify import SpotifyGateway
from db.engine import SessionFactory
from db.locks import advisory_lock
from db.models import Artist, IngestionRun, Release, ReleaseArtist

log = logging.getLogger(__name__)

# Any constant unique to this job: advisory lock keys are cluster-wide.
INGESTION_LOCK = 0x656E_636F_7265_0001
KEPT_TYPES = frozenset({"album", "single"})


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


class ReleaseIngestion:
    """Fills the local copy of new releases from Spotify."""

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

    async def ingest_if_stale(self) -> IngestionOutcome | None:
        """The worker's tick: ingest when the last successful run started an interval ago."""
        last = await self.last_success()
        if last is not None and self._clock.now() - last.started_at < self.interval:
            return None
        return await self.ingest()

    async def ingest(self, *, on_page: PageHook | None = None) -> IngestionOutcome:
        """Fetch new releases and upsert them, a page per transaction; one process at a time."""
        # A session-level lock on a connection of its own, in no transaction: nothing stays
        # open while Spotify answers or a 429 is waited out (up to `max_wait`), and
        # PostgreSQL releases it if this process dies.
        async with advisory_lock(self._sessions, INGESTION_LOCK, wait=False) as locked:
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

    async def last_success(self) -> IngestionRun | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(IngestionRun)
                .where(IngestionRun.status == "ok")
                .order_by(IngestionRun.started_at.desc())
                .limit(1)
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
