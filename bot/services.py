"""The services one process needs, built once from the settings and shared by every role."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import logs
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.digests import DigestService
from bot.discord_budget import DiscordBudget
from bot.keys import required_keys
from bot.likes import LikeService
from bot.linking import DiscordIdentity, LinkService
from bot.listening import ListeningService
from bot.outbox import NOTIFY_CHANNEL, Outbox
from bot.playlist_saves import PlaylistSaves
from bot.playlists import PlaylistService
from bot.radar import RadarService
from bot.releases import ReleaseService
from bot.search import SearchService
from bot.shuffle import ShuffleService
from bot.spotify import (
    PlaylistWriter,
    SpotifyAccounts,
    SpotifyGateway,
    TokenCipher,
    TokenStore,
)
from db import notify
from db.engine import SessionFactory, create_engine, session_factory, start_embedded_postgres

log = logging.getLogger(__name__)


async def database_url(settings: Settings) -> str:
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return await asyncio.to_thread(start_embedded_postgres, Path(settings.encore_data_dir))


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    clock: Clock
    cipher: TokenCipher
    outbox: Outbox
    tokens: TokenStore
    spotify: SpotifyGateway
    links: LinkService
    playlists: PlaylistService
    search: SearchService
    likes: LikeService
    shuffle: ShuffleService
    releases: ReleaseService
    digests: DigestService
    listening: ListeningService
    saves: PlaylistSaves
    radar: RadarService
    discord_budget: DiscordBudget
    status: dict[str, object] = field(default_factory=dict)  # in-process facts for /health

    @classmethod
    async def build(
        cls, settings: Settings, *, clock: Clock | None = None, keys: Sequence[str] | None = None
    ) -> Services:
        """`keys` default to the configured ones (`bot.keys`: building services never makes one)."""
        clock = clock or SystemClock()
        cipher_keys = list(keys) if keys else required_keys(settings)
        logs.hide(*cipher_keys, *_secrets_of(settings))
        cipher = TokenCipher(cipher_keys)
        engine = create_engine(await database_url(settings), pre_ping=settings.database_pre_ping)
        sessions = session_factory(engine)
        outbox = Outbox(
            sessions, clock, listen=lambda wake: notify.listen(engine, NOTIFY_CHANNEL, wake)
        )
        accounts = SpotifyAccounts(
            settings.spotify_accounts_url,
            settings.spotify_client_id or "",
            settings.spotify_client_secret.get_secret_value()
            if settings.spotify_client_secret
            else "",
            settings.redirect_uri,
            timeout=settings.spotify_timeout,
        )
        tokens = TokenStore(sessions, cipher, accounts, clock, outbox)
        spotify = SpotifyGateway(
            settings.spotify_api_url,
            accounts,
            tokens,
            threads=settings.spotify_threads,
            timeout=settings.spotify_timeout,
        )
        discord = None
        if settings.discord_client_id and settings.discord_client_secret:
            discord = DiscordIdentity(
                settings.discord_api_url,
                settings.discord_client_id,
                settings.discord_client_secret.get_secret_value(),
                settings.discord_redirect_uri,
                timeout=settings.spotify_timeout,
            )
        links = LinkService(
            sessions, cipher, spotify, outbox, clock, settings.public_url, discord=discord
        )
        playlists = PlaylistService(spotify, clock)
        search = SearchService(spotify)
        status: dict[str, object] = {}
        shuffle = ShuffleService(sessions, spotify, playlists, clock)
        likes = LikeService(sessions, spotify, clock)
        releases = ReleaseService(
            sessions,
            spotify,
            clock,
            status=status,
            search_cap=settings.release_search_cap,
            interval=dt.timedelta(hours=settings.release_ingest_interval_hours),
        )
        radar = RadarService(
            sessions, spotify, outbox, clock, calls_per_hour=settings.radar_calls_per_hour
        )
        return cls(
            settings,
            engine,
            sessions,
            clock,
            cipher,
            outbox,
            tokens,
            spotify,
            links,
            playlists=playlists,
            search=search,
            likes=likes,
            shuffle=shuffle,
            releases=releases,
            digests=DigestService(
                sessions,
                releases,
                clock,
                status=status,
                lease=dt.timedelta(seconds=settings.digest_lease_seconds),
                shared_releases=radar.shared_releases,
            ),
            listening=ListeningService(spotify, likes),
            saves=PlaylistSaves(sessions, PlaylistWriter(spotify), shuffle, clock, playlists),
            radar=radar,
            discord_budget=DiscordBudget(
                sessions, settings.discord_global_rate, enabled=settings.discord_shared_budget
            ),
            status=status,
        )

    async def close(self) -> None:
        await self.spotify.close()
        if self.links.discord is not None:
            await self.links.discord.close()
        await self.engine.dispose()


def _secrets_of(settings: Settings) -> list[str]:
    """Every configured secret, for the logs to blank out wherever it appears."""
    found = [
        secret.get_secret_value()
        for secret in (
            settings.discord_token,
            settings.spotify_client_secret,
            settings.discord_client_secret,
        )
        if secret is not None
    ]
    if settings.database_url is not None:
        password = make_url(settings.database_url.get_secret_value()).password
        if password:
            found.append(str(password))
    return found
