"""Many members linking at the same moment: every one is linked and confirmed by exactly one
DM, even when Discord loses its answer to some of the confirmations after writing them."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from sandbox.harness import Sandbox
from tests.drains import outbox_drained

MEMBERS = 64
LOST = 12  # confirmations Discord writes, then answers 502: discord.py sends them again


@pytest.fixture
async def sandbox(clean_database: str) -> AsyncIterator[Sandbox]:
    async with Sandbox(clean_database, settings={"web_rate_limit": 0}) as running:
        yield running


async def test_members_linking_at_once_are_each_confirmed_exactly_once(sandbox: Sandbox) -> None:
    for n in range(MEMBERS):
        await sandbox.spotify.create_user(f"member{n}", display_name=f"Member {n} *at once*")
    members = [await sandbox.user(f"member{n}") for n in range(MEMBERS)]
    links = await asyncio.gather(*(sandbox.personal_link(member) for member in members))
    await sandbox.discord.lose_responses(LOST, dms=True)

    outcomes = await asyncio.gather(
        *(
            sandbox.follow_link(link, f"member{n}", discord_user=member)
            for n, (member, link) in enumerate(zip(members, links, strict=True))
        )
    )
    await outbox_drained(sandbox.database_url or "", timeout=60)

    assert [outcome.status for outcome in outcomes] == [200] * MEMBERS
    confirmations: Counter[int] = Counter()
    for message in await sandbox.discord.messages(kind="dm"):
        if "is now linked" in (message["content"] or ""):
            confirmations[int(message["dm_user_id"])] += 1
    assert confirmations == Counter({member: 1 for member in members})
    remaining = sum(f["remaining"] for f in (await sandbox.discord.faults())["faults"])
    assert remaining == 0  # every lost answer happened, and was retried into the same DM
    assert (await sandbox.discord.ratelimits())["global_429s"] == 0
