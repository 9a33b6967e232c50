"""Interaction latency: 2,000 slash commands fired by the Discord emulator at Encore.

The emulators and `encore run` are separate processes; this script only drives them. The mix
is /releases, /likes, /shuffle next and /account from 20 linked members. Time to the first
response is measured by the emulator (dispatch of INTERACTION_CREATE to the bot's callback).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from cryptography.fernet import Fernet

from bench.report import discord_refusals, machine, percentile, sized, table, verdict
from sandbox.browser import Browser, follow_link
from sandbox.database import scratch_database
from sandbox.discord import DiscordControl
from sandbox.processes import emulator, encore_env, free_port, process, wait_until_up
from sandbox.spotify import SpotifyControl

MEMBERS = sized(20, 3)
PER_RUN = int(os.environ.get("BENCH_COMMANDS", str(sized(1000, 40))))
RATE = 50.0  # commands per second in the fixed-rate run
MIX: list[tuple[str, dict[str, Any]]] = [
    ("releases", {}),
    ("likes", {}),
    ("shuffle next", {}),
    ("account", {}),
]


async def link(
    discord: DiscordControl,
    spotify: SpotifyControl,
    http: aiohttp.ClientSession,
    guild: dict[str, Any],
    user: int,
    spotify_user: str,
    public_url: str,
) -> None:
    channel = guild["channels"][0]["id"]
    injected = await discord.command("link", user, guild_id=guild["id"], channel_id=channel)
    await discord.interaction(injected["id"], wait=15, until="followup")
    url = next(
        component["url"]
        for message in await discord.dms(user)
        for row in message.get("components") or []
        for component in row["components"]
        if str(component.get("url", "")).startswith(f"{public_url}/link/")
    )
    async with Browser() as browser:
        outcome = await follow_link(
            browser,
            url,
            discord=discord,
            spotify=spotify,
            spotify_user=spotify_user,
            discord_user=user,
        )
    assert outcome.status == 200, outcome.page


async def fire(
    discord: DiscordControl,
    guild: dict[str, Any],
    members: list[int],
    count: int,
    rate: float | None,
) -> list[str]:
    """Inject `count` commands (at `rate`/s, or as fast as possible); return their ids."""
    channel = guild["channels"][0]["id"]
    ids: list[str] = []
    started = time.monotonic()
    semaphore = asyncio.Semaphore(64)

    async def one(index: int) -> None:
        name, options = MIX[index % len(MIX)]
        async with semaphore:
            injected = await discord.command(
                name,
                members[index % len(members)],
                guild_id=guild["id"],
                channel_id=channel,
                options=options,
            )
        ids.append(injected["id"])

    tasks = []
    for index in range(count):
        if rate is not None:
            delay = started + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index)))
    await asyncio.gather(*tasks)
    return ids


async def collect(discord: DiscordControl, ids: list[str]) -> tuple[list[float], int, int, float]:
    """Latencies of the answered, how many were late or never answered, and the time from
    the first dispatch to the last answer."""
    await asyncio.sleep(4)  # past the deadline of the last one fired
    wanted = set(ids)
    latencies: list[float] = []
    missed = unanswered = 0
    first, last = float("inf"), 0.0
    for record in await discord.interactions():
        if record["id"] not in wanted:
            continue
        response = record.get("response")
        if response is None or response.get("error"):
            unanswered += 1
            missed += 1
            continue
        latency = float(response["latency_ms"])
        latencies.append(latency)
        first = min(first, float(record["dispatched_at"]))
        last = max(last, float(response["at"]))
        if latency > 3000 or record.get("late_responses"):
            missed += 1
    return latencies, missed, unanswered, max(last - first, 1e-9)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main() -> int:
    rows: list[list[object]] = []
    async with (
        emulator("discord") as discord_base,
        emulator("spotify") as spotify_base,
        scratch_database("encore_bench") as database_url,
        DiscordControl(discord_base) as discord,
        SpotifyControl(spotify_base) as spotify,
        aiohttp.ClientSession() as http,
    ):
        port = free_port()
        public_url = f"http://127.0.0.1:{port}"
        env = encore_env(
            discord_base,
            spotify_base,
            database_url,
            Fernet.generate_key().decode(),
            PUBLIC_URL=public_url,
            WEB_PORT=str(port),
            WEB_RATE_LIMIT="0",
        )
        guild = await discord.create_guild("Bench", channels=[{"name": "general"}])
        sync = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "sync-commands", env={**env, "PYTHONPATH": str(Path.cwd())}
        )
        assert await sync.wait() == 0
        with process(
            [sys.executable, "-m", "bot", "run"], env, log=Path("/tmp/encore-bench-run.log")
        ) as encore:
            await wait_until_up(f"{public_url}/health")
            members = []
            for index in range(MEMBERS):
                await spotify.create_user(f"member{index}", liked=60, playlists=2)
                member = int((await discord.create_user(f"member{index}"))["id"])
                await link(discord, spotify, http, guild, member, f"member{index}", public_url)
                started = await discord.command(
                    "shuffle start",
                    member,
                    guild_id=guild["id"],
                    channel_id=guild["channels"][0]["id"],
                    options={"source": "liked"},
                )
                await discord.interaction(started["id"], wait=20, until="followup")
                members.append(member)
            deadline = time.monotonic() + 60  # the worker ingests releases at start
            while time.monotonic() < deadline:
                async with http.get(f"{public_url}/api/releases") as response:
                    if response.status == 200 and (await response.json()).get("count"):
                        break
                await asyncio.sleep(1)
            for label, rate in (
                (f"fixed rate, {RATE:.0f}/s", RATE),
                ("full speed, 64 in flight", None),
            ):
                cpu_before = cpu_seconds(encore.pid)
                ids = await fire(discord, guild, members, PER_RUN, rate)
                latencies, missed, unanswered, elapsed = await collect(discord, ids)
                cpu = cpu_seconds(encore.pid) - cpu_before  # idle waiting costs no CPU
                rows.append(
                    [
                        label,
                        len(ids),
                        f"{len(ids) / elapsed:.0f}/s",
                        f"{percentile(latencies, 0.5):.0f} ms",
                        f"{percentile(latencies, 0.95):.0f} ms",
                        f"{percentile(latencies, 0.99):.0f} ms",
                        missed,
                        unanswered,
                        f"{cpu * 1000 / len(ids):.1f} ms",
                        f"{cpu / elapsed:.0%}",
                    ]
                )
        refused = await discord_refusals(discord)
    print(
        table(
            "Interaction latency (time to first response; /releases, /likes, /shuffle next, /account)",
            [
                "run",
                "commands",
                "throughput",
                "p50",
                "p95",
                "p99",
                "over 3 s",
                "unanswered",
                "bot CPU/command",
                "bot CPU use",
            ],
            rows,
        )
    )
    print(f"\nMachine: {machine()}; emulators and `encore run` in separate processes")
    return verdict(refused)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
