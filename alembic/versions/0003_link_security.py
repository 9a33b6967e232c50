"""link security: whose link it is, PKCE verifiers, the browser binding, link generations

Revision ID: 0003_link_security
Revises: 0002_role_heartbeats
Create Date: 2026-12-02 14:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_link_security"
down_revision: str | None = "0002_role_heartbeats"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "link_requests",
        sa.Column("discord_username", sa.String(length=64), server_default="", nullable=False),
    )
    op.add_column(
        "link_requests",
        sa.Column("discord_display_name", sa.String(length=100), server_default="", nullable=False),
    )
    op.add_column("link_requests", sa.Column("discord_avatar_url", sa.Text(), nullable=True))
    op.add_column(
        "link_requests", sa.Column("dms_sent", sa.Integer(), server_default="0", nullable=False)
    )
    op.alter_column("link_requests", "opened_at", new_column_name="confirmed_at")
    op.add_column("link_requests", sa.Column("browser_hash", sa.String(length=64), nullable=True))
    op.add_column("link_requests", sa.Column("discord_verifier", sa.LargeBinary(), nullable=True))
    op.add_column(
        "link_requests",
        sa.Column("discord_verified_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column("link_requests", sa.Column("spotify_verifier", sa.LargeBinary(), nullable=True))
    op.create_index(
        op.f("ix_link_requests_expires_at"), "link_requests", ["expires_at"], unique=False
    )
    # Links made before this version get a generation of their own.
    op.add_column("spotify_links", sa.Column("generation", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE spotify_links SET generation = floor(random() * 9007199254740991)::bigint"
    )
    op.alter_column("spotify_links", "generation", nullable=False)


def downgrade() -> None:
    op.drop_column("spotify_links", "generation")
    op.drop_index(op.f("ix_link_requests_expires_at"), table_name="link_requests")
    op.drop_column("link_requests", "spotify_verifier")
    op.drop_column("link_requests", "discord_verified_at")
    op.drop_column("link_requests", "discord_verifier")
    op.drop_column("link_requests", "browser_hash")
    op.alter_column("link_requests", "confirmed_at", new_column_name="opened_at")
    op.drop_column("link_requests", "dms_sent")
    op.drop_column("link_requests", "discord_avatar_url")
    op.drop_column("link_requests", "discord_display_name")
    op.drop_column("link_requests", "discord_username")
