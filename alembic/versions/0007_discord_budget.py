"""discord budget: Discord's global rate limit, one schedule every process draws from

Revision ID: 0007_discord_budget
Revises: 0006_api_index
Create Date: 2026-12-03 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_discord_budget"
down_revision: str | None = "0006_api_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "discord_budget",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column(
            "next_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("granted", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_discord_budget")),
    )


def downgrade() -> None:
    op.drop_table("discord_budget")
