"""What PostgreSQL sees of the app: open transactions and held locks, from `pg_stat_activity`
and `pg_locks`. Tests ask it while Spotify or Discord (or a slow fake) holds a call open."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from db.engine import async_url

# Locks a transaction takes on the rows it reads FOR UPDATE or changes: the table-level
# marks of row locks, the row locks themselves, and its transaction id (what waiters wait on).
ROW_LOCK_MODES = ("RowShareLock", "RowExclusiveLock")


@dataclass(frozen=True)
class Backend:
    pid: int
    state: str | None
    in_transaction: bool
    query: str


@dataclass(frozen=True)
class Lock:
    pid: int
    locktype: str
    mode: str
    relation: str | None


@dataclass(frozen=True)
class Activity:
    backends: list[Backend]
    locks: list[Lock]

    @property
    def in_transaction(self) -> list[Backend]:
        return [backend for backend in self.backends if backend.in_transaction]

    @property
    def idle_in_transaction(self) -> list[Backend]:
        return [b for b in self.backends if (b.state or "").startswith("idle in transaction")]

    @property
    def row_locks(self) -> list[Lock]:
        return [
            lock
            for lock in self.locks
            if lock.locktype in ("tuple", "transactionid")
            or (lock.locktype == "relation" and lock.mode in ROW_LOCK_MODES)
        ]

    @property
    def advisory_locks(self) -> list[Lock]:
        return [lock for lock in self.locks if lock.locktype == "advisory"]

    def transactions_on(self, table: str) -> list[Backend]:
        """Backends whose open transaction has touched `table`: a transaction keeps every
        table lock it took, even a read's, until it ends."""
        pids = {lock.pid for lock in self.locks if lock.relation == table}
        return [backend for backend in self.in_transaction if backend.pid in pids]


class DatabaseActivity:
    """Reads the activity of the app's database from a connection of its own."""

    def __init__(self, database_url: str) -> None:
        self._engine = create_async_engine(async_url(database_url), poolclass=NullPool)

    async def now(self) -> Activity:
        async with self._engine.connect() as connection:
            backends = [
                Backend(*row)
                for row in await connection.execute(
                    text(
                        "SELECT pid, state, xact_start IS NOT NULL, query FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                        "AND backend_type = 'client backend'"
                    )
                )
            ]
            locks = [
                Lock(*row)
                for row in await connection.execute(
                    text(
                        "SELECT l.pid, l.locktype, l.mode, c.relname FROM pg_locks l "
                        "JOIN pg_stat_activity a ON a.pid = l.pid "
                        "LEFT JOIN pg_class c ON c.oid = l.relation "
                        "WHERE a.datname = current_database() AND l.pid <> pg_backend_pid() "
                        "AND l.granted"
                    )
                )
            ]
        return Activity(backends, locks)

    async def close(self) -> None:
        await self._engine.dispose()
