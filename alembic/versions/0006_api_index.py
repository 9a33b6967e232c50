"""index on releases.last_seen: the copy's version, max(last_seen), without a scan

Revision ID: 0006_api_index
Revises: 0005_release_radar
Create Date: 2026-12-03 15:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_api_index"
down_revision: str | None = "0005_release_radar"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_releases_last_seen"), "releases", ["last_seen"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_releases_last_seen"), table_name="releases")
