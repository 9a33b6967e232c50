"""Reading the local copy of new releases: for /releases, the JSON API and the digests.
Reads never call Spotify."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.releases.dates import format_release_date
from db.engine import SessionFactory
from db.models import Artist, Release, ReleaseArtist


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


class ReleaseCopy:
    """The local copy, read back."""

    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock
        # Answers of latest_by_artist, keyed by what they depend on (see there).
        self._latest: OrderedDict[tuple[object, ...], tuple[ArtistReleases, ...]] = OrderedDict()

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
