"""A deployment of Encore as separate processes (gateways, workers, web) against emulators
in processes of their own: what scale-out tests and benchmarks run."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

from sandbox.discord import DiscordControl
from sandbox.processes import ROOT, emulator, encore_env, process, sync_commands
from sandbox.spotify import SpotifyControl

Role = tuple[str, Sequence[str], Mapping[str, str]]  # (name, `python -m bot` args, env)


@dataclass
class Cluster:
    discord: DiscordControl
    spotify: SpotifyControl
    database_url: str
    logs: Path

    def log_tails(self, size: int = 2000) -> str:
        return "\n".join(f"{p.name}: {p.read_text()[-size:]}" for p in self.logs.glob("*.log"))


@asynccontextmanager
async def cluster(
    database_url: str,
    roles: Sequence[Role],
    logs: Path,
    *,
    servers: int = 0,
    shard_count: int = 1,
    env: Mapping[str, str] | None = None,
) -> AsyncIterator[Cluster]:
    """The emulators, `servers` guilds, the commands synced, then `roles` started; yields
    once every shard is connected with every guild."""
    async with AsyncExitStack() as stack:
        discord_base = await stack.enter_async_context(emulator("discord"))
        spotify_base = await stack.enter_async_context(emulator("spotify"))
        discord = await stack.enter_async_context(DiscordControl(discord_base))
        spotify = SpotifyControl(spotify_base)
        stack.push_async_callback(spotify.close)
        environment = encore_env(
            discord_base,
            spotify_base,
            database_url,
            Fernet.generate_key().decode(),
            SHARD_COUNT=str(shard_count),
            **dict(env or {}),
        )
        if servers:
            await discord.create_guilds_bulk(servers, "server")
        await sync_commands({**environment, "PYTHONPATH": str(ROOT)})
        with ExitStack() as processes:
            for name, args, extra in roles:
                processes.enter_context(
                    process(
                        [sys.executable, "-m", "bot", *args],
                        {**environment, **extra},
                        log=logs / f"{name}.log",
                    )
                )
            running = Cluster(discord, spotify, database_url, logs)
            if any("gateway" in args for _, args, _ in roles):
                await shards_ready(discord, shard_count, servers, running.log_tails)
            yield running


async def shards_ready(
    discord: DiscordControl,
    shard_count: int,
    servers: int,
    logs: Callable[[], str],
    *,
    timeout: float = 90,
) -> None:
    """Until `shard_count` shards are connected and hold `servers` guilds between them; a
    timeout fails with the emulator's view and the processes' `logs`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = await discord.state()
        ready = [s for s in state.get("shards", []) if s.get("connected")]
        if (
            len(ready) == shard_count
            and sum(len(s.get("guild_ids") or []) for s in ready) == servers
        ):
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"shards did not connect: {state}\n{logs()}")
