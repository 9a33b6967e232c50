"""The release radar behind one service: the watchlist, the member's settings, the checker,
the weekly deliveries and the digest's section."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.digests import SharedRelease, parse_post_time, parse_timezone
from bot.errors import BadInput, NotLinked
from bot.outbox import Outbox
from bot.radar.checker import RadarChecker
from bot.radar.delivery import RadarDeliveries
from bot.radar.schedule import DAYS, next_delivery, parse_types
from bot.radar.server import server_section
from bot.radar.watchlist import PLAYLIST_SCOPE, WatchlistService, ensure_settings
from bot.spotify import PlaylistWriter, SpotifyGateway
from db.engine import SessionFactory, again_if_connection_lost
from db.erasure import link_generation, writing_about
from db.models import RadarSettings, RadarShare


@dataclass(frozen=True)
class RadarSettingsView:
    release_types: tuple[str, ...]
    day: int
    time: dt.time
    timezone: str
    enabled: bool
    shared_servers: int
    shared_here: bool
    playlist: bool
    playlist_id: str | None
    next_delivery_at: dt.datetime | None
    last_period: dt.date | None

    @property
    def day_name(self) -> str:
        return DAYS[self.day]


class RadarService:
    def __init__(
        self,
        sessions: SessionFactory,
        spotify: SpotifyGateway,
        outbox: Outbox,
        clock: Clock,
        *,
        calls_per_hour: float,
    ) -> None:
        self._sessions = sessions
        self._spotify = spotify
        self._clock = clock
        self.watchlist = WatchlistService(sessions, spotify, clock)
        self.checker = RadarChecker(sessions, spotify, clock, calls_per_hour=calls_per_hour)
        self.deliveries = RadarDeliveries(sessions, spotify, outbox, PlaylistWriter(spotify), clock)

    async def shared_releases(self, guild_id: int, local_date: dt.date) -> list[SharedRelease]:
        return await server_section(self._sessions, guild_id, local_date)

    # -- settings --------------------------------------------------------------------------

    # Each command's transaction and its read-back run again, each on its own, when the
    # connection dies under them before commit (`again_if_connection_lost`): the transaction
    # rolled back with its connection, and a read repeats nothing.

    async def settings(
        self, discord_user_id: int, guild_id: int | None = None
    ) -> RadarSettingsView:
        await self._ensure(discord_user_id)
        return await self._view(discord_user_id, guild_id)

    @again_if_connection_lost
    async def _ensure(self, discord_user_id: int) -> None:
        async with self._sessions() as session, session.begin():
            await self._linked(session, discord_user_id)
            await ensure_settings(session, discord_user_id, self._clock.now())

    async def change(
        self,
        discord_user_id: int,
        *,
        types: str | None = None,
        day: str | None = None,
        time: str | None = None,
        timezone: str | None = None,
        enabled: bool | None = None,
        guild_id: int | None = None,
    ) -> RadarSettingsView:
        chosen_types = parse_types(types) if types is not None else None
        if types is not None and not chosen_types:
            raise BadInput(
                "Name at least one release type: `album`, `single`, `compilation`, "
                "`appears_on` (comma-separated)."
            )
        day_number = None
        if day is not None:
            names = [d.casefold() for d in DAYS]
            if day.strip().casefold() not in names:
                raise BadInput(f"`{day}` is not a day of the week.")
            day_number = names.index(day.strip().casefold())
        at = parse_post_time(time) if time is not None else None
        zone = parse_timezone(timezone) if timezone is not None else None
        await self._change(discord_user_id, chosen_types, day_number, at, zone, enabled)
        return await self._view(discord_user_id, guild_id)

    @again_if_connection_lost
    async def _change(
        self,
        discord_user_id: int,
        chosen_types: tuple[str, ...] | None,
        day_number: int | None,
        at: dt.time | None,
        zone: str | None,
        enabled: bool | None,
    ) -> None:
        async with self._sessions() as session, session.begin():
            await self._linked(session, discord_user_id)
            now = self._clock.now()
            await ensure_settings(session, discord_user_id, now)
            row = await session.get(RadarSettings, discord_user_id, with_for_update=True)
            assert row is not None
            if chosen_types is not None:
                row.release_types = ",".join(chosen_types)
            if day_number is not None:
                row.delivery_day = day_number
            if at is not None:
                row.delivery_time = at
            if zone is not None:
                row.timezone = zone
            if enabled is not None:
                row.enabled = enabled
            row.next_delivery_at, _ = next_delivery(
                now, row.delivery_day, row.delivery_time, row.timezone
            )

    async def share(
        self, discord_user_id: int, guild_id: int | None, *, on: bool
    ) -> RadarSettingsView:
        if on and guild_id is None:
            raise BadInput(
                "Run `/radar share on` in the server whose digest may count your artists."
            )
        await self._share(discord_user_id, guild_id, on=on)
        return await self._view(discord_user_id, guild_id)

    @again_if_connection_lost
    async def _share(self, discord_user_id: int, guild_id: int | None, *, on: bool) -> None:
        async with self._sessions() as session, session.begin():
            await self._linked(session, discord_user_id)
            await ensure_settings(session, discord_user_id, self._clock.now())
            if on:
                assert guild_id is not None
                await session.merge(RadarShare(discord_user_id=discord_user_id, guild_id=guild_id))
            else:
                where = [RadarShare.discord_user_id == discord_user_id]
                if guild_id is not None:
                    where.append(RadarShare.guild_id == guild_id)
                await session.execute(delete(RadarShare).where(*where))
            await session.flush()
            left = await session.scalar(
                select(func.count()).where(RadarShare.discord_user_id == discord_user_id)
            )
            row = await session.get(RadarSettings, discord_user_id)
            assert row is not None
            row.share = bool(left)

    async def playlist(self, discord_user_id: int, *, on: bool) -> RadarSettingsView:
        if on:
            await self._spotify.require_scopes(discord_user_id, {PLAYLIST_SCOPE})
        await self._playlist(discord_user_id, on=on)
        return await self._view(discord_user_id, None)

    @again_if_connection_lost
    async def _playlist(self, discord_user_id: int, *, on: bool) -> None:
        async with self._sessions() as session, session.begin():
            await self._linked(session, discord_user_id)
            await ensure_settings(session, discord_user_id, self._clock.now())
            row = await session.get(RadarSettings, discord_user_id)
            assert row is not None
            row.playlist = on

    @again_if_connection_lost
    async def _view(self, discord_user_id: int, guild_id: int | None) -> RadarSettingsView:
        async with self._sessions() as session:
            row = await session.get(RadarSettings, discord_user_id)
            assert row is not None
            guilds = set(
                await session.scalars(
                    select(RadarShare.guild_id).where(RadarShare.discord_user_id == discord_user_id)
                )
            )
        return RadarSettingsView(
            release_types=tuple(t for t in row.release_types.split(",") if t),
            day=row.delivery_day,
            time=row.delivery_time,
            timezone=row.timezone,
            enabled=row.enabled,
            shared_servers=len(guilds),
            shared_here=guild_id in guilds,
            playlist=row.playlist,
            playlist_id=row.playlist_id,
            next_delivery_at=row.next_delivery_at if row.enabled else None,
            last_period=row.last_delivered_period,
        )

    async def _linked(self, session: AsyncSession, discord_user_id: int) -> None:
        await writing_about(session, discord_user_id)
        if await link_generation(session, discord_user_id) is None:
            raise NotLinked
