"""Engine and session factory for PostgreSQL: an external server, or an embedded one."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

log = logging.getLogger(__name__)

SessionFactory = async_sessionmaker[AsyncSession]

# A stuck statement or a transaction left open must not hold a connection (and its locks)
# for good. Statements end after STATEMENT_TIMEOUT, a transaction idle for longer than
# IDLE_IN_TRANSACTION_TIMEOUT is ended by the server (its connection is closed), and the
# driver gives up on a server that stops answering after COMMAND_TIMEOUT seconds.
STATEMENT_TIMEOUT = "30s"
IDLE_IN_TRANSACTION_TIMEOUT = "60s"
COMMAND_TIMEOUT = 60.0


def async_url(url: str) -> str:
    """Accept postgres://, postgresql:// or postgresql+driver:// and use asyncpg."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


_EMBEDDED: dict[Path, Any] = {}  # the servers this process started, by data directory


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) a real PostgreSQL from the `pgserver` package; return its URL.

    The cluster lives in `data_dir/postgres`, so data survives restarts. It stops when the
    last process using it exits (or at `stop_embedded_postgres`).
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); /tmp serves.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        from pgserver import get_server

        data_dir.mkdir(parents=True, exist_ok=True)
        server = get_server(data_dir.resolve() / "postgres", cleanup_mode="stop")
    _EMBEDDED[data_dir.resolve()] = server
    log.info("No DATABASE_URL: using the embedded PostgreSQL in %s", data_dir / "postgres")
    return str(server.get_uri())


def stop_embedded_postgres(data_dir: Path) -> None:
    """Stop the embedded server this process started in `data_dir` (if it is the last user)."""
    server = _EMBEDDED.pop(data_dir.resolve(), None)
    if server is not None:
        server.cleanup()


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,  # a connection killed under us is replaced, not surfaced
        pool_recycle=1800,
        hide_parameters=True,  # errors name the statement, never its values (tokens, ids)
        connect_args={
            "command_timeout": COMMAND_TIMEOUT,
            "server_settings": {
                "statement_timeout": STATEMENT_TIMEOUT,
                "idle_in_transaction_session_timeout": IDLE_IN_TRANSACTION_TIMEOUT,
            },
        },
    )


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)
