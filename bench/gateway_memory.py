"""Resident memory of the gateway process with 1,000 and 10,000 lived-in servers in the Discord
emulator: each GUILD_CREATE carries tens of channels (categories, text with topics and role
overwrites, voice) and roles, active threads, custom emojis and stickers
(`sandbox/discord/furniture.py`)."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.fernet import Fernet

from bench.report import discord_refusals, machine, sized, table, verdict
from sandbox.database import scratch_database
from sandbox.discord import DiscordControl, furniture
from sandbox.processes import emulator, encore_env, process, rss_mib

SERVERS = sized(10_000, 100)
FIRST = sized(1_000, 10)
GOAL_MIB = 100


async def ready_guilds(control: DiscordControl) -> int:
    """Servers on connected shards (-1 while no shard is connected)."""
    state = await control.state()
    connected = [shard for shard in state.get("shards", []) if shard.get("connected")]
    if not connected:
        return -1
    return sum(len(shard.get("guild_ids") or []) for shard in connected)


async def gateway_rss(
    control: DiscordControl, env: dict[str, str], servers: int
) -> tuple[float, float]:
    """(seconds until every server arrived, resident MiB after) for one `encore gateway`."""
    with process([sys.executable, "-m", "bot", "gateway"], env) as gateway:
        started = time.monotonic()
        while await ready_guilds(control) < servers and time.monotonic() - started < 300:
            await asyncio.sleep(0.5)
        ready_after = time.monotonic() - started
        if await ready_guilds(control) < servers:
            raise SystemExit(f"FAIL: only {await ready_guilds(control)} of {servers} servers")
        await asyncio.sleep(3)  # let GUILD_CREATE processing settle
        return ready_after, rss_mib(gateway.pid)


async def measure(
    discord_base: str, spotify_base: str, database_url: str, refused: list[str]
) -> list[list[object]]:
    rows: list[list[object]] = []
    env = encore_env(discord_base, spotify_base, database_url, Fernet.generate_key().decode())
    async with DiscordControl(discord_base) as control:
        _, empty_rss = await gateway_rss(control, env, 0)
        rows.append(["no servers (what the process costs)", "", f"{empty_rss:.0f} MiB", ""])
        await control.create_guilds_bulk(FIRST, "server", furnished=True)
        first_ready, first_rss = await gateway_rss(control, env, FIRST)
        await control.create_guilds_bulk(SERVERS - FIRST, "more", furnished=True)
        ready, rss = await gateway_rss(control, env, SERVERS)
        per_thousand = (rss - first_rss) / ((SERVERS - FIRST) / 1000)
        rows.append([f"{FIRST:,} servers", f"{first_ready:.1f} s", f"{first_rss:.0f} MiB", ""])
        rows.append(
            [f"{SERVERS:,} servers", f"{ready:.1f} s", f"{rss:.0f} MiB", f"< {GOAL_MIB} MiB"]
        )
        rows.append(["each 1,000 servers more", "", f"{per_thousand:.1f} MiB", ""])
        print(
            f"Each server: {furniture.CATEGORIES} categories, {furniture.TEXT_CHANNELS + 1} text and "
            f"{furniture.VOICE_CHANNELS} voice channels, {furniture.ROLES + 2} roles, "
            f"{furniture.THREADS} threads, {furniture.EMOJIS} emojis, {furniture.STICKERS} stickers\n"
        )
        refused.extend(await discord_refusals(control))
    return rows


async def main() -> int:
    refused: list[str] = []
    async with (
        emulator("discord") as discord_base,
        emulator("spotify") as spotify_base,
        scratch_database("encore_bench") as url,
    ):
        rows = await measure(discord_base, spotify_base, url, refused)
    print(
        table(
            "Gateway process memory (encore gateway, lived-in servers, emulator in its own process)",
            ["scenario", "all servers received after", "resident memory", "goal"],
            rows,
        )
    )
    print(f"\nMachine: {machine()}")
    return verdict(refused)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
