"""The weekly radar: a DM to each member at their day and local time with the new releases
of their watchlist since the last one (newest first), and their "Encore Radar" playlist
refilled with those tracks.

Exactly once per member and period, across processes, as digests are: a tick claims a due
member's settings row (`FOR UPDATE SKIP LOCKED`), inserts `radar_deliveries (user, period)`
(`ON CONFLICT DO NOTHING`: no row back means another process had it) and queues the DM in
the outbox in that same transaction; the outbox sends it with a nonce, so a lost answer
is not a second DM. Nothing new means no DM (the period is still recorded). The playlist is
written after the commit, by the process that recorded the period (PUT replaces: a retry
writes the same playlist).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.errors import EncoreError
from bot.outbox import Outbox
from bot.radar.schedule import next_delivery, period_of
from bot.spotify import PlaylistWriter, SpotifyGateway
from bot.spotify.webapi import WebAPI
from db.engine import SessionFactory
from db.erasure import still_linked, writing_about
from db.models import (
    RadarArtist,
    RadarArtistRelease,
    RadarBlock,
    RadarDelivery,
    RadarReleaseTracks,
    RadarSettings,
    RadarWatch,
    Release,
    SpotifyLink,
)

log = logging.getLogger(__name__)

WINDOW = dt.timedelta(days=14)  # how old a release may be to count as new
REMEMBERED = dt.timedelta(days=42)  # releases delivered in these periods are not sent again
MAX_RELEASES = 50
PLAYLIST_NAME = "Encore Radar"
PLAYLIST_DESCRIPTION = "New releases from your artists, refilled every week by Encore."
PLAYLIST_TRACKS = 500
DM_KIND = "radar"


@dataclass(frozen=True)
class RadarRelease:
    id: str
    name: str
    album_type: str
    group: str
    release_date: dt.date
    precision: str
    url: str | None
    image_url: str | None
    artists: tuple[str, ...]  # the watched artists it is by (or appears on), names

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "album_type": self.album_type,
            "group": self.group,
            "release_date": self.release_date.isoformat(),
            "precision": self.precision,
            "url": self.url,
            "image_url": self.image_url,
            "artists": list(self.artists),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RadarRelease:
        return cls(
            id=str(raw["id"]),
            name=str(raw.get("name") or "Untitled"),
            album_type=str(raw.get("album_type") or "album"),
            group=str(raw.get("group") or "album"),
            release_date=dt.date.fromisoformat(str(raw["release_date"])),
            precision=str(raw.get("precision") or "day"),
            url=raw.get("url"),
            image_url=raw.get("image_url"),
            artists=tuple(str(a) for a in raw.get("artists") or []),
        )


@dataclass
class DeliveryReport:
    delivered: list[int] = field(default_factory=list)  # members DMed
    empty: list[int] = field(default_factory=list)  # members with nothing new
    playlists: list[int] = field(default_factory=list)  # playlists refilled
    playlist_failures: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Delivered:
    discord_user_id: int
    period: dt.date
    releases: tuple[RadarRelease, ...]
    playlist_id: str | None
    playlist: bool
    generation: int


def radar_payload(period: dt.date, timezone: str, releases: list[RadarRelease]) -> dict[str, Any]:
    """What the outbox keeps for the DM; `bot.ui.radar` renders it."""
    return {
        "kind": DM_KIND,
        "period": period.isoformat(),
        "timezone": timezone,
        "releases": [release.to_json() for release in releases],
    }


async def releases_for(
    session: AsyncSession, discord_user_id: int, period: dt.date, types: list[str]
) -> list[RadarRelease]:
    """The new releases of the member's watchlist for `period`, newest first, without the
    ones an earlier period already delivered."""
    watched = select(RadarWatch.artist_id).where(RadarWatch.discord_user_id == discord_user_id)
    blocked = select(RadarBlock.artist_id).where(RadarBlock.discord_user_id == discord_user_id)
    rows = (
        await session.execute(
            select(Release, RadarArtistRelease.album_group, RadarArtist.name)
            .join(RadarArtistRelease, RadarArtistRelease.release_id == Release.id)
            .join(RadarArtist, RadarArtist.artist_id == RadarArtistRelease.artist_id)
            .where(
                RadarArtistRelease.artist_id.in_(watched),
                RadarArtistRelease.artist_id.not_in(blocked),
                RadarArtistRelease.album_group.in_(types),
                Release.release_date > period - WINDOW,
                Release.release_date <= period,
            )
            .order_by(Release.release_date.desc(), Release.first_seen.desc(), Release.id)
        )
    ).all()
    sent: set[str] = set()
    for ids in await session.scalars(
        select(RadarDelivery.release_ids).where(
            RadarDelivery.discord_user_id == discord_user_id,
            RadarDelivery.period < period,
            RadarDelivery.period > period - REMEMBERED,
        )
    ):
        sent.update(str(i) for i in ids)
    found: dict[str, RadarRelease] = {}
    for release, group, artist_name in rows:
        if release.id in sent:
            continue
        known = found.get(release.id)
        if known is not None:
            if artist_name not in known.artists:
                found[release.id] = RadarRelease(
                    **{**known.__dict__, "artists": (*known.artists, artist_name)}
                )
            continue
        if len(found) == MAX_RELEASES:
            continue
        found[release.id] = RadarRelease(
            id=release.id,
            name=release.name,
            album_type=release.album_type,
            group=group,
            release_date=release.release_date,
            precision=release.release_date_precision,
            url=release.url,
            image_url=release.image_url,
            artists=(artist_name,),
        )
    return list(found.values())


class RadarDeliveries:
    def __init__(
        self,
        sessions: SessionFactory,
        spotify: SpotifyGateway,
        outbox: Outbox,
        writer: PlaylistWriter,
        clock: Clock,
        *,
        batch: int = 100,
    ) -> None:
        self._sessions = sessions
        self._spotify = spotify
        self._outbox = outbox
        self._writer = writer
        self._clock = clock
        self._batch = batch

    async def tick(self, now: dt.datetime | None = None) -> DeliveryReport:
        """Deliver every due radar; safe to run in any number of processes at once."""
        report = DeliveryReport()
        at = now or self._clock.now()
        while True:
            due = await self._due(at)
            for user in due:
                delivered = await self._deliver(user, at)
                if delivered is None:
                    continue
                if not delivered.releases:
                    report.empty.append(user)
                    continue
                report.delivered.append(user)
                if delivered.playlist:
                    if await self._refill(delivered):
                        report.playlists.append(user)
                    else:
                        report.playlist_failures.append(user)
            if len(due) < self._batch:
                return report

    async def _due(self, now: dt.datetime) -> list[int]:
        async with self._sessions() as session:
            return list(
                await session.scalars(
                    select(RadarSettings.discord_user_id)
                    .join(SpotifyLink, SpotifyLink.discord_user_id == RadarSettings.discord_user_id)
                    .where(RadarSettings.enabled, RadarSettings.next_delivery_at <= now)
                    .order_by(RadarSettings.next_delivery_at)
                    .limit(self._batch)
                )
            )

    async def _deliver(self, discord_user_id: int, now: dt.datetime) -> _Delivered | None:
        async with self._sessions() as session, session.begin():
            await writing_about(session, discord_user_id)
            settings = await session.scalar(
                select(RadarSettings)
                .where(
                    RadarSettings.discord_user_id == discord_user_id,
                    RadarSettings.enabled,
                    RadarSettings.next_delivery_at <= now,
                )
                .with_for_update(skip_locked=True)
            )
            if settings is None or settings.next_delivery_at is None:
                return None  # another process has it, or had it
            link = await session.get(SpotifyLink, discord_user_id)
            if link is None:
                return None
            period = period_of(settings.next_delivery_at, settings.timezone)
            types = [t for t in settings.release_types.split(",") if t]
            releases = await releases_for(session, discord_user_id, period, types)
            playlist = settings.playlist and bool(releases)
            inserted = await session.scalar(
                insert(RadarDelivery)
                .values(
                    discord_user_id=discord_user_id,
                    period=period,
                    status="queued" if releases else "empty",
                    release_ids=[release.id for release in releases],
                    playlist_status="due" if playlist else None,
                )
                .on_conflict_do_nothing(index_elements=["discord_user_id", "period"])
                .returning(RadarDelivery.id)
            )
            settings.next_delivery_at, _ = next_delivery(
                max(now, settings.next_delivery_at),
                settings.delivery_day,
                settings.delivery_time,
                settings.timezone,
            )
            if inserted is None:
                return None  # this period was delivered already
            settings.last_delivered_period = period
            if releases:
                self._outbox.add_dm(
                    session,
                    discord_user_id,
                    DM_KIND,
                    f"Your Encore radar for {period:%A %d %B}: {len(releases)} new releases "
                    "from your artists. `/radar list` shows who you watch.",
                    rich=radar_payload(period, settings.timezone, releases),
                )
            return _Delivered(
                discord_user_id,
                period,
                tuple(releases),
                settings.playlist_id,
                playlist,
                link.generation,
            )

    # -- the playlist ---------------------------------------------------------------------

    async def _refill(self, delivered: _Delivered) -> bool:
        user = delivered.discord_user_id
        try:
            uris = await self._track_uris([release.id for release in delivered.releases])
            written = await self._writer.write(
                user,
                uris[:PLAYLIST_TRACKS],
                name=PLAYLIST_NAME,
                description=PLAYLIST_DESCRIPTION,
                replace=delivered.playlist_id,
            )
        except EncoreError as error:
            log.info("Radar playlist of user %s not refilled: %s", user, type(error).__name__)
            await self._playlist_outcome(delivered, "failed", None)
            return False
        await self._playlist_outcome(delivered, "written", written.playlist_id)
        return True

    async def _playlist_outcome(
        self, delivered: _Delivered, status: str, playlist_id: str | None
    ) -> None:
        user = delivered.discord_user_id
        async with self._sessions() as session, session.begin():
            await writing_about(session, user)
            if not await still_linked(session, user, delivered.generation):
                return
            await session.execute(
                update(RadarDelivery)
                .where(
                    RadarDelivery.discord_user_id == user, RadarDelivery.period == delivered.period
                )
                .values(playlist_status=status)
            )
            if playlist_id is not None:
                await session.execute(
                    update(RadarSettings)
                    .where(RadarSettings.discord_user_id == user)
                    .values(playlist_id=playlist_id)
                )

    async def _track_uris(self, release_ids: list[str]) -> list[str]:
        """Each release's tracks, in order: looked up once (app token) for every member."""
        async with self._sessions() as session:
            cached = {
                row.release_id: row.track_uris
                for row in await session.scalars(
                    select(RadarReleaseTracks).where(RadarReleaseTracks.release_id.in_(release_ids))
                )
            }
        for release_id in release_ids:
            if release_id in cached:
                continue
            page: dict[str, Any] = await self._spotify.as_app(
                _album_tracks(release_id), endpoint="radar:album-tracks"
            )
            uris = [
                str(item["uri"])
                for item in page.get("items") or []
                if isinstance(item, dict) and str(item.get("uri", "")).startswith("spotify:track:")
            ]
            cached[release_id] = uris
            async with self._sessions() as session, session.begin():
                await session.execute(
                    insert(RadarReleaseTracks)
                    .values(release_id=release_id, track_uris=uris)
                    .on_conflict_do_nothing(index_elements=["release_id"])
                )
        return [uri for release_id in release_ids for uri in cached.get(release_id, [])]


def _album_tracks(release_id: str) -> Callable[[WebAPI], Any]:
    return lambda sp: sp.album_tracks(release_id, limit=50)
