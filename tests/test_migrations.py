"""The migrations build exactly the models: autogenerate finds nothing to add."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from db.migrate import head_revision, newest_revision, upgrade
from db.models import Base
from sandbox.database import create_database, drop_database, scratch_database, server_url


async def schema_differences(engine: AsyncEngine) -> list[object]:
    def diff(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})  # type: ignore[arg-type]
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        return await connection.run_sync(diff)


@pytest.fixture
async def empty_database() -> AsyncIterator[str]:
    """A database with nothing in it: not even the migrations' own table."""
    server = server_url()
    url = await create_database(server, "encore_migrations", migrate=False)
    yield url
    await drop_database(server, url)


async def test_migrations_build_exactly_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert await schema_differences(engine) == []
    finally:
        await engine.dispose()


async def test_processes_upgrading_an_empty_database_at_once_build_it_once(
    empty_database: str,
) -> None:
    engines = [create_engine(empty_database) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade(engine) for engine in engines))  # none of them fails
        async with engines[0].connect() as connection:
            versions = (
                await connection.scalars(text("SELECT version_num FROM alembic_version"))
            ).all()
        assert len(versions) == 1  # one schema, at one version...
        assert await schema_differences(engines[0]) == []  # ...exactly the models
    finally:
        for engine in engines:
            await engine.dispose()


async def test_developers_alembic_commands_work_from_the_checkout() -> None:
    """`alembic upgrade head` and autogenerate (`alembic check`) with the top-level alembic.ini:
    the `alembic/` folder beside them must not shadow the library."""
    root = Path(__file__).resolve().parent.parent
    alembic = str(Path(sys.executable).parent / "alembic")
    async with scratch_database("encore_alembic", migrate=False) as url:
        env = {**os.environ, "DATABASE_URL": url}
        for command in (["upgrade", "head"], ["check"], ["current"]):
            result = subprocess.run(
                [alembic, *command], cwd=root, env=env, capture_output=True, text=True
            )
            assert result.returncode == 0, result.stdout + result.stderr
    assert f"{head_revision()} (head)" in result.stdout


def test_the_newest_revision_read_without_alembic_is_alembics_head() -> None:
    assert newest_revision() == head_revision()


async def test_a_process_finding_the_database_up_to_date_never_imports_alembic(
    database_url: str,
) -> None:
    """What `encore gateway` costs in memory leaves alembic out (README, Performance)."""
    script = (
        "import asyncio, sys\n"
        "from db.engine import create_engine\n"
        "from db.migrate import upgrade\n"
        "engine = create_engine(sys.argv[1])\n"
        "result = asyncio.run(upgrade(engine))\n"
        "assert not result.changed, result\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script, database_url],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert found.stdout.strip() == "[]", found.stdout + found.stderr
