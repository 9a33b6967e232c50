"""Encore's tables as typed SQLAlchemy 2.0 models; Alembic migrations build exactly these."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        dt.datetime: DateTime(timezone=True),
        dict[str, Any]: JSONB,
        list[Any]: JSONB,
    }


def _created() -> Mapped[dt.datetime]:
    return mapped_column(server_default=func.now())


class SpotifyLink(Base):
    """One linked Discord user: their Spotify account and encrypted tokens."""

    __tablename__ = "spotify_links"

    discord_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    spotify_account_id: Mapped[str] = mapped_column(String(128), unique=True)
    spotify_user_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(256))
    access_token: Mapped[bytes] = mapped_column(LargeBinary)  # Fernet ciphertext
    refresh_token: Mapped[bytes] = mapped_column(LargeBinary)  # Fernet ciphertext
    access_expires_at: Mapped[dt.datetime]
    scopes: Mapped[str] = mapped_column(Text)  # space-separated, as Spotify grants them
    authorized_at: Mapped[dt.datetime]
    # active | needs_relink (Spotify refused the refresh token) | undecryptable (no key in
    # ENCRYPTION_KEYS reads the stored tokens)
    status: Mapped[str] = mapped_column(String(16), server_default="active")
    # Drawn afresh whenever the row is created (a first link, or a link after /unlink or
    # /forget-me) and kept when the same user links again: work that started under one
    # generation writes nothing once the row is gone or another generation holds it.
    generation: Mapped[int] = mapped_column(BigInteger, default=lambda: secrets.randbits(62))
    relink_notified_at: Mapped[dt.datetime | None]
    expiry_reminder_sent_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


class LinkRequest(Base):
    """A single-use nonce behind the personal link sent by DM; it also anchors the OAuth states.

    The Discord account it is for is copied here when `/link` runs (the web role has no
    Discord token), so the page can say whose link it is. The PKCE verifiers are kept here,
    encrypted, never in the browser; `browser_hash` binds the flow to the browser that
    confirmed it (a cookie), so a forwarded sign-in URL finishes nothing.
    """

    __tablename__ = "link_requests"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    discord_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    discord_username: Mapped[str] = mapped_column(String(64), server_default="")
    discord_display_name: Mapped[str] = mapped_column(String(100), server_default="")
    discord_avatar_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _created()
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    dms_sent: Mapped[int] = mapped_column(Integer, server_default="0")
    confirmed_at: Mapped[dt.datetime | None]  # the person said it is them (POST)
    browser_hash: Mapped[str | None] = mapped_column(String(64))  # sha256 of the cookie
    discord_verifier: Mapped[bytes | None] = mapped_column(LargeBinary)  # Fernet ciphertext
    discord_verified_at: Mapped[dt.datetime | None]  # Discord's OAuth2 proved who it is
    spotify_verifier: Mapped[bytes | None] = mapped_column(LargeBinary)  # Fernet ciphertext
    completed_at: Mapped[dt.datetime | None]


class OutboxMessage(Base):
    """A message another role must deliver to Discord (the web role has no gateway)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    discord_user_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime] = _created()
    available_at: Mapped[dt.datetime] = _created()
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    sent_at: Mapped[dt.datetime | None]
    failed_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index(
            "ix_outbox_pending",
            "available_at",
            postgresql_where="sent_at IS NULL AND failed_at IS NULL",
        ),
    )


class Artist(Base):
    __tablename__ = "artists"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[dt.datetime] = _created()
    last_seen: Mapped[dt.datetime] = _created()


class Release(Base):
    """An album or single seen among new releases."""

    __tablename__ = "releases"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    album_type: Mapped[str] = mapped_column(String(32))
    release_date: Mapped[dt.date] = mapped_column(Date, index=True)
    release_date_precision: Mapped[str] = mapped_column(String(8))
    total_tracks: Mapped[int] = mapped_column(Integer, server_default="0")
    image_url: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[dt.datetime] = _created()
    # Indexed: `max(last_seen)` is the copy's version, read by every API replica each second.
    last_seen: Mapped[dt.datetime] = mapped_column(server_default=func.now(), index=True)


# The newest releases of a window in the reads' order (`recent`, `/api/*`): read from the
# index in order and stopped at the limit, with no sort of every release in the window.
Index("ix_releases_newest", Release.release_date.desc(), Release.first_seen.desc(), Release.id)


class ReleaseArtist(Base):
    __tablename__ = "release_artists"

    release_id: Mapped[str] = mapped_column(
        ForeignKey("releases.id", ondelete="CASCADE"), primary_key=True
    )
    artist_id: Mapped[str] = mapped_column(
        ForeignKey("artists.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, server_default="0")


class IngestionRun(Base):
    """One release ingestion: which source served, how far it got, how it ended."""

    __tablename__ = "ingestion_runs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    started_at: Mapped[dt.datetime] = _created()
    finished_at: Mapped[dt.datetime | None]
    source: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), server_default="running")
    releases_seen: Mapped[int] = mapped_column(Integer, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)


class GuildSettings(Base):
    """A server's digest schedule, and the lease a worker holds while posting it."""

    __tablename__ = "guild_settings"

    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    channel_id: Mapped[int | None] = mapped_column(BigInteger)
    post_time: Mapped[dt.time] = mapped_column(Time, server_default="09:00")
    timezone: Mapped[str] = mapped_column(String(64), server_default="UTC")
    enabled: Mapped[bool] = mapped_column(Boolean, server_default="false")
    post_when_empty: Mapped[bool] = mapped_column(Boolean, server_default="true")
    next_run_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_until: Mapped[dt.datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(Integer, server_default="0")
    paused_reason: Mapped[str | None] = mapped_column(Text)
    last_failure: Mapped[str | None] = mapped_column(Text)
    last_failure_at: Mapped[dt.datetime | None]
    last_posted_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _created()


class DigestRun(Base):
    """The proof that a server's digest for one local date was claimed, and whether it was sent."""

    __tablename__ = "digest_runs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(BigInteger)
    local_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), server_default="sending")
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    started_at: Mapped[dt.datetime] = _created()
    sent_at: Mapped[dt.datetime | None]
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("guild_id", "local_date"),)


class Like(Base):
    """A track a user liked, with enough metadata to show it without asking Spotify."""

    __tablename__ = "likes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    discord_user_id: Mapped[int] = mapped_column(BigInteger)
    track_id: Mapped[str] = mapped_column(String(64))
    track_name: Mapped[str] = mapped_column(Text)
    artist_names: Mapped[str] = mapped_column(Text)
    album_name: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    saved_to_spotify: Mapped[bool] = mapped_column(Boolean, server_default="false")
    liked_at: Mapped[dt.datetime] = _created()

    __table_args__ = (
        UniqueConstraint("discord_user_id", "track_id"),
        Index("ix_likes_user_recent", "discord_user_id", "liked_at"),
    )


class UserPreferences(Base):
    __tablename__ = "user_preferences"

    discord_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    likes_public: Mapped[bool] = mapped_column(Boolean, server_default="false")
    updated_at: Mapped[dt.datetime] = _created()


class ShuffleQueue(Base):
    """A user's shuffled order over one source (a playlist or their liked songs)."""

    __tablename__ = "shuffle_queues"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    discord_user_id: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(128))  # "liked" or a playlist id
    source_name: Mapped[str] = mapped_column(Text)
    snapshot_id: Mapped[str | None] = mapped_column(Text)
    # [{"id", "name", "artist_id", "artists", "url"}] in play order
    tracks: Mapped[list[Any]]
    position: Mapped[int] = mapped_column(Integer, server_default="0")
    cycle: Mapped[int] = mapped_column(Integer, server_default="1")
    last_used_at: Mapped[dt.datetime] = _created()
    created_at: Mapped[dt.datetime] = _created()

    __table_args__ = (UniqueConstraint("discord_user_id", "source"),)


class RoleHeartbeat(Base):
    """One running Encore process: its role, and when it last said it was alive.

    Each process upserts its row every HEARTBEAT_SECONDS (times are the database's own
    `now()`, so clocks of different hosts do not matter) and deletes it when it stops; any
    web replica reads them all for `/health`.
    """

    __tablename__ = "role_heartbeats"

    process_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[dt.datetime] = _created()
    last_beat_at: Mapped[dt.datetime] = _created()
    beat_seconds: Mapped[float] = mapped_column(Float)
    # The gateway's shards: the ids this process runs, of how many, how many are connected.
    shard_ids: Mapped[list[Any] | None]
    shard_count: Mapped[int | None] = mapped_column(Integer)
    shards_connected: Mapped[int | None] = mapped_column(Integer)
    guilds: Mapped[int | None] = mapped_column(Integer)
    # The worker's scheduler: when a job last ran.
    last_tick_at: Mapped[dt.datetime | None]


class EncorePlaylist(Base):
    """A Spotify playlist Encore wrote for a member (their likes, a shuffle order, saved
    links), so the next write replaces or extends it instead of making another."""

    __tablename__ = "encore_playlists"

    discord_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16), primary_key=True)  # likes, shuffle, saved
    playlist_id: Mapped[str] = mapped_column(String(64))
    written_at: Mapped[dt.datetime] = _created()


class RadarWatch(Base):
    """An artist on a member's release radar, and where it came from: `followed` and `top`
    (their Spotify account), `likes` (artists of their Encore likes), `manual` (/radar follow).
    One row per source, so a refresh of one source never touches the others."""

    __tablename__ = "radar_watchlist"

    discord_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    artist_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    artist_name: Mapped[str] = mapped_column(Text)
    added_at: Mapped[dt.datetime] = _created()


class RadarBlock(Base):
    """An artist a member never wants on their radar, whatever the source."""

    __tablename__ = "radar_blocks"

    discord_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    artist_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    artist_name: Mapped[str] = mapped_column(Text)
    blocked_at: Mapped[dt.datetime] = _created()


class RadarSettings(Base):
    """A member's radar: what, when (a weekday and local time in their zone), where (DM,
    the servers they share with, their playlist), and the delivery lease."""

    __tablename__ = "radar_settings"

    discord_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    release_types: Mapped[str] = mapped_column(String(64), server_default="album,single")
    delivery_day: Mapped[int] = mapped_column(Integer, server_default="4")  # Monday 0 .. Sunday 6
    delivery_time: Mapped[dt.time] = mapped_column(Time, server_default="09:00")
    timezone: Mapped[str] = mapped_column(String(64), server_default="UTC")
    enabled: Mapped[bool] = mapped_column(Boolean, server_default="true")
    share: Mapped[bool] = mapped_column(Boolean, server_default="false")
    playlist: Mapped[bool] = mapped_column(Boolean, server_default="false")
    playlist_id: Mapped[str | None] = mapped_column(String(64))
    next_delivery_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    last_delivered_period: Mapped[dt.date | None] = mapped_column(Date)
    watchlist_refreshed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = _created()


class RadarShare(Base):
    """A server whose digest may count this member's radar artists (/radar share on there)."""

    __tablename__ = "radar_shares"

    discord_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    shared_at: Mapped[dt.datetime] = _created()


class RadarDelivery(Base):
    """The proof that a member's radar for one period was delivered once: (user, period) unique."""

    __tablename__ = "radar_deliveries"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    discord_user_id: Mapped[int] = mapped_column(BigInteger)
    period: Mapped[dt.date] = mapped_column(Date)  # the local date of the delivery
    status: Mapped[str] = mapped_column(String(16))  # queued | empty
    release_ids: Mapped[list[Any]]
    playlist_status: Mapped[str | None] = mapped_column(String(16))  # due | written | failed
    created_at: Mapped[dt.datetime] = _created()

    __table_args__ = (UniqueConstraint("discord_user_id", "period"),)


class RadarArtist(Base):
    """One distinct watched artist (the union of the watchlists), checked once per cycle by
    whichever worker claims it; the claim is a lease, so a worker that dies leaves it to others."""

    __tablename__ = "radar_artists"

    artist_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    next_check_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), index=True)
    last_checked_at: Mapped[dt.datetime | None]
    releases_total: Mapped[int | None] = mapped_column(Integer)  # Spotify's `total`, last check
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_until: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class RadarArtistRelease(Base):
    """A release on an artist's discography as the checker saw it, with its group (album,
    single, compilation, appears_on): `appears_on` releases are not the artist's own."""

    __tablename__ = "radar_artist_releases"

    artist_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    release_id: Mapped[str] = mapped_column(
        ForeignKey("releases.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    album_group: Mapped[str] = mapped_column(String(16))
    first_seen: Mapped[dt.datetime] = _created()


class RadarReleaseTracks(Base):
    """The track URIs of a release, fetched once for every member's radar playlist."""

    __tablename__ = "radar_release_tracks"

    release_id: Mapped[str] = mapped_column(
        ForeignKey("releases.id", ondelete="CASCADE"), primary_key=True
    )
    track_uris: Mapped[list[Any]]
    fetched_at: Mapped[dt.datetime] = _created()


class RadarTrackArtists(Base):
    """The artists of a liked track, looked up once (likes keep only the names)."""

    __tablename__ = "radar_track_artists"

    track_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    artists: Mapped[list[Any]]  # [{"id", "name"}]


class RadarBudget(Base):
    """The checker's shared budget of Spotify calls (a token bucket every worker draws from)
    and its back-off after a 429 or a quota refusal."""

    __tablename__ = "radar_budget"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float, server_default="0")
    refilled_at: Mapped[dt.datetime] = _created()
    paused_until: Mapped[dt.datetime | None]
    pause_reason: Mapped[str | None] = mapped_column(Text)
    calls: Mapped[int] = mapped_column(BigInteger, server_default="0")


class DiscordBudget(Base):
    """Discord's global rate limit for the bot token, shared by every process: when the
    next request may go (`bot.discord_budget` claims slots after it and moves it on)."""

    __tablename__ = "discord_budget"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_at: Mapped[dt.datetime] = _created()
    granted: Mapped[int] = mapped_column(BigInteger, server_default="0")


# Every table that holds rows about one Discord user: `/forget-me` deletes from each.
# Derived from the metadata, so a later feature's table is covered by declaring the column.
USER_TABLES = tuple(table for table in Base.metadata.sorted_tables if "discord_user_id" in table.c)
