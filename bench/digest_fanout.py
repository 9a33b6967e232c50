"""The daily digest fanned out to 1,000 servers under the Discord emulator's 50 requests/s limit,
by one worker process and then by two, each its own `python -m bot worker` (as deployed),
beside a gateway, against the Discord emulator in its own process.

The ideal is 20 s (1,000 posts at 50/s). The workers' requests draw from the global budget
shared through PostgreSQL at DISCORD_GLOBAL_RATE (45/s), so a run should take about 22 s with
no 429, with one worker or two. Every server must get exactly one post. Time is from the first
post to the last, as the emulator recorded them.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import discord_refusals, machine, sized, table, verdict
from sandbox.cluster import Role, cluster
from sandbox.database import scratch_database
from sandbox.harness import digest_posts, schedule_digests_now
from tests.drains import digests_settled

SERVERS = sized(1000, 20)
RATE = 45.0


async def fan_out(workers: int) -> tuple[list[object], list[str], bool]:
    roles: list[Role] = [("gateway", ["gateway"], {})]
    roles += [(f"worker-{n}", ["worker"], {}) for n in range(1, workers + 1)]
    async with scratch_database("encore_bench") as url:
        with tempfile.TemporaryDirectory() as logs:
            async with cluster(
                url,
                roles,
                Path(logs),
                servers=SERVERS,
                env={"SCHEDULER_TICK_SECONDS": "1", "DISCORD_GLOBAL_RATE": f"{RATE:g}"},
            ) as running:
                discord = running.discord
                guilds = await discord.guilds()
                channels = {str(g["channels"][0]["id"]) for g in guilds}
                before = (await discord.ratelimits())["global_429s"]
                since = time.time()
                await schedule_digests_now(url, guilds)
                await digests_settled(url, timeout=600)
                global_429s = (await discord.ratelimits())["global_429s"] - before
                posts = await digest_posts(discord)
                sent = [
                    m
                    for m in await discord.messages(kind="channel", since=since)
                    if str(m["channel_id"]) in channels
                ]
                refused = await discord_refusals(discord)
    times = sorted(float(m["created_at"]) for m in sent) if sent else [0.0]
    elapsed = max(times[-1] - times[0], 1e-9)
    duplicates = sum(count - 1 for count in posts.values() if count > 1)
    missed = sum(1 for channel in channels if posts[channel] == 0)
    row: list[object] = [
        f"{workers} worker process{'es' if workers > 1 else ''}",
        sum(posts.values()),
        f"{elapsed:.1f} s",
        f"{(len(sent) - 1) / elapsed:.1f}/s",
        global_429s,
        duplicates,
        missed,
    ]
    return row, refused, global_429s == 0 and duplicates == 0 and missed == 0


async def main() -> int:
    one, refused, met_one = await fan_out(1)
    two, refused_too, met_two = await fan_out(2)
    print(
        table(
            f"Digest fan-out to {SERVERS:,} servers (emulator limit 50 requests/s; ideal "
            f"{SERVERS / 50:.1f} s; budget {RATE:g}/s: {SERVERS / RATE:.1f} s)",
            ["workers", "posted", "time", "rate", "global 429s (goal 0)", "duplicates", "missed"],
            [one, two],
        )
    )
    met = met_one and met_two
    print(f"\nFan-out: {'every goal met' if met else 'FAIL: a goal is not met'}")
    print(f"Machine: {machine()}")
    return verdict(refused + refused_too) or (0 if met else 1)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
