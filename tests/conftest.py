"""Shared fixtures: a real PostgreSQL database for the session, emptied between tests."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator

import pytest
from cryptography.fernet import Fernet
from hypothesis import settings
from sqlalchemy import text

from db.engine import create_engine, session_factory
from db.models import Base
from sandbox.database import create_database, drop_database, server_url
from tests.database_activity import DatabaseActivity

# `make test` (and so CI) runs the same examples every time: a red CI names a bug that a
# rerun shows again. `HYPOTHESIS_PROFILE=explore` draws new examples, to look for more.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, migrated database for this test session, dropped at the end."""
    server = server_url(tmp_path_factory.mktemp("pg"))
    url = asyncio.run(create_database(server, "encore_test"))
    yield url
    asyncio.run(drop_database(server, url))


@pytest.fixture
async def clean_database(database_url: str) -> AsyncIterator[str]:
    """The session database with every table emptied first."""
    engine = create_engine(database_url, pool_size=1)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()
    yield database_url


@pytest.fixture
async def sessions(clean_database: str):  # type: ignore[no-untyped-def]
    engine = create_engine(clean_database)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def fernet_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
async def database_activity(clean_database: str) -> AsyncIterator[DatabaseActivity]:
    """What PostgreSQL sees of the app's database (transactions, locks), read on demand."""
    activity = DatabaseActivity(clean_database)
    yield activity
    await activity.close()
