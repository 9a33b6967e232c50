"""Schema upgrades: `alembic upgrade head` under a PostgreSQL advisory lock.

Several processes starting at once each call `upgrade()`; the lock makes them take turns
and every one after the first finds nothing to do.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parent.parent
MIGRATION_LOCK = 0x656E636F7265  # "encore"


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["database_url"] = url
    return config


async def upgrade(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            await connection.run_sync(_upgrade_on)
            await connection.commit()
        finally:
            await connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK}
            )
            await connection.commit()


def _upgrade_on(sync_connection: object) -> None:
    config = alembic_config("")
    config.attributes["connection"] = sync_connection
    command.upgrade(config, "head")
