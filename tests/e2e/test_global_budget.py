"""One global budget for the bot: two gateways and two workers (separate processes) sending
DMs and digest posts at full speed stay under Discord's 50 requests/s for the token, which
the Discord emulator (in a process of its own) enforces across all of them."""

from __future__ import annotations

from pathlib import Path

from sandbox.cluster import cluster
from sandbox.harness import digest_posts, queue_dms, schedule_digests_now
from tests.drains import digests_settled, outbox_drained

SERVERS = 60
MEMBERS = 80  # a DM each: a DM channel and a message, 2 requests
ROLES = [
    ("gateway-a", ["gateway"], {"SHARD_IDS": "0"}),
    ("gateway-b", ["gateway"], {"SHARD_IDS": "1"}),
    ("worker-1", ["worker"], {}),
    ("worker-2", ["worker"], {}),
]


async def test_four_processes_at_full_speed_are_never_refused_by_the_global_limit(
    clean_database: str, tmp_path: Path
) -> None:
    async with cluster(
        clean_database,
        ROLES,
        tmp_path,
        servers=SERVERS,
        shard_count=2,
        env={"SCHEDULER_TICK_SECONDS": "1"},
    ) as running:
        discord = running.discord
        members = [int((await discord.create_user(f"member{n}"))["id"]) for n in range(MEMBERS)]
        guilds = await discord.guilds()
        before = await discord.ratelimits()
        await queue_dms(
            clean_database,
            {member: f"Hello member {n}, here is your notice." for n, member in enumerate(members)},
        )
        await schedule_digests_now(clean_database, guilds)

        await outbox_drained(clean_database, timeout=90)
        await digests_settled(clean_database, timeout=90)

        for member in members:
            dms = [m for m in await discord.dms(member) if "here is your notice" in m["content"]]
            assert len(dms) == 1, (member, dms)
        posts = await digest_posts(discord)
        assert len(posts) == SERVERS and set(posts.values()) == {1}
        after = await discord.ratelimits()
        assert after["global_429s"] == before["global_429s"] == 0, running.log_tails()
