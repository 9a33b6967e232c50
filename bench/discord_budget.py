"""One global budget for the bot: 2 gateways and 2 workers, each its own process, sending DMs
(the outbox) and digest posts at full speed against the Discord emulator (its own process),
which allows the bot token 50 requests/s across all of them.

Run twice on fresh databases: with the shared budget in PostgreSQL (DISCORD_SHARED_BUDGET,
the default) and without it. Time is from the first to the last request that counts toward
the global limit; the ideal is that many requests at DISCORD_GLOBAL_RATE (45/s).
Goals: 0 global 429s with the budget, within 1.05x of the ideal.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from bench.report import QUICK, discord_refusals, machine, sized, table, verdict
from bot.discord_budget import EXEMPT_PATHS
from sandbox.cluster import cluster
from sandbox.database import scratch_database
from sandbox.harness import digest_posts, queue_dms, schedule_digests_now
from tests.drains import digests_settled, outbox_drained

SERVERS = sized(300, 10)
MEMBERS = sized(300, 10)  # a DM each: a DM channel and a message
RATE = 45.0
ROLES = [
    ("gateway-a", ["gateway"], {"SHARD_IDS": "0"}),
    ("gateway-b", ["gateway"], {"SHARD_IDS": "1"}),
    ("worker-1", ["worker"], {}),
    ("worker-2", ["worker"], {}),
]


async def run(shared: bool) -> tuple[list[object], list[str], bool]:
    async with scratch_database("encore_bench") as url:
        with tempfile.TemporaryDirectory() as logs:
            async with cluster(
                url,
                ROLES,
                Path(logs),
                servers=SERVERS,
                shard_count=2,
                env={
                    "SCHEDULER_TICK_SECONDS": "1",
                    "DISCORD_GLOBAL_RATE": f"{RATE:g}",
                    "DISCORD_SHARED_BUDGET": "true" if shared else "false",
                },
            ) as running:
                discord = running.discord
                members = [
                    int((await discord.create_user(f"member{n}"))["id"]) for n in range(MEMBERS)
                ]
                guilds = await discord.guilds()
                before = (await discord.ratelimits())["global_429s"]
                since = time.time()
                await queue_dms(
                    url, {member: f"Notice {n} for you." for n, member in enumerate(members)}
                )
                await schedule_digests_now(url, guilds)
                await outbox_drained(url, timeout=300)
                await digests_settled(url, timeout=300)
                global_429s = (await discord.ratelimits())["global_429s"] - before
                counted = [
                    r
                    for r in await discord.requests(since=since)
                    if not any(r["path"].startswith(p.rstrip("/")) for p in EXEMPT_PATHS)
                ]
                sent = [r for r in counted if r["status"] != 429]
                dms = 0
                for member in members:
                    received = await discord.dms(member)
                    dms += sum(1 for m in received if "for you" in (m["content"] or ""))
                posts = await digest_posts(discord)
                refused = await discord_refusals(discord)
    elapsed = max(r["at"] for r in sent) - min(r["at"] for r in sent)
    ideal = (len(sent) - 1) / RATE
    complete = dms == MEMBERS and len(posts) == SERVERS and set(posts.values()) == {1}
    row: list[object] = [
        "shared budget" if shared else "no budget (each process unpaced)",
        f"{dms}/{MEMBERS}",
        f"{len(posts)}/{SERVERS}",
        len(sent),
        global_429s,
        f"{elapsed:.2f} s",
        f"{ideal:.2f} s",
        f"{elapsed / ideal:.3f}x",
    ]
    # --quick sends a few dozen requests: too few for the time ratio to mean anything.
    on_time = QUICK or elapsed / ideal <= 1.05
    met = complete and (not shared or (global_429s == 0 and on_time))
    return row, refused, met


async def main() -> int:
    with_budget, refused, met = await run(shared=True)
    without, refused_too, _ = await run(shared=False)
    print(
        table(
            f"2 gateways + 2 workers: {MEMBERS} DMs and {SERVERS} digest posts at full speed "
            f"(emulator: 50 requests/s per bot token; budget {RATE:g}/s)",
            [
                "run",
                "DMs",
                "digests",
                "requests",
                "global 429s (goal 0)",
                "time",
                f"ideal at {RATE:g}/s",
                "vs ideal (goal <= 1.05x)",
            ],
            [with_budget, without],
        )
    )
    print(f"\nShared budget: {'every goal met' if met else 'FAIL: a goal is not met'}")
    print(f"Machine: {machine()}")
    status = verdict(refused + refused_too)
    return status or (0 if met else 1)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
