"""The release service: the local copy's reads, and its ingestion from Spotify, as one."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Sequence

from bot.clock import Clock
from bot.releases.ingestion import IngestionOutcome, PageHook, ReleaseIngestion
from bot.releases.reads import VERSION_TTL, ReleaseCopy
from bot.releases.sources import DEFAULT_SOURCES, ReleaseSource
from bot.spotify import SpotifyGateway
from db.engine import SessionFactory
from db.models import IngestionRun


class ReleaseService(ReleaseCopy):
    """Ingests new releases into the local copy (`ReleaseIngestion`) and reads it back."""

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
        version_ttl: float = VERSION_TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(sessions, clock, version_ttl=version_ttl, monotonic=monotonic)
        self.ingestion = ReleaseIngestion(
            sessions,
            spotify,
            clock,
            status=status,
            search_cap=search_cap,
            interval=interval,
            sources=sources,
            retry_delays=retry_delays,
            max_wait=max_wait,
            sleep=sleep,
        )

    async def ingest_if_stale(self) -> IngestionOutcome | None:
        """The worker's tick: ingest when the last successful run started an interval ago."""
        try:
            return await self.ingestion.ingest_if_stale()
        finally:
            self.forget_version()

    async def ingest(self, *, on_page: PageHook | None = None) -> IngestionOutcome:
        """Fetch new releases and upsert them, a page per transaction; one process at a time.

        This process's reads see what it stored at once (other processes' within a second).
        """
        try:
            return await self.ingestion.ingest(on_page=on_page)
        finally:
            self.forget_version()

    async def last_success(self) -> IngestionRun | None:
        return await self.ingestion.last_success()
