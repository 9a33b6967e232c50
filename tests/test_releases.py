"""Release ingestion and the local copy: both Spotify sources, idempotent upserts, a fault in
the middle, one ingestion at a time; against the Spotify emulator and the real database."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, update

from bot.clock import FrozenClock
from bot.config import Role, load_settings
from bot.releases import IngestionOutcome, ReleaseService, parse_release_date
from bot.services import Services
from db.models import Artist, IngestionRun, Release, ReleaseArtist
from sandbox.spotify import SpotifyControl, SpotifyEmulator
from tests.database_activity import DatabaseActivity
from tests.engine_activity import engine_activity

TODAY = dt.date(2026, 11, 6)


@dataclass
class World:
    services: Services
    spotify: SpotifyControl
    clock: FrozenClock
    waits: list[float]

    def releases(self, **options: object) -> ReleaseService:
        async def wait(seconds: float) -> None:
            self.waits.append(seconds)  # background back-off, recorded instead of slept

        defaults: dict[str, object] = {
            "status": self.services.status,
            "retry_delays": (1.0, 5.0),
            "sleep": wait,
        }
        defaults.update(options)
        return ReleaseService(
            self.services.sessions,
            self.services.spotify,
            self.clock,
            **defaults,  # type: ignore[arg-type]
        )

    async def count(self, model: type[object]) -> int:
        async with self.services.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def world(clean_database: str, fernet_key: str) -> AsyncIterator[World]:
    # An app from before February 2026 (most tests here read /browse/new-releases).
    emulator = SpotifyEmulator(today=TODAY, development_mode=False)
    base = await emulator.start()
    settings = load_settings(
        Role.WEB,
        database_url=clean_database,
        encryption_keys=fernet_key,
        spotify_client_id="sandbox-client",
        spotify_client_secret="sandbox-secret",
        spotify_api_url=emulator.api_url,
        spotify_accounts_url=emulator.accounts_url,
    )
    clock = FrozenClock(dt.datetime(2026, 11, 6, 12, 0, tzinfo=dt.UTC))
    services = await Services.build(settings, clock=clock)
    async with SpotifyControl(base) as control:
        yield World(services, control, clock, [])
    await services.close()
    await emulator.stop()


def test_release_dates_keep_their_precision() -> None:
    assert parse_release_date("2026-11-03") == (dt.date(2026, 11, 3), "day")
    assert parse_release_date("2026-11") == (dt.date(2026, 11, 1), "month")
    assert parse_release_date("2026") == (dt.date(2026, 1, 1), "year")
    with pytest.raises(ValueError):
        parse_release_date("soon")


async def test_new_releases_fill_the_copy_and_a_second_run_changes_only_last_seen(
    world: World,
) -> None:
    first = await world.releases().ingest()
    assert (first.status, first.source) == ("ok", "new-releases")
    assert first.spotify_calls == 2  # 100 albums, 50 a page
    counts = [await world.count(m) for m in (Release, Artist, ReleaseArtist)]
    assert counts[0] == first.releases > 80  # albums and singles; compilations are left out
    async with world.services.sessions() as session:
        seen_first = {
            rid: seen for rid, seen in await session.execute(select(Release.id, Release.first_seen))
        }
        kinds = set(await session.scalars(select(Release.album_type).distinct()))
    assert kinds <= {"album", "single"}

    world.clock.advance(hours=6)
    second = await world.releases().ingest()
    assert second.status == "ok"
    assert [await world.count(m) for m in (Release, Artist, ReleaseArtist)] == counts
    async with world.services.sessions() as session:
        rows = (
            await session.execute(select(Release.id, Release.first_seen, Release.last_seen))
        ).all()
        runs = list(await session.scalars(select(IngestionRun).order_by(IngestionRun.id)))
    assert all(first_seen == seen_first[rid] for rid, first_seen, _ in rows)
    assert all(last_seen == world.clock.now() for _, _, last_seen in rows)
    assert [(run.status, run.source, run.releases_seen) for run in runs] == [
        ("ok", "new-releases", counts[0]),
        ("ok", "new-releases", counts[0]),
    ]


async def test_without_new_releases_the_tag_new_search_serves_up_to_the_cap(world: World) -> None:
    await world.spotify.settings(new_releases_available=False)
    await world.spotify.clear_requests()

    outcome = await world.releases(search_cap=120).ingest()

    assert (outcome.status, outcome.source, outcome.pages) == ("ok", "search-tag-new", 12)
    log = await world.spotify.requests(path="^/v1/")
    assert [r["status"] for r in log if r["path"] == "/v1/browse/new-releases"] == [403]
    searches = [r for r in log if r["path"] == "/v1/search"]
    assert len(searches) == 12 and all(r["query"]["q"] == "tag:new" for r in searches)
    assert 100 <= await world.count(Release) <= 120
    async with world.services.sessions() as session:
        by_day = select(Release.release_date).where(Release.release_date_precision == "day")
        newest = await session.scalar(select(func.max(by_day.subquery().c.release_date)))
        oldest = await session.scalar(select(func.min(by_day.subquery().c.release_date)))
    assert newest is not None and oldest is not None
    assert TODAY - dt.timedelta(days=14) <= oldest <= newest <= TODAY


async def test_a_failure_midway_keeps_the_stored_pages_and_the_next_run_completes(
    world: World,
) -> None:
    await world.spotify.settings(new_releases_available=False)

    async def break_spotify_after_three_pages(progress: IngestionOutcome) -> None:
        if progress.pages == 3:
            await world.spotify.add_fault("^/v1/search$", status=500, times=50)

    failed = await world.releases(search_cap=100).ingest(on_page=break_spotify_after_three_pages)

    assert (failed.status, failed.pages) == ("failed", 3)
    assert world.waits == [1.0, 5.0]  # backed off twice, then left it to the next tick
    stored = await world.count(Release)
    assert stored == failed.releases and 25 <= stored <= 30
    health = world.services.status["ingestion"]
    assert isinstance(health, dict)
    assert health["status"] == "failed" and "not answering" in health["error"]
    async with world.services.sessions() as session:
        run = await session.scalar(select(IngestionRun))
        first_seen = {
            rid: seen for rid, seen in await session.execute(select(Release.id, Release.first_seen))
        }
    assert run is not None and (run.status, run.releases_seen) == ("failed", stored)
    assert run.error and run.finished_at is not None

    await world.spotify.clear_faults()
    world.clock.advance(minutes=10)
    retried = await world.releases(search_cap=100).ingest()

    assert retried.status == "ok" and await world.count(Release) > stored
    async with world.services.sessions() as session:
        kept = {
            rid: seen for rid, seen in await session.execute(select(Release.id, Release.first_seen))
        }
    assert all(kept[rid] == seen for rid, seen in first_seen.items())


async def test_a_short_429_is_waited_out_and_a_quota_429_is_not(world: World) -> None:
    await world.spotify.add_fault("^/v1/browse/new-releases$", status=429, retry_after=3, times=1)
    assert (await world.releases().ingest()).status == "ok"
    assert world.waits == [3.0]

    await world.spotify.add_fault(
        "^/v1/", status=429, retry_after=7200, reason="QUOTA_EXCEEDED", times=5
    )
    quota = await world.releases().ingest()
    assert quota.status == "failed" and quota.error is not None and "quota" in quota.error
    assert world.waits == [3.0]  # two hours is not waited for inside a job


async def test_only_one_ingestion_runs_at_a_time(world: World) -> None:
    await world.spotify.add_fault("^/v1/browse/new-releases$", delay=0.5, times=1)
    outcomes = await asyncio.gather(world.releases().ingest(), world.releases().ingest())
    assert sorted(o.status for o in outcomes) == ["ok", "skipped"]
    assert await world.count(IngestionRun) == 1


async def test_a_429_is_waited_out_with_no_transaction_open_and_the_job_still_held(
    world: World, database_activity: DatabaseActivity
) -> None:
    waiting = asyncio.Event()
    go_on = asyncio.Event()

    async def held_sleep(seconds: float) -> None:
        waiting.set()
        await go_on.wait()

    await world.spotify.add_fault("^/v1/browse/new-releases$", status=429, retry_after=60, times=1)
    first = asyncio.create_task(world.releases(sleep=held_sleep).ingest())
    async with asyncio.timeout(10):
        await waiting.wait()  # the job waits out Spotify's Retry-After
    seen = await database_activity.now()
    assert seen.in_transaction == [] and seen.row_locks == []
    assert len(seen.advisory_locks) == 1
    assert (await world.releases().ingest()).status == "skipped"  # still one at a time
    go_on.set()
    assert (await first).status == "ok"
    assert (await database_activity.now()).advisory_locks == []


async def test_a_fresh_copy_is_not_ingested_again_until_the_interval_passed(world: World) -> None:
    releases = world.releases(interval=dt.timedelta(hours=6))
    assert (await releases.ingest_if_stale()) is not None
    world.clock.advance(hours=5, minutes=59)
    assert await releases.ingest_if_stale() is None
    world.clock.advance(minutes=1)
    assert (await releases.ingest_if_stale()) is not None
    assert await world.count(IngestionRun) == 2


async def test_latest_by_artist_shows_the_artists_of_the_newest_releases(world: World) -> None:
    releases = world.releases()
    await releases.ingest()

    latest = await releases.recent(limit=5, days=14)
    artists = await releases.latest_by_artist(limit=5, days=14)

    assert len(latest) == 5
    assert [r.release_date for r in latest] == sorted(
        (r.release_date for r in latest), reverse=True
    )
    shown = {release.id for artist in artists for release in artist.releases}
    assert {r.id for r in latest} <= shown
    newest_first = [artist.latest_release.release_date for artist in artists]
    assert newest_first == sorted(newest_first, reverse=True)
    for artist in artists:
        dates = [release.release_date for release in artist.releases]
        assert dates == sorted(dates, reverse=True)
    assert await releases.latest_by_artist(limit=5, days=14) == artists  # reads are stable


async def test_reads_know_the_copys_version_for_a_second_and_build_a_miss_once(
    world: World,
) -> None:
    now = [100.0]
    releases = world.releases(monotonic=lambda: now[0])
    await releases.ingest()
    engine = world.services.engine

    with engine_activity(engine) as activity:
        first = await releases.latest_by_artist(limit=5, days=14)
    # A miss: the version, then the answer, in one transaction of plain rows.
    assert activity.transactions == 1
    with engine_activity(engine) as activity:
        assert await releases.latest_by_artist(limit=5, days=14) == first
    assert (activity.transactions, activity.statements) == (0, [])  # within the second

    now[0] += 1.5
    with engine_activity(engine) as activity:
        answers = await asyncio.gather(
            *(releases.latest_by_artist(limit=5, days=14) for _ in range(10))
        )
    assert answers == [first] * 10
    assert activity.transactions == 1  # one version read for ten readers, the answer kept
    assert "max(releases.last_seen)" in activity.statements[0]

    with engine_activity(engine) as activity:
        misses = await asyncio.gather(
            *(releases.latest_by_artist(limit=7, days=14) for _ in range(10))
        )
    assert all(miss == misses[0] for miss in misses)
    assert activity.transactions == 1  # ten concurrent misses of one key: built once

    async with world.services.sessions() as session, session.begin():
        await session.execute(
            update(Release)
            .where(Release.id == first[0].latest_release.id)
            .values(name="Renamed by Spotify", last_seen=func.now())
        )
    assert await releases.latest_by_artist(limit=5, days=14) == first  # another process's
    now[0] += 1.0  # write shows once the second is over
    renamed = await releases.latest_by_artist(limit=5, days=14)
    assert renamed[0].latest_release.name == "Renamed by Spotify"
