"""The migrations build exactly the models: autogenerate finds nothing to add."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from db.engine import create_engine
from db.migrate import upgrade
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
