"""The DM outbox on the real PostgreSQL: claimed with a lease, sent with no transaction open,
each message delivered once across processes, and retried when its sender died."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FrozenClock, SystemClock
from bot.outbox import (
    LEASE,
    MAX_ATTEMPTS,
    NOTIFY_CHANNEL,
    SENDS_AT_ONCE,
    Listen,
    Outbox,
    Undeliverable,
)
from db import notify
from db.engine import SessionFactory, create_engine, session_factory
from db.models import OutboxMessage
from sandbox.ports import free_port
from tests.database_activity import DatabaseActivity


def frozen_just_ahead() -> FrozenClock:
    """A clock a little ahead of the database's: rows queued now are due at once."""
    return FrozenClock(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5))


async def queue_dms(sessions: SessionFactory, outbox: Outbox, users: range) -> None:
    async with sessions() as session, session.begin():
        for user in users:
            outbox.add_dm(session, user, "test", f"hello {user}")


async def pending(sessions: SessionFactory) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
        )
    return int(count or 0)


class HeldSends:
    """A Discord that takes each DM and answers only when told to."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self.release = asyncio.Event()
        self.in_flight = 0
        self.most_in_flight = 0

    async def send(self, user: int, content: str, nonce: str = "") -> None:
        self.started.append(user)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self.release.wait()
        finally:
            self.in_flight -= 1

    async def until_started(self, count: int) -> None:
        async with asyncio.timeout(10):
            while len(self.started) < count:
                await asyncio.sleep(0.01)


async def test_no_transaction_or_row_lock_is_open_while_dms_are_sent(
    sessions: SessionFactory, database_activity: DatabaseActivity
) -> None:
    outbox = Outbox(sessions, SystemClock())
    await queue_dms(sessions, outbox, range(1, 4))
    discord = HeldSends()
    delivering = asyncio.create_task(outbox.deliver_due(discord.send))
    await discord.until_started(3)  # Discord holds all three calls open
    seen = await database_activity.now()
    assert seen.in_transaction == [] and seen.idle_in_transaction == []
    assert seen.row_locks == []
    discord.release.set()
    assert await delivering == 3
    assert await pending(sessions) == 0


async def test_dms_are_sent_side_by_side(sessions: SessionFactory) -> None:
    outbox = Outbox(sessions, SystemClock())
    await queue_dms(sessions, outbox, range(1, 31))
    discord = HeldSends()
    delivering = asyncio.create_task(outbox.deliver_due(discord.send))
    await discord.until_started(SENDS_AT_ONCE)
    assert discord.most_in_flight == SENDS_AT_ONCE  # the next wait for a free slot
    discord.release.set()
    assert await delivering == 30


async def test_two_processes_deliver_each_dm_exactly_once(clean_database: str) -> None:
    engines = [create_engine(clean_database), create_engine(clean_database)]
    try:
        sessions = [session_factory(engine) for engine in engines]
        outboxes = [Outbox(factory, SystemClock()) for factory in sessions]
        await queue_dms(sessions[0], outboxes[0], range(1, 121))
        received: Counter[int] = Counter()

        async def send(user: int, content: str, nonce: str = "") -> None:
            await asyncio.sleep(0.005)  # a Discord round trip: the processes overlap
            received[user] += 1

        async def drain(outbox: Outbox) -> None:
            while await outbox.deliver_due(send, limit=10):
                pass

        await asyncio.gather(*(drain(outbox) for outbox in outboxes))
        assert await pending(sessions[0]) == 0  # nothing is left to send...
        assert received == Counter({user: 1 for user in range(1, 121)})  # ...and none twice
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_dm_whose_sender_died_is_sent_when_its_lease_runs_out(
    sessions: SessionFactory,
) -> None:
    clock = frozen_just_ahead()
    outbox = Outbox(sessions, clock)
    await queue_dms(sessions, outbox, range(7, 8))
    dead = HeldSends()
    dying = asyncio.create_task(outbox.deliver_due(dead.send))
    await dead.until_started(1)
    dying.cancel()  # the process is gone between sending and recording
    await asyncio.gather(dying, return_exceptions=True)

    received: list[int] = []

    async def send(user: int, content: str, nonce: str = "") -> None:
        received.append(user)

    assert await outbox.deliver_due(send) == 0  # still leased to the dead process
    clock.advance(seconds=LEASE.total_seconds())
    assert await outbox.deliver_due(send) == 1
    assert received == [7] and await pending(sessions) == 0


async def test_a_late_outcome_does_not_overwrite_the_claim_that_followed(
    sessions: SessionFactory,
) -> None:
    clock = frozen_just_ahead()
    outbox = Outbox(sessions, clock)
    await queue_dms(sessions, outbox, range(7, 8))
    slow = HeldSends()
    slow_delivery = asyncio.create_task(outbox.deliver_due(slow.send))
    await slow.until_started(1)
    clock.advance(seconds=LEASE.total_seconds())

    async def send(user: int, content: str, nonce: str = "") -> None:
        pass

    assert await outbox.deliver_due(send) == 1  # another process took over and sent it
    slow.release.set()
    await slow_delivery  # the first process records its outcome late...
    async with sessions() as session:
        row = (await session.scalars(select(OutboxMessage))).one()
    assert row.sent_at is not None and row.attempts == 2  # ...over nobody's claim


async def test_a_failed_send_backs_off_then_gives_up_and_closed_dms_stop_at_once(
    sessions: SessionFactory,
) -> None:
    clock = frozen_just_ahead()
    outbox = Outbox(sessions, clock)
    await queue_dms(sessions, outbox, range(1, 3))

    async def send(user: int, content: str, nonce: str = "") -> None:
        if user == 1:
            raise Undeliverable("Cannot send messages to this user")
        raise RuntimeError("Discord answered 500")

    assert await outbox.deliver_due(send) == 0
    for attempt in range(1, MAX_ATTEMPTS):
        assert await outbox.deliver_due(send) == 0  # backing off: nothing is due yet
        clock.advance(seconds=2**attempt)
        await outbox.deliver_due(send)
    async with sessions() as session:
        rows = {row.discord_user_id: row for row in await session.scalars(select(OutboxMessage))}
    assert rows[1].failed_at is not None and rows[1].attempts == 1
    assert rows[2].failed_at is not None and rows[2].attempts == MAX_ATTEMPTS
    assert rows[2].last_error == "RuntimeError: Discord answered 500"


@pytest.mark.parametrize("count", [0, 1])
async def test_nothing_due_sends_nothing(sessions: SessionFactory, count: int) -> None:
    outbox = Outbox(sessions, SystemClock())
    await queue_dms(sessions, outbox, range(1, 1 + count))
    sent: list[int] = []

    async def send(user: int, content: str, nonce: str = "") -> None:
        sent.append(user)

    assert await outbox.deliver_due(send) == count
    assert await outbox.deliver_due(send) == 0
    assert len(sent) == count


async def test_the_delivery_loop_keeps_sends_in_flight_and_takes_new_dms_while_others_wait(
    sessions: SessionFactory,
) -> None:
    """A burst is not sent batch after batch: while DMs are held at Discord, a DM queued
    later is claimed as soon as there is room, and each is recorded when it is sent."""
    outbox = Outbox(sessions, SystemClock())
    await queue_dms(sessions, outbox, range(1, SENDS_AT_ONCE))  # one place stays free
    discord = HeldSends()
    loop = asyncio.create_task(outbox.run(discord.send, idle=0.05))
    try:
        await discord.until_started(SENDS_AT_ONCE - 1)
        await queue_dms(sessions, outbox, range(100, 101))
        await discord.until_started(SENDS_AT_ONCE)  # taken while the others are held
        await queue_dms(sessions, outbox, range(200, 203))
        await asyncio.sleep(0.2)
        assert discord.most_in_flight == SENDS_AT_ONCE  # the rest wait for a free place
        discord.release.set()
        async with asyncio.timeout(10):
            while await pending(sessions):
                await asyncio.sleep(0.02)
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
    assert sorted(discord.started) == [*range(1, SENDS_AT_ONCE), 100, 200, 201, 202]


async def test_a_delivery_loop_stopped_mid_send_leaves_its_dms_to_the_next_with_their_nonces(
    sessions: SessionFactory,
) -> None:
    clock = frozen_just_ahead()
    outbox = Outbox(sessions, clock)
    await queue_dms(sessions, outbox, range(1, 4))
    dead = HeldSends()
    nonces: dict[int, list[str]] = {}

    async def held(user: int, content: str, nonce: str = "") -> None:
        nonces.setdefault(user, []).append(nonce)
        await dead.send(user, content, nonce)

    dying = asyncio.create_task(outbox.run(held, idle=0.05))
    await dead.until_started(3)
    dying.cancel()  # the process is gone: Discord may or may not have the DMs
    await asyncio.gather(dying, return_exceptions=True)
    assert await pending(sessions) == 3  # not recorded sent: nothing is lost

    async def send(user: int, content: str, nonce: str = "") -> None:
        nonces[user].append(nonce)

    clock.advance(seconds=LEASE.total_seconds())
    assert await outbox.deliver_due(send) == 3
    # the same nonce on both attempts: Discord (enforce_nonce) returns the first message
    assert all(len(sent) == 2 and sent[0] == sent[1] for sent in nonces.values())


# -- woken by PostgreSQL, not by the next poll ----------------------------------------------


def listening(engine: AsyncEngine, retry: float = 0.1) -> Listen:
    return lambda wake: notify.listen(engine, NOTIFY_CHANNEL, wake, retry=retry)


async def listeners(sessions: SessionFactory) -> list[int]:
    async with sessions() as session:
        found = await session.scalars(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND query ILIKE 'LISTEN%'"
            )
        )
        return list(found)


async def test_a_dm_another_process_queues_is_sent_at_once_even_after_the_listener_is_cut(
    clean_database: str,
) -> None:
    """The delivering process polls once an hour here: only the commit's notification (and,
    after its connection is cut, the reconnection) can wake it."""
    deliverer_engine, web_engine = create_engine(clean_database), create_engine(clean_database)
    clock = frozen_just_ahead()
    deliverer = Outbox(session_factory(deliverer_engine), clock, listen=listening(deliverer_engine))
    web_sessions = session_factory(web_engine)
    web = Outbox(web_sessions, clock)  # the web role queues DMs but never delivers them
    sent: asyncio.Queue[int] = asyncio.Queue()

    async def send(user: int, content: str, nonce: str = "") -> None:
        sent.put_nowait(user)

    loop = asyncio.create_task(deliverer.run(send, idle=3600))
    try:
        await queue_dms(web_sessions, web, range(1, 2))
        async with asyncio.timeout(20):
            assert await sent.get() == 1

        async with asyncio.timeout(20):
            while not (pids := await listeners(web_sessions)):
                await asyncio.sleep(0.05)
        async with web_sessions() as session:
            await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pids[0]})
        await queue_dms(web_sessions, web, range(2, 3))  # possibly while nobody listens
        async with asyncio.timeout(20):
            assert await sent.get() == 2
        await queue_dms(web_sessions, web, range(3, 4))  # heard on the new connection
        async with asyncio.timeout(20):
            assert await sent.get() == 3
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
        await deliverer_engine.dispose()
        await web_engine.dispose()


async def test_a_listener_that_cannot_connect_says_so_without_secrets_and_keeps_trying(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = create_engine(f"postgresql+asyncpg://encore:s3cret-pw@127.0.0.1:{free_port()}/nowhere")
    woken: list[bool] = []
    caplog.set_level(logging.WARNING, logger="db.notify")
    task = asyncio.create_task(
        notify.listen(engine, NOTIFY_CHANNEL, lambda: woken.append(True), retry=0.05)
    )
    try:
        async with asyncio.timeout(10):
            while sum("Cannot listen" in r.getMessage() for r in caplog.records) < 2:
                await asyncio.sleep(0.02)
        assert not task.done() and woken == []
        assert "s3cret-pw" not in caplog.text and "nowhere" not in caplog.text
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await engine.dispose()


async def test_a_delivery_loop_cancelled_as_it_is_woken_ends(sessions: SessionFactory) -> None:
    """A wake-up (the listener's first, right after it connects) and a shutdown in the same
    turn of the event loop: the loop must end, not swallow the cancellation and wait another
    hour (what `asyncio.wait_for` does on Python 3.11, which hung a worker stopped right after
    it started)."""
    wakes: list[Callable[[], None]] = []

    async def listen(wake: Callable[[], None]) -> None:
        wakes.append(wake)
        await asyncio.Event().wait()

    outbox = Outbox(sessions, frozen_just_ahead(), listen=listen)
    for attempt in range(10):
        loop = asyncio.create_task(outbox.run(HeldSends().send, idle=3600))
        async with asyncio.timeout(10):
            while len(wakes) <= attempt or not waiting_for_work(loop):
                await asyncio.sleep(0.01)
        wakes[attempt]()
        loop.cancel()
        assert await ends(loop)


async def ends(task: asyncio.Task[None]) -> bool:
    """`task`, cancelled, ends as cancelled (waited for without cancelling it again)."""
    await asyncio.wait([task], timeout=10)
    return task.cancelled()


def waiting_for_work(task: asyncio.Task[None]) -> bool:
    """`task` (a delivery loop) is idle, waiting to be woken or for its next poll."""
    awaiting: Any = task.get_coro()
    while awaiting is not None:  # down the chain of coroutines awaiting one another
        if getattr(awaiting, "cr_code", None) is Outbox.wait_for_work.__code__:
            return True
        awaiting = getattr(awaiting, "cr_await", None)
    return False


async def test_a_stopped_delivery_loop_has_closed_its_listening_connection(
    clean_database: str,
) -> None:
    """The caller disposes of the engine right after the loop ends: nothing may be left
    listening (an unclosed connection, a task still reconnecting)."""
    engine = create_engine(clean_database)
    sessions = session_factory(engine)
    outbox = Outbox(sessions, frozen_just_ahead(), listen=listening(engine))
    loop = asyncio.create_task(outbox.run(HeldSends().send, idle=3600))
    try:
        async with asyncio.timeout(20):
            while not await listeners(sessions):
                await asyncio.sleep(0.05)
        loop.cancel()
        assert await ends(loop)
        still_listening = [
            task
            for task in asyncio.all_tasks()
            if task.get_coro().__qualname__ == notify.listen.__qualname__  # type: ignore[union-attr]
        ]
        assert still_listening == []
        async with asyncio.timeout(10):  # the server notices the goodbye at once
            while await listeners(sessions):
                await asyncio.sleep(0.05)
    finally:
        loop.cancel()
        await engine.dispose()


class Silent:
    """A port that accepts connections and never says a word (a server hung mid-start)."""

    async def __aenter__(self) -> int:
        self.held: list[asyncio.StreamWriter] = []

        async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.held.append(writer)

        self.server = await asyncio.start_server(hold, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def __aexit__(self, *exc: object) -> None:
        for writer in self.held:
            writer.close()
        self.server.close()
        await self.server.wait_closed()


async def test_a_listener_whose_server_never_answers_gives_up_retries_and_stops_when_told(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="db.notify")
    silent = Silent()
    async with silent as port:
        engine = create_engine(f"postgresql+asyncpg://encore:pw@127.0.0.1:{port}/db")
        task = asyncio.create_task(
            notify.listen(engine, NOTIFY_CHANNEL, lambda: None, retry=0.05, connect_timeout=0.2)
        )
        try:
            async with asyncio.timeout(10):
                while sum("TimeoutError" in r.getMessage() for r in caplog.records) < 2:
                    await asyncio.sleep(0.01)
                while len(silent.held) < 3:  # the third attempt is waiting for an answer
                    await asyncio.sleep(0.01)
            task.cancel()  # cancelled mid-handshake, it ends
            assert await ends(task)
        finally:
            task.cancel()
            await engine.dispose()
