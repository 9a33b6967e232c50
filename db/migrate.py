"""Schema upgrades: `alembic upgrade head` under a PostgreSQL advisory lock.

Several processes starting at once each call `upgrade()`; the lock makes them take turns
and every one after the first finds nothing to do.

The migrations are found with `importlib.resources`: an installed Encore carries them inside
the package as `db/migrations` (setup.py maps the top-level `alembic/` folder there); a
checkout, where that mapping does not exist, uses `alembic/` beside `db/`.

Alembic is imported only when there is something to do: a database already at the newest
revision (read from the migration files' `revision` / `down_revision` lines, and from the
`alembic_version` table) costs a process none of alembic's 10 MiB (`encore gateway` counts
its memory: README, Performance).
"""

from __future__ import annotations

import ast
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

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
    from alembic.config import Config  # only when migrating (see the module's docstring)

    config = Config()
    config.set_main_option("script_location", str(migrations_directory()))
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = url
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations have no head revision"
    return head


def known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory

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
    if connection.execute(text("SELECT to_regclass('alembic_version')")).scalar() is None:
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def newest_revision() -> str | None:
    """The head revision read from the migration files without alembic: the `revision` no
    other file names as its `down_revision` (None unless there is exactly one)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (migrations_directory() / "versions").glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            target: ast.expr | None = None
            if isinstance(node, ast.AnnAssign):
                target = node.target
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
            value = getattr(node, "value", None)
            if not isinstance(target, ast.Name) or not isinstance(value, ast.Constant):
                continue
            if target.id == "revision" and isinstance(value.value, str):
                revisions.add(value.value)
            elif target.id == "down_revision" and isinstance(value.value, str):
                parents.add(value.value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


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
    if before is not None and before == newest_revision():
        return Upgrade(before, before)
    from alembic import command  # only when migrating (see the module's docstring)

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    return Upgrade(before, _current_on(connection))
