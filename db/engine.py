"""Engine and session factory for PostgreSQL: an external server, or an embedded one."""

from __future__ import annotations

import contextlib
import functools
import logging
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql import Select
from sqlalchemy.util import greenlet_spawn

log = logging.getLogger(__name__)

SessionFactory = async_sessionmaker[AsyncSession]

# A stuck statement or a transaction left open must not hold a connection (and its locks)
# for good. Statements end after STATEMENT_TIMEOUT, a transaction idle for longer than
# IDLE_IN_TRANSACTION_TIMEOUT is ended by the server (its connection is closed), and the
# driver gives up on a server that stops answering after COMMAND_TIMEOUT seconds.
STATEMENT_TIMEOUT = "30s"
IDLE_IN_TRANSACTION_TIMEOUT = "60s"
COMMAND_TIMEOUT = 60.0
# Pooled connections are replaced after this long, so one the server or a proxy dropped
# quietly is rarely met; it replaces a round trip (pre-ping) on every checkout.
POOL_RECYCLE = 600


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


def create_engine(url: str, *, pool_size: int = 10, pre_ping: bool = False) -> AsyncEngine:
    """An engine whose pool hands out live connections without a round trip per checkout.

    A connection the server ended (a restart, `pg_terminate_backend`) is known closed by the
    driver as soon as the event loop reads its end, so checkout replaces it for free
    (`_refuse_closed`). One dropped silently is caught by recycling, or, with `pre_ping`
    (`DATABASE_PRE_PING`, for networks that drop idle connections), by a ping per checkout.
    """
    engine = create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=pre_ping,
        pool_recycle=POOL_RECYCLE,
        hide_parameters=True,  # errors name the statement, never its values (tokens, ids)
        connect_args={
            "command_timeout": COMMAND_TIMEOUT,
            "server_settings": {
                "statement_timeout": STATEMENT_TIMEOUT,
                "idle_in_transaction_session_timeout": IDLE_IN_TRANSACTION_TIMEOUT,
            },
        },
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed)
    return engine


def _refuse_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    # The pool retries checkout with a fresh connection on DisconnectionError.
    driver = getattr(dbapi_connection, "_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


P = ParamSpec("P")
T = TypeVar("T")


def lost_before_commit(error: BaseException) -> bool:
    """The connection died under a statement of a transaction that had not committed: the
    server rolled that transaction back, so running its unit of work again cannot repeat it.

    A statement the server refused (a constraint, a timeout) is not a lost connection, and a
    connection lost on COMMIT itself (SQLAlchemy reports no statement then) may or may not have
    committed: neither is retried."""
    if isinstance(error, DBAPIError):
        if error.statement is None:  # COMMIT, ROLLBACK or connecting: not a statement of ours
            return False
        if error.connection_invalidated:
            return True
        cause: BaseException | None = error.orig.__cause__ if error.orig else None
        return isinstance(cause, asyncpg.ConnectionDoesNotExistError | OSError)
    return isinstance(error, asyncpg.ConnectionDoesNotExistError | ConnectionError)


def again_if_connection_lost(work: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Run `work` (a unit of work: one session, database only) once more, on a fresh
    connection, when PostgreSQL drops the connection under it before it committed.

    Only for work that is safe to repeat: reads, and one transaction that rolled back with
    its connection. Never around a Spotify or Discord call, or work that commits twice.

    Inside another such unit of work (one wrapped method calling another), `work` runs once
    and a lost connection goes up to the outer one, which runs again as a whole: once in all,
    not once per level."""

    @functools.wraps(work)
    async def again(*args: P.args, **kwargs: P.kwargs) -> T:
        if _running_again.get():
            return await work(*args, **kwargs)
        outermost = _running_again.set(True)
        try:
            try:
                return await work(*args, **kwargs)
            except Exception as error:
                if not lost_before_commit(error):
                    raise
                # The kind only: the error's text may quote the statement.
                log.warning(
                    "The database connection was lost under %s (%s); running it again",
                    work.__qualname__,
                    type(error).__name__,
                )
            return await work(*args, **kwargs)
        finally:
            _running_again.reset(outermost)

    return again


# Whether the running code is inside a unit of work `again_if_connection_lost` looks after.
_running_again: ContextVar[bool] = ContextVar("encore_running_again", default=False)


Reads = Callable[[], AbstractAsyncContextManager[AsyncConnection]]


def reads(sessions: SessionFactory) -> Reads:
    """Connections for hot reads that take no lock: `async with read() as connection:`.

    They run in autocommit, so a read is one round trip rather than BEGIN, the statement and
    ROLLBACK, and skip the ORM session (rows, not entities). Under READ COMMITTED, PostgreSQL's
    default and ours, each statement of a transaction sees its own snapshot anyway, so a read
    that locks nothing sees the same either way. Writes, locks and reads that must see a
    transaction's own writes keep a session.
    """
    return bound_engine(sessions).execution_options(isolation_level="AUTOCOMMIT").connect


def bound_engine(sessions: SessionFactory) -> AsyncEngine:
    """The engine a session factory is bound to: Core connections (`engine.begin()`) for hot
    paths whose statements need no ORM session around them."""
    bind = sessions.kw["bind"]
    assert isinstance(bind, AsyncEngine), "the session factory must be bound to an engine"
    return bind


class DriverRow(asyncpg.Record):  # type: ignore[misc]  # asyncpg has no type hints
    """A row read on the driver itself: by position, by key, or by attribute as SQLAlchemy's
    rows are."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class DriverReads:
    """The hottest reads (a token before every Spotify call, /account, a likes page) run on
    asyncpg itself, on a pooled connection, in autocommit: each statement is compiled by
    SQLAlchemy once, and each read skips its execution layer (connection object, execution
    context, result rows): about 100 us of CPU a read of the 140 it costs there.

    `async with reads.connection() as read:` for several statements on one connection, or
    `await reads.first(...)` for one. Only for SELECTs whose parameters and columns need no
    conversion by SQLAlchemy (checked when a statement is first compiled). A connection that
    fails under a read is invalidated, as SQLAlchemy would, and the error is asyncpg's own
    (`again_if_connection_lost` knows it)."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._engine = bound_engine(sessions)
        self._compiled: dict[int, tuple[Select[Any], str, tuple[str, ...]]] = {}

    def compiled(self, statement: Select[Any]) -> tuple[str, tuple[str, ...]]:
        """The statement's SQL for the driver and the names of its parameters, in order."""
        found = self._compiled.get(id(statement))
        if found is None:
            dialect = self._engine.dialect
            compiled = statement.compile(dialect=dialect)
            converted = [
                name
                for name, _, _, kind in compiled._result_columns
                if kind._cached_result_processor(dialect, None) is not None
            ]
            if compiled._bind_processors or converted or compiled.positiontup is None:
                raise TypeError(f"not a plain read for the driver: {converted or statement}")
            # The statement is kept with its SQL, so its id names it while this reader lives.
            found = (statement, compiled.string, tuple(compiled.positiontup))
            self._compiled[id(statement)] = found
        return found[1], found[2]

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[DriverRead]:
        pooled = await self._engine.raw_connection()
        try:
            driver = pooled.driver_connection
            assert driver is not None
            yield DriverRead(self, driver)
        except asyncpg.PostgresError:
            raise  # the server refused a statement: the connection is fine
        except BaseException:
            await greenlet_spawn(pooled.invalidate)  # lost, or cancelled mid-statement
            raise
        finally:
            await greenlet_spawn(pooled.close)

    async def first(self, statement: Select[Any], params: dict[str, Any]) -> DriverRow | None:
        async with self.connection() as read:
            return await read.first(statement, params)


class DriverRead:
    """Statements on one pooled connection of `DriverReads`."""

    def __init__(self, reads: DriverReads, driver: Any) -> None:
        self._reads = reads
        self._driver = driver

    async def all(self, statement: Select[Any], params: dict[str, Any]) -> list[DriverRow]:
        sql, names = self._reads.compiled(statement)
        rows: list[DriverRow] = await self._driver.fetch(
            sql, *[params[name] for name in names], record_class=DriverRow
        )
        return rows

    async def first(self, statement: Select[Any], params: dict[str, Any]) -> DriverRow | None:
        rows = await self.all(statement, params)
        return rows[0] if rows else None

    async def scalar(self, statement: Select[Any], params: dict[str, Any]) -> Any:
        row = await self.first(statement, params)
        return None if row is None else row[0]
