"""The server digest's section "New from artists this server listens to": releases of the
last week by artists on the radars of members who shared theirs with this server
(`/radar share on` there), as counts ("3 members follow"), never names."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.digests import SharedRelease
from bot.releases import StoredRelease
from db.engine import SessionFactory
from db.models import (
    Artist,
    RadarArtist,
    RadarArtistRelease,
    RadarBlock,
    RadarSettings,
    RadarShare,
    RadarWatch,
    Release,
    SpotifyLink,
)

SECTION_DAYS = 7
SECTION_LIMIT = 10
OWN_GROUPS = ("album", "single", "compilation")  # not "appears on": the section is the artist's

ServerRadarRelease = SharedRelease


async def server_section(
    sessions: SessionFactory, guild_id: int, local_date: dt.date, *, limit: int = SECTION_LIMIT
) -> list[SharedRelease]:
    members = func.count(func.distinct(RadarWatch.discord_user_id)).label("members")
    not_blocked = ~(
        select(RadarBlock.artist_id)
        .where(
            RadarBlock.discord_user_id == RadarWatch.discord_user_id,
            RadarBlock.artist_id == RadarWatch.artist_id,
        )
        .exists()
    )
    counted = (
        select(RadarArtistRelease.release_id, RadarArtistRelease.artist_id, members)
        .join(RadarWatch, RadarWatch.artist_id == RadarArtistRelease.artist_id)
        .join(
            RadarShare,
            (RadarShare.discord_user_id == RadarWatch.discord_user_id)
            & (RadarShare.guild_id == guild_id),
        )
        .join(RadarSettings, RadarSettings.discord_user_id == RadarWatch.discord_user_id)
        .join(SpotifyLink, SpotifyLink.discord_user_id == RadarWatch.discord_user_id)
        .join(Release, Release.id == RadarArtistRelease.release_id)
        .where(
            RadarSettings.share,
            RadarArtistRelease.album_group.in_(OWN_GROUPS),
            Release.release_date > local_date - dt.timedelta(days=SECTION_DAYS),
            Release.release_date <= local_date,
            not_blocked,
        )
        .group_by(RadarArtistRelease.release_id, RadarArtistRelease.artist_id)
    ).subquery()
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Release, RadarArtist.name, Artist.url, counted.c.members)
                .join(counted, counted.c.release_id == Release.id)
                .join(RadarArtist, RadarArtist.artist_id == counted.c.artist_id)
                .outerjoin(Artist, Artist.id == counted.c.artist_id)
                .order_by(counted.c.members.desc(), Release.release_date.desc(), Release.id)
            )
        ).all()
    shown: dict[str, SharedRelease] = {}
    for release, artist_name, artist_url, count in rows:
        if release.id in shown or len(shown) == limit:
            continue  # a collaboration: once, under its most watched artist
        shown[release.id] = SharedRelease(
            StoredRelease(
                id=release.id,
                name=release.name,
                album_type=release.album_type,
                release_date=release.release_date,
                precision=release.release_date_precision,
                total_tracks=release.total_tracks,
                image_url=release.image_url,
                url=release.url,
            ),
            artist_name,
            artist_url,
            int(count),
        )
    return list(shown.values())
