"""listening: the playlists Encore wrote for a member (likes export, shuffle save, saved links)

Revision ID: 0004_listening
Revises: 0003_link_security
Create Date: 2026-12-02 18:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_listening"
down_revision: str | None = "0003_link_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "encore_playlists",
        sa.Column("discord_user_id", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("playlist_id", sa.String(length=64), nullable=False),
        sa.Column(
            "written_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("discord_user_id", "purpose", name=op.f("pk_encore_playlists")),
    )


def downgrade() -> None:
    op.drop_table("encore_playlists")
