"""release radar: watchlists, blocks, settings, shares, deliveries, watched artists, budget

Revision ID: 0005_release_radar
Revises: 0004_listening
Create Date: 2026-12-03 08:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_release_radar"
down_revision: str | None = "0004_listening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "radar_artists",
        sa.Column("artist_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "next_check_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("releases_total", sa.Integer(), nullable=True),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("artist_id", name=op.f("pk_radar_artists")),
    )
    op.create_index(
        op.f("ix_radar_artists_next_check_at"), "radar_artists", ["next_check_at"], unique=False
    )
    op.create_table(
        "radar_blocks",
        sa.Column("discord_user_id", sa.BigInteger(), nullable=False),
        sa.Column("artist_id", sa.String(length=64), nullable=False),
        sa.Column("artist_name", sa.Text(), nullable=False),
        sa.Column(
            "blocked_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("discord_user_id", "artist_id", name=op.f("pk_radar_blocks")),
    )
    op.create_table(
        "radar_budget",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("tokens", sa.Float(), server_default="0", nullable=False),
        sa.Column(
            "refilled_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pause_reason", sa.Text(), nullable=True),
        sa.Column("calls", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_radar_budget")),
    )
    op.create_table(
        "radar_deliveries",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("discord_user_id", sa.BigInteger(), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("release_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("playlist_status", sa.String(length=16), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_radar_deliveries")),
        sa.UniqueConstraint(
            "discord_user_id", "period", name=op.f("uq_radar_deliveries_discord_user_id")
        ),
    )
    op.create_table(
        "radar_settings",
        sa.Column("discord_user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "release_types", sa.String(length=64), server_default="album,single", nullable=False
        ),
        sa.Column("delivery_day", sa.Integer(), server_default="4", nullable=False),
        sa.Column("delivery_time", sa.Time(), server_default="09:00", nullable=False),
        sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("share", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("playlist", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("playlist_id", sa.String(length=64), nullable=True),
        sa.Column("next_delivery_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_delivered_period", sa.Date(), nullable=True),
        sa.Column("watchlist_refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("discord_user_id", name=op.f("pk_radar_settings")),
    )
    op.create_index(
        op.f("ix_radar_settings_next_delivery_at"),
        "radar_settings",
        ["next_delivery_at"],
        unique=False,
    )
    op.create_table(
        "radar_shares",
        sa.Column("discord_user_id", sa.BigInteger(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "shared_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("discord_user_id", "guild_id", name=op.f("pk_radar_shares")),
    )
    op.create_index(op.f("ix_radar_shares_guild_id"), "radar_shares", ["guild_id"], unique=False)
    op.create_table(
        "radar_watchlist",
        sa.Column("discord_user_id", sa.BigInteger(), nullable=False),
        sa.Column("artist_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("artist_name", sa.Text(), nullable=False),
        sa.Column(
            "added_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint(
            "discord_user_id", "artist_id", "source", name=op.f("pk_radar_watchlist")
        ),
    )
    op.create_index(
        op.f("ix_radar_watchlist_artist_id"), "radar_watchlist", ["artist_id"], unique=False
    )
    op.create_table(
        "radar_artist_releases",
        sa.Column("artist_id", sa.String(length=64), nullable=False),
        sa.Column("release_id", sa.String(length=64), nullable=False),
        sa.Column("album_group", sa.String(length=16), nullable=False),
        sa.Column(
            "first_seen",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["releases.id"],
            name=op.f("fk_radar_artist_releases_release_id_releases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("artist_id", "release_id", name=op.f("pk_radar_artist_releases")),
    )
    op.create_index(
        op.f("ix_radar_artist_releases_release_id"),
        "radar_artist_releases",
        ["release_id"],
        unique=False,
    )
    op.create_table(
        "radar_release_tracks",
        sa.Column("release_id", sa.String(length=64), nullable=False),
        sa.Column("track_uris", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "fetched_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["releases.id"],
            name=op.f("fk_radar_release_tracks_release_id_releases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("release_id", name=op.f("pk_radar_release_tracks")),
    )

    op.create_table(
        "radar_track_artists",
        sa.Column("track_id", sa.String(length=64), nullable=False),
        sa.Column("artists", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("track_id", name=op.f("pk_radar_track_artists")),
    )


def downgrade() -> None:
    op.drop_table("radar_track_artists")
    op.drop_table("radar_release_tracks")
    op.drop_index(op.f("ix_radar_artist_releases_release_id"), table_name="radar_artist_releases")
    op.drop_table("radar_artist_releases")
    op.drop_index(op.f("ix_radar_watchlist_artist_id"), table_name="radar_watchlist")
    op.drop_table("radar_watchlist")
    op.drop_index(op.f("ix_radar_shares_guild_id"), table_name="radar_shares")
    op.drop_table("radar_shares")
    op.drop_index(op.f("ix_radar_settings_next_delivery_at"), table_name="radar_settings")
    op.drop_table("radar_settings")
    op.drop_table("radar_deliveries")
    op.drop_table("radar_budget")
    op.drop_table("radar_blocks")
    op.drop_index(op.f("ix_radar_artists_next_check_at"), table_name="radar_artists")
    op.drop_table("radar_artists")
