"""The DM outbox on the real PostgreSQL: claimed with a lease, sent with no transaction open,
each message delivered once across processes, and retried when its sender died."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import func, select

from bot.clock import FrozenClock, SystemClock
from bot.outbox import LEASE, MAX_ATTEMPTS, SENDS_AT_ONCE, Outbox, Undeliverable
from db.engine import SessionFactory, create_engine, session_factory
from db.models import OutboxMessage
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
