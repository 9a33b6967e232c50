"""Acknowledge first, work after: a stuck database or a burst of commands loses no interaction.

The database is made slow for real: a test transaction holds `spotify_links` locked, so every
/account waits on PostgreSQL. Discord (the emulator) forgets an interaction not acknowledged
within its deadline (10062); Encore acknowledges each command before its database work, queues
the work, and answers every one once the database is back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text

from bot.ui.admission import BUSY, Admission
from sandbox.harness import Reply, Sandbox

UNKNOWN_INTERACTION = 10062


@asynccontextmanager
async def database_stuck(sandbox: Sandbox) -> AsyncIterator[None]:
    """Every read of `spotify_links` waits until the block ends."""
    async with sandbox.services.engine.begin() as connection:
        await connection.execute(text("LOCK TABLE spotify_links IN ACCESS EXCLUSIVE MODE"))
        yield


async def burst(sandbox: Sandbox, members: list[int], count: int) -> list[str]:
    injected = await asyncio.gather(
        *(
            sandbox.discord.command(
                "account",
                members[index % len(members)],
                guild_id=sandbox.guild_id,
                channel_id=sandbox.channel_id,
            )
            for index in range(count)
        )
    )
    return [str(one["id"]) for one in injected]


async def records(sandbox: Sandbox, ids: list[str]) -> list[dict[str, Any]]:
    wanted = set(ids)
    return [r for r in await sandbox.discord.interactions() if r["id"] in wanted]


async def until_acknowledged(sandbox: Sandbox, ids: list[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(r.get("response") for r in await records(sandbox, ids)):
            return
        await asyncio.sleep(0.05)


async def answers(sandbox: Sandbox, ids: list[str], timeout: float = 30) -> list[Reply]:
    return list(await asyncio.gather(*(sandbox.reply(i, timeout=timeout) for i in ids)))


async def unknown_interactions(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [e for e in await sandbox.discord.errors() if e.get("code") == UNKNOWN_INTERACTION]


async def test_commands_are_acknowledged_while_the_database_is_stuck_and_answered_after(
    sandbox: Sandbox,
) -> None:
    sandbox.bot.admission = Admission(running=4)  # far fewer slots than commands
    members = [await sandbox.user(f"member{i}") for i in range(5)]
    async with database_stuck(sandbox):
        ids = await burst(sandbox, members, 40)
        # Nothing can be read while the lock is held: every acknowledgement came first.
        await until_acknowledged(sandbox, ids)
        acknowledged = await records(sandbox, ids)
        assert len(acknowledged) == 40
        assert all(r["response"] and not r["response"].get("error") for r in acknowledged)
        assert all(not r["followups"] and not r["edits"] for r in acknowledged)
    replies = await answers(sandbox, ids)
    for answer in replies:
        assert not answer.late and not answer.record["extra_acks"]
        assert "/link" in answer.text and answer.ephemeral  # the real answer: not linked yet
    assert await unknown_interactions(sandbox) == []


async def test_commands_beyond_the_queue_are_told_to_try_again_and_none_expires(
    sandbox: Sandbox,
) -> None:
    sandbox.bot.admission = Admission(running=2, waiting=6)
    members = [await sandbox.user(f"member{i}") for i in range(3)]
    async with database_stuck(sandbox):
        ids = await burst(sandbox, members, 20)
        await until_acknowledged(sandbox, ids)
    replies = await answers(sandbox, ids)
    busy = sum(BUSY in answer.text for answer in replies)
    served = sum("/link" in answer.text for answer in replies)
    # At most 2 running and 6 waiting at once: the rest of the burst was turned away at once.
    assert busy >= 20 - 2 - 6 and served >= 6 and busy + served == 20
    assert all(not answer.late and answer.ephemeral for answer in replies)
    assert await unknown_interactions(sandbox) == []


async def test_a_slow_spotify_does_not_hold_up_acknowledging_other_commands(
    sandbox: Sandbox,
) -> None:
    sandbox.bot.admission = Admission(running=2)
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    await sandbox.spotify.add_fault("/v1/me/player", delay=2.0)
    slow = [
        await sandbox.discord.command(
            "np", alice, guild_id=sandbox.guild_id, channel_id=sandbox.channel_id
        )
        for _ in range(4)
    ]
    others = await burst(sandbox, [await sandbox.user("bob")], 10)
    ids = [str(one["id"]) for one in slow] + others
    replies = await answers(sandbox, ids, timeout=60)
    assert all(answer.message and not answer.late for answer in replies)
    assert await unknown_interactions(sandbox) == []
