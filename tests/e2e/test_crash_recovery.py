"""A worker killed with SIGKILL in the middle of a digest fan-out, and database connections
killed under it: after a restart every server has its digest exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import text

from db.engine import create_engine
from sandbox.discord import DiscordControl, DiscordEmulator
from sandbox.harness import digest_posts, schedule_digests_now
from sandbox.processes import encore_env, process
from sandbox.spotify import SpotifyEmulator
from tests.drains import digests_settled

SERVERS = 120


async def wait_for(condition, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await condition():
            return True
        await asyncio.sleep(0.2)
    return False


async def test_a_killed_worker_leaves_no_duplicate_and_no_miss(
    clean_database: str, tmp_path: Path
) -> None:
    discord_emulator, spotify_emulator = DiscordEmulator(), SpotifyEmulator()
    discord_base = await discord_emulator.start()
    spotify_base = await spotify_emulator.start()
    discord = DiscordControl(discord_base)
    engine = create_engine(clean_database)
    try:
        await discord.create_guilds_bulk(SERVERS, "server")
        guilds = await discord.guilds()
        channels = {str(g["channels"][0]["id"]) for g in guilds}
        await schedule_digests_now(clean_database, guilds)
        env = encore_env(
            discord_base,
            spotify_base,
            clean_database,
            Fernet.generate_key().decode(),
            SCHEDULER_TICK_SECONDS="0.5",
            DIGEST_LEASE_SECONDS="3",
        )
        worker = [sys.executable, "-m", "bot", "worker"]

        # First worker: kill its database connections once it is posting, then SIGKILL it.
        with process(worker, env, log=tmp_path / "worker-1.log") as first:
            assert await wait_for(lambda: _posted_at_least(discord, 15), 60), (
                "the fan-out never started"
            )
            async with engine.connect() as connection:
                await connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            assert await wait_for(lambda: _posted_at_least(discord, 45), 60)
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
        posted_before_restart = sum((await digest_posts(discord)).values())
        assert posted_before_restart < SERVERS, "the kill came too late to test anything"

        # A new worker takes over once the dead one's leases expire.
        with process(worker, env, log=tmp_path / "worker-2.log"):
            try:
                # Until every run has ended: nothing due, claimed or mid-post is left, so
                # no post (and no duplicate) can still arrive.
                await digests_settled(clean_database, timeout=90)
            except AssertionError as unfinished:
                logs = "\n".join(p.read_text()[-3000:] for p in tmp_path.glob("*.log"))
                raise AssertionError(f"{unfinished}\n{logs}") from None
        posts = await digest_posts(discord)
        assert set(posts) == channels, "a server was missed"
        assert max(posts.values()) == 1, f"duplicates: {[c for c, n in posts.items() if n > 1]}"
    finally:
        await engine.dispose()
        await discord.close()
        await discord_emulator.stop()
        await spotify_emulator.stop()


async def _posted_at_least(discord: DiscordControl, count: int) -> bool:
    return bool(sum((await digest_posts(discord)).values()) >= count)
