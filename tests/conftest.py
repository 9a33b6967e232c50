"""Shared fixtures: a real PostgreSQL database for the session, emptied between tests."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.engine import make_url

from db.engine import async_url, create_engine, session_factory
from db.migrate import upgrade
from db.models import Base


def _local_postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def _server_url(tmp_root: Path) -> str:
    if os.environ.get("TEST_DATABASE_URL"):
        return os.environ["TEST_DATABASE_URL"]
    if _local_postgres_answers():
        return "postgresql://postgres@127.0.0.1:5432/postgres"
    from db.engine import start_embedded_postgres

    return start_embedded_postgres(tmp_root)


async def _admin(url: str, statement: str) -> None:
    parsed = make_url(async_url(url))
    connection = await asyncpg.connect(
        user=parsed.username,
        password=parsed.password,
        host=parsed.host or parsed.query.get("host"),
        port=parsed.port,
        database=parsed.database,
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, migrated database for this test session, dropped at the end."""
    server = _server_url(tmp_path_factory.mktemp("pg"))
    name = f"encore_test_{secrets.token_hex(4)}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    url = make_url(async_url(server)).set(database=name).render_as_string(hide_password=False)

    async def migrate() -> None:
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(migrate())
    yield url
    asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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
