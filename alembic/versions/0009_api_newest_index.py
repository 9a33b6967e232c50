"""index on releases (release_date DESC, first_seen DESC, id): the reads' order, no sort

Revision ID: 0009_api_newest_index
Revises: 0008_outbox_notify
Create Date: 2026-12-04 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_api_newest_index"
down_revision: str | None = "0008_outbox_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_releases_newest",
        "releases",
        [sa.text("release_date DESC"), sa.text("first_seen DESC"), "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_releases_newest", table_name="releases")
