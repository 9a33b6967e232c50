"""Resident memory of the gateway process with 10,000 servers in the Discord emulator."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.fernet import Fernet

from bench.report import discord_refusals, machine, sized, table, verdict
from sandbox.database import scratch_database
from sandbox.discord import DiscordControl
from sandbox.processes import emulator, encore_env, process, rss_mib

SERVERS = sized(10_000, 100)


async def ready_guilds(control: DiscordControl) -> int:
    state = await control.state()
    return sum(
        len(shard.get("guild_ids") or [])
        for shard in state.get("shards", [])
        if shard.get("connected")
    )


async def measure(
    discord_base: str, spotify_base: str, database_url: str, refused: list[str]
) -> list[list[object]]:
    rows: list[list[object]] = []
    async with DiscordControl(discord_base) as control:
        await control.create_guilds_bulk(SERVERS, "server")
        env = encore_env(discord_base, spotify_base, database_url, Fernet.generate_key().decode())
        with process([sys.executable, "-m", "bot", "gateway"], env) as gateway:
            started = time.monotonic()
            while await ready_guilds(control) < SERVERS and time.monotonic() - started < 240:
                await asyncio.sleep(0.5)
            ready_after = time.monotonic() - started
            await asyncio.sleep(3)  # let GUILD_CREATE processing settle
            guilds = await ready_guilds(control)
            rows.append(
                [
                    f"{SERVERS:,} servers",
                    guilds,
                    f"{ready_after:.1f} s",
                    f"{rss_mib(gateway.pid):.0f} MiB",
                ]
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
            "Gateway process memory (encore gateway, emulator in its own process)",
            ["scenario", "servers received", "all shards ready", "resident memory"],
            rows,
        )
    )
    print(f"\nMachine: {machine()}")
    return verdict(refused)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
