"""The database's guard rails: timeouts on every connection, and advisory locks that are held
outside any transaction and never outlive their block."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.engine import (
    SessionFactory,
    again_if_connection_lost,
    create_engine,
    lost_before_commit,
    session_factory,
)
from db.locks import advisory_lock, lock_key
from tests.database_activity import DatabaseActivity


async def test_every_connection_has_statement_idle_and_command_timeouts(
    clean_database: str,
) -> None:
    engine = create_engine(clean_database)
    try:
        async with engine.connect() as connection:
            statement = await connection.scalar(text("SHOW statement_timeout"))
            idle = await connection.scalar(text("SHOW idle_in_transaction_session_timeout"))
            raw = await connection.get_raw_connection()
            command_timeout = raw.driver_connection._config.command_timeout  # type: ignore[union-attr]
    finally:
        await engine.dispose()
    assert (statement, idle) == ("30s", "1min")
    assert command_timeout == 60


async def test_a_pooled_connection_the_server_closed_is_replaced_without_a_ping(
    clean_database: str,
) -> None:
    engine = create_engine(clean_database, pool_size=1)
    killer = create_engine(clean_database, pool_size=1)
    try:
        assert engine.pool._pre_ping is False  # no round trip per checkout
        async with engine.connect() as connection:
            first = await connection.scalar(text("SELECT pg_backend_pid()"))
        async with killer.connect() as connection:  # back in the pool, idle: the server ends it
            await connection.execute(text(f"SELECT pg_terminate_backend({int(first)}, 5000)"))
        await asyncio.sleep(0)  # the driver reads the server's goodbye
        async with engine.connect() as connection:
            second = await connection.scalar(text("SELECT pg_backend_pid()"))
        assert second != first
    finally:
        await engine.dispose()
        await killer.dispose()


async def test_an_advisory_lock_is_held_outside_any_transaction(
    sessions: SessionFactory, database_activity: DatabaseActivity
) -> None:
    key = lock_key("test", 1)
    async with advisory_lock(sessions, key) as held:
        assert held
        seen = await database_activity.now()
        assert len(seen.advisory_locks) == 1
        assert seen.in_transaction == [] and seen.row_locks == []
        async with advisory_lock(sessions, key, wait=False) as also:
            assert not also  # another session asking without waiting is told no
    assert (await database_activity.now()).advisory_locks == []


async def test_a_waiter_gets_the_lock_when_the_holder_is_done(
    sessions: SessionFactory, database_activity: DatabaseActivity
) -> None:
    key = lock_key("test", 2)
    order: list[str] = []
    release = asyncio.Event()

    async def holder() -> None:
        async with advisory_lock(sessions, key):
            order.append("holder")
            await release.wait()
            order.append("holder done")

    async def waiter() -> None:
        async with advisory_lock(sessions, key):
            order.append("waiter")

    first = asyncio.create_task(holder())
    async with asyncio.timeout(10):
        while not order:
            await asyncio.sleep(0.01)
    second = asyncio.create_task(waiter())
    async with asyncio.timeout(10):
        while not any(
            "pg_advisory_lock" in b.query and b.state == "active"
            for b in (await database_activity.now()).backends
        ):
            await asyncio.sleep(0.01)
    release.set()
    await asyncio.gather(first, second)
    assert order == ["holder", "holder done", "waiter"]


async def test_a_waiter_cancelled_while_waiting_leaves_no_lock_behind(
    sessions: SessionFactory, database_activity: DatabaseActivity
) -> None:
    key = lock_key("test", 3)
    async with advisory_lock(sessions, key):
        waiting = asyncio.create_task(advisory_lock(sessions, key).__aenter__())
        async with asyncio.timeout(10):
            while not any(
                "pg_advisory_lock" in b.query and b.state == "active"
                for b in (await database_activity.now()).backends
            ):
                await asyncio.sleep(0.01)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
    async with asyncio.timeout(10):  # the cancelled waiter's connection is closed, not pooled
        while (await database_activity.now()).advisory_locks:
            await asyncio.sleep(0.01)
    async with advisory_lock(sessions, key, wait=False) as held:
        assert held


def test_lock_keys_differ_by_purpose_and_id() -> None:
    keys = {lock_key("a", 1), lock_key("a", 2), lock_key("b", 1), lock_key("a", 1, 2)}
    assert len(keys) == 4
    assert all(-(2**63) <= key < 2**63 for key in keys)
    assert lock_key("a", 1) == lock_key("a", 1)


# -- a connection lost under a unit of work ------------------------------------------------


async def test_a_unit_of_work_whose_connection_dies_before_commit_runs_again_once(
    clean_database: str,
) -> None:
    """Killed under its statement (the server rolls the transaction back): run again, on a
    fresh connection, once; killed again, the second loss is the caller's."""
    engine = create_engine(clean_database)
    sessions = session_factory(engine)
    pids: list[int] = []

    @again_if_connection_lost
    async def killed_under_itself(times: int) -> int:
        async with sessions() as session, session.begin():
            pid = int(await session.scalar(text("SELECT pg_backend_pid()")) or 0)
            pids.append(pid)
            if len(pids) <= times:
                await session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
            return pid

    try:
        assert await killed_under_itself(1) == pids[1] != pids[0]
        pids.clear()
        with pytest.raises(DBAPIError) as lost:
            await killed_under_itself(2)
        assert len(pids) == 2 and lost_before_commit(lost.value)
    finally:
        await engine.dispose()


async def test_a_unit_of_work_inside_another_runs_again_only_as_part_of_it(
    clean_database: str,
) -> None:
    """One wrapped method calling another: a lost connection runs the outer one again, once
    in all (not once per level: four tries for a command that can only fail)."""
    engine = create_engine(clean_database)
    sessions = session_factory(engine)
    tries: list[str] = []

    @again_if_connection_lost
    async def inner() -> None:
        tries.append("inner")
        async with sessions() as session, session.begin():
            await session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))

    @again_if_connection_lost
    async def outer() -> None:
        tries.append("outer")
        await inner()

    try:
        with pytest.raises(DBAPIError) as lost:
            await outer()
        assert tries == ["outer", "inner", "outer", "inner"]
        assert lost_before_commit(lost.value)
        tries.clear()
        with pytest.raises(DBAPIError):
            await inner()  # alone again: it is the outermost, and runs twice
        assert tries == ["inner", "inner"]
    finally:
        await engine.dispose()


async def test_a_refused_statement_is_not_run_again(sessions: SessionFactory) -> None:
    calls: list[int] = []

    @again_if_connection_lost
    async def refused() -> None:
        calls.append(1)
        async with sessions() as session:
            await session.execute(text("SELECT 1 / 0"))

    with pytest.raises(DBAPIError) as error:
        await refused()
    assert calls == [1] and not lost_before_commit(error.value)


def test_a_connection_lost_on_commit_is_not_taken_for_one_lost_before_it() -> None:
    """Lost on COMMIT, the transaction may have committed: running it again could repeat it."""
    on_commit = DBAPIError(None, None, ConnectionResetError(), connection_invalidated=True)
    under_statement = DBAPIError(
        "SELECT 1", {}, ConnectionResetError(), connection_invalidated=True
    )
    assert not lost_before_commit(on_commit)
    assert lost_before_commit(under_statement)
