"""The migrations build exactly the models: autogenerate finds nothing to add."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from db.engine import create_engine
from db.migrate import head_revision, upgrade
from db.models import Base


async def test_migrations_build_exactly_the_models(database_url: str) -> None:
    engine = create_engine(database_url)

    def diff(connection: object) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})  # type: ignore[arg-type]
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        differences = await connection.run_sync(diff)
    await engine.dispose()
    assert differences == []


async def test_upgrading_twice_at_once_is_safe(database_url: str) -> None:
    import asyncio

    engines = [create_engine(database_url) for _ in range(3)]
    await asyncio.gather(*(upgrade(engine) for engine in engines))
    for engine in engines:
        await engine.dispose()


async def test_developers_alembic_commands_work_from_the_checkout() -> None:
    """`alembic upgrade head` and autogenerate (`alembic check`) with the top-level alembic.ini:
    the `alembic/` folder beside them must not shadow the library."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from sandbox.database import scratch_database

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
