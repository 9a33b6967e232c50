"""Schema upgrades: `alembic upgrade head` under a PostgreSQL advisory lock.

Several processes starting at once each call `upgrade()`; the lock makes them take turns
and every one after the first finds nothing to do.

The migrations are found with `importlib.resources`: an installed Encore carries them inside
the package as `db/migrations` (setup.py maps the top-level `alembic/` folder there); a
checkout, where that mapping does not exist, uses `alembic/` beside `db/`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

MIGRATION_LOCK = 0x656E636F7265  # "encore"


class MigrationsMissing(RuntimeError):
    """Neither the installed package nor a checkout holds the migrations."""


def migrations_directory() -> Path:
    """The folder holding `env.py` and `versions/`, wherever Encore was installed from."""
    installed = resources.files("db") / "migrations"
    if installed.joinpath("env.py").is_file():
        return Path(str(installed))
    checkout = Path(str(resources.files("db"))).parent / "alembic"
    if (checkout / "env.py").is_file() and (checkout / "versions").is_dir():
        return checkout
    raise MigrationsMissing(
        f"Encore's database migrations are missing from this installation (looked in "
        f"{installed} and {checkout}); reinstall Encore with `pip install .` from its source"
    )


def alembic_config(url: str = "") -> Config:
    """Alembic's configuration without alembic.ini (an installed Encore has none)."""
    config = Config()
    config.set_main_option("script_location", str(migrations_directory()))
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = url
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations have no head revision"
    return head


def known_revision(revision: str) -> bool:
    try:
        ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except Exception:
        return False
    return True


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current_on)


def _current_on(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


@dataclass(frozen=True)
class Upgrade:
    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


async def upgrade(engine: AsyncEngine) -> Upgrade:
    """Bring the schema to the newest revision; log what changed (alembic's own lines are quiet)."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            result = await connection.run_sync(_upgrade_on)
            await connection.commit()
        finally:
            await connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK}
            )
            await connection.commit()
    if result.changed:
        log.info("Database schema upgraded from %s to %s", result.before or "empty", result.after)
    else:
        log.info("Database schema is up to date (revision %s)", result.after)
    return result


def _upgrade_on(connection: Connection) -> Upgrade:
    before = _current_on(connection)
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    return Upgrade(before, _current_on(connection))
