"""Scratch PostgreSQL databases for tests and benchmarks: a real server, never a stand-in.

The server is `TEST_DATABASE_URL` if set, else 127.0.0.1:5432 if it answers, else an
embedded PostgreSQL from `pgserver`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from db.engine import async_url, create_engine, start_embedded_postgres
from db.migrate import upgrade


def _local_postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def server_url(data_dir: Path | None = None) -> str:
    if os.environ.get("TEST_DATABASE_URL"):
        return os.environ["TEST_DATABASE_URL"]
    if _local_postgres_answers():
        return "postgresql://postgres@127.0.0.1:5432/postgres"
    return start_embedded_postgres(data_dir or Path(tempfile.mkdtemp(prefix="encore-pg-")))


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


async def create_database(
    server: str, prefix: str = "encore_scratch", *, migrate: bool = True
) -> str:
    """A new database on `server` (migrated unless `migrate` is false); returns its URL."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    await _admin(server, f'CREATE DATABASE "{name}"')
    url = make_url(async_url(server)).set(database=name).render_as_string(hide_password=False)
    if migrate:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
    return url


async def drop_database(server: str, url: str) -> None:
    name = make_url(url).database
    await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def scratch_database(
    prefix: str = "encore_scratch", *, migrate: bool = True
) -> AsyncIterator[str]:
    server = server_url()
    url = await create_database(server, prefix, migrate=migrate)
    try:
        yield url
    finally:
        await drop_database(server, url)
