"""The release radar's checker: a worker job that looks at each distinct watched artist once
per cycle (`GET /artists/{id}/albums`, app token, limit 10), however many members watch it.

Coordination is in PostgreSQL only: a tick takes calls from a token bucket every worker
shares (`radar_budget`, RADAR_CALLS_PER_HOUR, refilled continuously and holding at most a
minute's worth, so calls are spread evenly), claims that many due artists with `FOR UPDATE
SKIP LOCKED` and a lease, commits, calls Spotify with no transaction open, and records each
outcome. A 429 pauses every worker for its `Retry-After` (a quota refusal for at least
`QUOTA_PAUSE`); a worker that dies leaves its claims to expire; a restart resumes from the
table. Releases found go into the `releases` tables (upserts: a second look changes nothing).

Spotify lists a discography group by group (album, single, compilation, appears on), newest
first in each: one page of 10 shows the newest albums, not a new single of an artist with
many albums. The page's `total` tells: when it changed since the last look (or on the first
look) and the page did not hold everything, the groups the page did not reach are asked for
too, one call each. A steady cycle is one call per artist.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError

from bot.clock import Clock
from bot.digests import worker_name
from bot.errors import EncoreError, NotFound, SpotifyBusy
from bot.radar.budget import BUDGET, charge
from bot.radar.schedule import check_interval
from bot.releases import parse_release_date
from bot.spotify import SpotifyGateway
from bot.spotify.webapi import WebAPI
from db.engine import SessionFactory
from db.models import (
    Artist,
    RadarArtist,
    RadarArtistRelease,
    RadarBudget,
    RadarWatch,
    Release,
    ReleaseArtist,
    SpotifyLink,
)

log = logging.getLogger(__name__)

GROUPS = ("album", "single", "compilation", "appears_on")
PAGE = 10  # the most `/artists/{id}/albums` gives since 2026
QUOTA_PAUSE = dt.timedelta(minutes=15)  # at least, after QUOTA_EXCEEDED
RETRY_LATER = dt.timedelta(minutes=10)  # an artist whose check failed otherwise
GONE_FOR = dt.timedelta(days=7)  # an artist Spotify no longer knows
DEADLOCK_RETRIES = 3
BURST_SECONDS = 60.0  # the bucket holds a minute's worth of calls


@dataclass(frozen=True)
class _Claim:
    artist_id: str
    releases_total: int | None


@dataclass
class CheckReport:
    checked: int = 0
    calls: int = 0
    releases: int = 0
    failed: int = 0
    paused_until: dt.datetime | None = None
    pause_reason: str | None = None
    artists: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Look:
    albums: list[tuple[dict[str, Any], str]]
    total: int
    calls: int


class RadarChecker:
    def __init__(
        self,
        sessions: SessionFactory,
        spotify: SpotifyGateway,
        clock: Clock,
        *,
        calls_per_hour: float,
        worker: str | None = None,
        lease: dt.timedelta = dt.timedelta(minutes=5),
        batch: int = 50,
        parallel: int = 4,
    ) -> None:
        self._sessions = sessions
        self._spotify = spotify
        self._clock = clock
        self.calls_per_hour = calls_per_hour
        self.worker = worker or worker_name()
        self._lease = lease
        self._batch = batch
        self._parallel = parallel  # checks in flight per worker

    async def tick(self, now: dt.datetime | None = None) -> CheckReport:
        """Check due artists while the shared budget allows; safe in any number of workers."""
        report = CheckReport()
        while True:
            at = now or self._clock.now()
            claims = await self._claim(at)
            if not claims:
                break
            if await self._check_batch(claims, at, report):
                return report  # Spotify said stop: every worker waits for the pause
            if len(claims) < self._batch:
                break
        return report

    async def _check_batch(
        self, claims: list[_Claim], at: dt.datetime, report: CheckReport
    ) -> bool:
        """Check the claimed artists, a few at once; True if Spotify refused (and we paused)."""
        unchecked = {claim.artist_id for claim in claims}
        refused: list[SpotifyBusy] = []
        gate = asyncio.Semaphore(self._parallel)

        async def check(claim: _Claim) -> None:
            async with gate:
                if refused:
                    return
                try:
                    look = await self._look(claim)
                except SpotifyBusy as busy:
                    refused.append(busy)
                    return
                except NotFound:
                    await self._failed(claim.artist_id, at + GONE_FOR, "unknown to Spotify")
                    report.failed += 1
                except EncoreError as error:
                    await self._failed(claim.artist_id, at + RETRY_LATER, type(error).__name__)
                    report.failed += 1
                else:
                    report.releases += await self._record(claim.artist_id, look, at)
                    report.checked += 1
                    report.calls += look.calls
                    report.artists.append(claim.artist_id)
                unchecked.discard(claim.artist_id)

        await asyncio.gather(*(check(claim) for claim in claims))
        if refused:
            await self._back_off(refused[0], sorted(unchecked), at, report)
        return bool(refused)

    # -- the budget and the claims --------------------------------------------------------

    async def _claim(self, now: dt.datetime) -> list[_Claim]:
        per_second = self.calls_per_hour / 3600.0
        burst = max(1.0, per_second * BURST_SECONDS)
        async with self._sessions() as session, session.begin():
            await session.execute(
                insert(RadarBudget)
                .values(name=BUDGET, tokens=burst, refilled_at=now)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            budget = await session.scalar(
                select(RadarBudget).where(RadarBudget.name == BUDGET).with_for_update()
            )
            assert budget is not None
            if budget.paused_until is not None and budget.paused_until > now:
                return []
            elapsed = max(0.0, (now - budget.refilled_at).total_seconds())
            tokens = min(burst, budget.tokens + per_second * elapsed)
            budget.refilled_at = max(now, budget.refilled_at)
            budget.paused_until = None
            wanted = min(self._batch, math.floor(tokens))
            budget.tokens = tokens
            if wanted <= 0:
                return []
            # Watched by a linked member: an /unlink stops the checks that were only for them.
            watched = exists(
                select(RadarWatch.artist_id)
                .join(SpotifyLink, SpotifyLink.discord_user_id == RadarWatch.discord_user_id)
                .where(RadarWatch.artist_id == RadarArtist.artist_id)
            )
            due = (
                select(RadarArtist.artist_id)
                .where(
                    RadarArtist.next_check_at <= now,
                    (RadarArtist.claimed_until.is_(None)) | (RadarArtist.claimed_until < now),
                    watched,
                )
                .order_by(RadarArtist.next_check_at, RadarArtist.artist_id)
                .limit(wanted)
                .with_for_update(skip_locked=True)
            )
            rows = (
                await session.execute(
                    update(RadarArtist)
                    .where(RadarArtist.artist_id.in_(due.scalar_subquery()))
                    .values(claimed_by=self.worker, claimed_until=now + self._lease)
                    .returning(RadarArtist.artist_id, RadarArtist.releases_total)
                )
            ).all()
            budget.tokens = tokens - len(rows)
            budget.calls += len(rows)
        return sorted((_Claim(a, t) for a, t in rows), key=lambda c: c.artist_id)

    async def _back_off(
        self, busy: SpotifyBusy, unchecked: list[str], now: dt.datetime, report: CheckReport
    ) -> None:
        wait = dt.timedelta(seconds=max(1.0, busy.retry_after))
        if busy.quota:
            wait = max(wait, QUOTA_PAUSE)
        reason = "QUOTA_EXCEEDED" if busy.quota else "429"
        until = now + wait
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(RadarBudget)
                .where(RadarBudget.name == BUDGET)
                .values(paused_until=until, pause_reason=reason, tokens=0.0)
            )
            await session.execute(
                update(RadarArtist)
                .where(RadarArtist.artist_id.in_(unchecked), RadarArtist.claimed_by == self.worker)
                .values(claimed_by=None, claimed_until=None)
            )
        log.warning(
            "Release radar: Spotify answered %s; every worker pauses checks until %s",
            reason,
            until.isoformat(),
        )
        report.paused_until, report.pause_reason = until, reason

    async def _failed(self, artist_id: str, again: dt.datetime, why: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(RadarArtist)
                .where(RadarArtist.artist_id == artist_id, RadarArtist.claimed_by == self.worker)
                .values(next_check_at=again, claimed_by=None, claimed_until=None, last_error=why)
            )

    # -- one artist ---------------------------------------------------------------------------

    async def _look(self, claim: _Claim) -> _Look:
        first = await self._page(claim.artist_id, ",".join(GROUPS))
        items = [i for i in first.get("items") or [] if isinstance(i, dict)]
        total = int(first.get("total") or 0)
        albums = [
            (item, str(item.get("album_group") or item.get("album_type") or "")) for item in items
        ]
        calls = 1
        changed = claim.releases_total is None or total != claim.releases_total
        if changed and total > len(items):
            last = albums[-1][1] if albums else None
            hidden = GROUPS[GROUPS.index(last) + 1 :] if last in GROUPS else GROUPS
            for group in hidden:
                page = await self._page(claim.artist_id, group)
                calls += 1
                albums += [(i, group) for i in page.get("items") or [] if isinstance(i, dict)]
        return _Look(albums, total, calls)

    async def _page(self, artist_id: str, groups: str) -> dict[str, Any]:
        page: dict[str, Any] = await self._spotify.as_app(
            _discography(artist_id, groups), endpoint="radar:artist-albums"
        )
        return page

    async def _record(self, artist_id: str, look: _Look, now: dt.datetime) -> int:
        releases: dict[str, dict[str, Any]] = {}
        artists: dict[str, dict[str, Any]] = {}
        links: dict[tuple[str, str], dict[str, Any]] = {}
        groups: dict[str, str] = {}
        for album, group in look.albums:
            kind = str(album.get("album_type") or "").lower()
            if not album.get("id") or group not in GROUPS:
                continue
            try:
                day, precision = parse_release_date(str(album.get("release_date") or ""))
            except ValueError:
                continue
            images = album.get("images") or []
            releases[album["id"]] = {
                "id": album["id"],
                "name": str(album.get("name") or "Untitled"),
                "album_type": kind or group,
                "release_date": day,
                "release_date_precision": precision,
                "total_tracks": int(album.get("total_tracks") or 0),
                "image_url": images[0]["url"] if images else None,
                "url": (album.get("external_urls") or {}).get("spotify"),
                "first_seen": now,
                "last_seen": now,
            }
            groups.setdefault(album["id"], group)
            for position, artist in enumerate(album.get("artists") or []):
                if not artist.get("id"):
                    continue
                artists[artist["id"]] = {
                    "id": artist["id"],
                    "name": str(artist.get("name") or "Unknown artist"),
                    "url": (artist.get("external_urls") or {}).get("spotify"),
                    "first_seen": now,
                    "last_seen": now,
                }
                links[(album["id"], artist["id"])] = {
                    "release_id": album["id"],
                    "artist_id": artist["id"],
                    "position": position,
                }
        for attempt in range(DEADLOCK_RETRIES):
            try:
                await self._store(artist_id, look, now, releases, artists, links, groups)
                break
            except DBAPIError as error:
                # Another worker (or the release ingestion) upserting the same collaboration.
                if "deadlock" not in str(error.orig).lower() or attempt == DEADLOCK_RETRIES - 1:
                    raise
        async with self._sessions() as session, session.begin():
            await charge(session, look.calls - 1)  # the first was paid for by the claim
        return len(releases)

    async def _store(
        self,
        artist_id: str,
        look: _Look,
        now: dt.datetime,
        releases: dict[str, dict[str, Any]],
        artists: dict[str, dict[str, Any]],
        links: dict[tuple[str, str], dict[str, Any]],
        groups: dict[str, str],
    ) -> None:
        """Upsert what one look found, rows in id order (two workers storing one
        collaboration lock its rows in the same order), and free the artist's claim."""
        async with self._sessions() as session, session.begin():
            if releases:
                if artists:
                    statement = insert(Artist).values([artists[k] for k in sorted(artists)])
                    await session.execute(
                        statement.on_conflict_do_update(
                            index_elements=["id"],
                            set_={
                                "name": statement.excluded.name,
                                "url": statement.excluded.url,
                                "last_seen": statement.excluded.last_seen,
                            },
                        )
                    )
                statement = insert(Release).values([releases[k] for k in sorted(releases)])
                columns = (
                    "name",
                    "album_type",
                    "release_date",
                    "release_date_precision",
                    "total_tracks",
                    "image_url",
                    "url",
                    "last_seen",
                )
                await session.execute(
                    statement.on_conflict_do_update(
                        index_elements=["id"],
                        set_={name: statement.excluded[name] for name in columns},
                    )
                )
                if links:
                    await session.execute(
                        insert(ReleaseArtist)
                        .values([links[k] for k in sorted(links)])
                        .on_conflict_do_nothing(index_elements=["release_id", "artist_id"])
                    )
                await session.execute(
                    insert(RadarArtistRelease)
                    .values(
                        [
                            {
                                "artist_id": artist_id,
                                "release_id": r,
                                "album_group": g,
                                "first_seen": now,
                            }
                            for r, g in sorted(groups.items())
                        ]
                    )
                    .on_conflict_do_nothing(index_elements=["artist_id", "release_id"])
                )
            await session.execute(
                update(RadarArtist)
                .where(RadarArtist.artist_id == artist_id, RadarArtist.claimed_by == self.worker)
                .values(
                    releases_total=look.total,
                    last_checked_at=now,
                    next_check_at=now + check_interval(now),
                    claimed_by=None,
                    claimed_until=None,
                    last_error=None,
                )
            )

    async def paused_until(self) -> dt.datetime | None:
        async with self._sessions() as session:
            budget = await session.get(RadarBudget, BUDGET)
        return budget.paused_until if budget is not None else None


def _discography(artist_id: str, groups: str) -> Callable[[WebAPI], Any]:
    return lambda sp: sp.artist_albums(artist_id, include_groups=groups, limit=PAGE)
