"""The daily digest fanned out to 1,000 servers under the Discord emulator's 50 requests/s limit.

The ideal is 20 s (1,000 posts at 50/s). The bot's requests draw from the global budget
shared through PostgreSQL at DISCORD_GLOBAL_RATE (45/s by default), so it should take about
22 s with no 429, with one worker or two. Every server must get exactly one post.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert

from bench.report import discord_refusals, machine, sized, table, verdict
from bot.digests import DigestService
from bot.ui.digest_poster import DiscordPoster
from db.models import DigestRun, GuildSettings
from sandbox.database import scratch_database
from sandbox.harness import Sandbox

SERVERS = sized(1000, 20)


async def schedule_all(sandbox: Sandbox, channels: list[int], guilds: list[int]) -> None:
    now = dt.datetime.now(dt.UTC)
    async with sandbox.services.sessions() as session, session.begin():
        await session.execute(delete(DigestRun))
        await session.execute(delete(GuildSettings))
        await session.execute(
            insert(GuildSettings),
            [
                {
                    "guild_id": guild,
                    "channel_id": channel,
                    "post_time": dt.time(0, 0),
                    "timezone": "UTC",
                    "enabled": True,
                    "post_when_empty": True,
                    "next_run_at": now,
                    "consecutive_failures": 0,
                }
                for guild, channel in zip(guilds, channels, strict=True)
            ],
        )


async def fan_out(
    sandbox: Sandbox, channels: list[int], guilds: list[int], workers: int
) -> list[object]:
    await schedule_all(sandbox, channels, guilds)
    # As in production: the bot's requests draw from the shared budget in PostgreSQL
    # (bot.discord_budget, attached to the sandbox's bot), whichever worker sends them.
    rate = sandbox.settings.discord_global_rate
    services = [
        DigestService(
            sandbox.services.sessions,
            sandbox.services.releases,
            sandbox.services.clock,
            status={},
            worker=f"bench-{n}",
            poster=DiscordPoster(sandbox.bot),
        )
        for n in range(workers)
    ]
    since = time.time()
    started = time.perf_counter()
    reports = await asyncio.gather(*(service.tick() for service in services))
    elapsed = time.perf_counter() - started
    messages = await sandbox.discord.messages(kind="channel", since=since)
    per_channel = Counter(int(m["channel_id"]) for m in messages)
    duplicates = sum(count - 1 for count in per_channel.values() if count > 1)
    missed = sum(1 for channel in channels if per_channel[channel] == 0)
    requests = await sandbox.discord.requests(since=since)
    limited = sum(1 for r in requests if r.get("rate_limited"))
    sent = sum(report["sent"] for report in reports)
    return [
        f"{workers} worker{'s' if workers > 1 else ''} sharing {rate:g}/s",
        sent,
        f"{elapsed:.1f} s",
        f"{sent / elapsed:.1f}/s",
        limited,
        duplicates,
        missed,
    ]


async def main() -> int:
    async with scratch_database("encore_bench") as url, Sandbox(url) as sandbox:
        await sandbox.services.releases.ingest()
        bulk = await sandbox.discord.create_guilds_bulk(SERVERS, "bench")
        guilds = [int(g) for g in bulk["guild_ids"]]
        channels = [int(c) for c in bulk["channel_ids"]]
        rows = [
            await fan_out(sandbox, channels, guilds, workers=1),
            await fan_out(sandbox, channels, guilds, workers=2),
        ]
        refused = await discord_refusals(sandbox.discord)
    print(
        table(
            f"Digest fan-out to {SERVERS:,} servers (emulator limit 50 requests/s; ideal {SERVERS / 50:.1f} s)",
            ["workers", "posted", "time", "rate", "429s", "duplicates", "missed"],
            rows,
        )
    )
    print(f"\nMachine: {machine()}")
    return verdict(refused)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
