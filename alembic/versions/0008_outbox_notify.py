"""outbox notify: a committed outbox row wakes the processes that deliver DMs (LISTEN/NOTIFY)

Revision ID: 0008_outbox_notify
Revises: 0007_discord_budget
Create Date: 2026-12-03 16:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_outbox_notify"
down_revision: str | None = "0007_discord_budget"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The channel is bot.outbox.NOTIFY_CHANNEL; a notification is delivered when (and only if)
# the transaction that inserted the rows commits, once per transaction.
FUNCTION = """
CREATE FUNCTION encore_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('encore_outbox', '');
    RETURN NULL;
END
$$
"""
TRIGGER = """
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
FOR EACH STATEMENT EXECUTE FUNCTION encore_outbox_notify()
"""


def upgrade() -> None:
    op.execute(FUNCTION)
    op.execute(TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER outbox_notify ON outbox")
    op.execute("DROP FUNCTION encore_outbox_notify()")
