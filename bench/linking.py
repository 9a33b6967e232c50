"""Refresh single-flight and concurrent linking, through the sandbox and a real PostgreSQL.

- 100 concurrent commands from one user whose access token has expired: Spotify refreshes.
- 100 users linking at once: how many succeed, and how long it takes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import update

from bench.report import discord_refusals, machine, percentile, sized, table, verdict
from db.models import SpotifyLink
from sandbox.database import scratch_database
from sandbox.harness import Sandbox

COMMANDS = sized(100, 10)
LINKERS = sized(100, 5)


async def refresh_single_flight(sandbox: Sandbox) -> list[object]:
    alice = await sandbox.user("alice")
    assert (await sandbox.link(alice, "alice")).status == 200
    async with sandbox.services.sessions() as session, session.begin():
        await session.execute(
            update(SpotifyLink).values(
                access_expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
            )
        )
    await sandbox.spotify.clear_requests()
    started = time.perf_counter()
    replies = await asyncio.gather(
        *(sandbox.slash(alice, "playlists", timeout=60) for _ in range(COMMANDS))
    )
    elapsed = time.perf_counter() - started
    log = await sandbox.spotify.requests(path="/api/token")
    refreshes = sum(1 for entry in log if entry.get("grant_type") == "refresh_token")
    answered = sum(1 for reply in replies if reply.message is not None and "Alice" in reply.text)
    late = sum(1 for reply in replies if reply.late)
    return [
        f"{COMMANDS} × /playlists, expired token",
        refreshes,
        f"{answered}/{COMMANDS}",
        late,
        f"{elapsed:.2f} s",
    ]


async def concurrent_linking(sandbox: Sandbox) -> list[object]:
    for index in range(LINKERS):
        await sandbox.spotify.create_user(f"linker{index}", display_name=f"Linker {index}")
    users = [await sandbox.user(f"linker{index}") for index in range(LINKERS)]
    durations: list[float] = []

    async def one(index: int) -> int:
        started = time.perf_counter()
        outcome = await sandbox.link(users[index], f"linker{index}")
        durations.append(time.perf_counter() - started)
        return outcome.status

    started = time.perf_counter()
    statuses = await asyncio.gather(*(one(i) for i in range(LINKERS)))
    elapsed = time.perf_counter() - started
    ok = sum(1 for status in statuses if status == 200)
    return [
        f"{LINKERS} users linking at once",
        f"{ok}/{LINKERS}",
        f"{percentile(durations, 0.5):.2f} s",
        f"{percentile(durations, 0.95):.2f} s",
        f"{elapsed:.2f} s",
    ]


async def main() -> int:
    async with scratch_database("encore_bench") as url:
        async with Sandbox(url, settings={"web_rate_limit": 0}) as sandbox:
            refresh_row = await refresh_single_flight(sandbox)
            refused = await discord_refusals(sandbox.discord)
        async with Sandbox(url, settings={"web_rate_limit": 0}) as sandbox:
            link_row = await concurrent_linking(sandbox)
            refused += await discord_refusals(sandbox.discord)
    print(
        table(
            "Token refresh single-flight",
            ["scenario", "refreshes", "answered", "late (>3 s)", "total"],
            [refresh_row],
        )
    )
    print()
    print(
        table(
            "Concurrent linking (/link, DM, consent, callback, confirmation)",
            ["scenario", "linked", "p50", "p95", "total"],
            [link_row],
        )
    )
    print(f"\nMachine: {machine()}")
    return verdict(refused)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
