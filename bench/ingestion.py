"""Release ingestion from the Spotify emulator's catalogue into a real PostgreSQL.

- search `tag:new` (the development-mode source) with the cap raised to 1,000 albums, then again:
  the second run must leave the same rows (upserts) and only move `last_seen`;
- `/browse/new-releases` (extended-quota apps), for comparison.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from bench.report import discord_refusals, machine, sized, table, verdict
from db.models import Artist, Release, ReleaseArtist
from sandbox.database import scratch_database
from sandbox.harness import Sandbox

CAP = sized(1000, 100)  # releases read from search tag:new


async def rows(sandbox: Sandbox) -> str:
    async with sandbox.services.sessions() as session:
        counts = [
            int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Release, Artist, ReleaseArtist)
        ]
    return " / ".join(f"{count:,}" for count in counts)


async def one_run(sandbox: Sandbox, label: str) -> list[object]:
    await sandbox.spotify.clear_requests()
    started = time.perf_counter()
    outcome = await sandbox.services.releases.ingest()
    elapsed = time.perf_counter() - started
    calls = await sandbox.spotify.requests(path="^/v1/")
    return [
        label,
        outcome.source or "-",
        outcome.status,
        f"{elapsed:.2f} s",
        outcome.releases,
        await rows(sandbox),
        len(calls),
    ]


async def main() -> int:
    results: list[list[object]] = []
    async with (
        scratch_database("encore_bench") as url,
        Sandbox(url, settings={"release_search_cap": CAP}) as sandbox,
    ):
        await sandbox.spotify.settings(new_releases_available=False)
        results.append(await one_run(sandbox, f"search, cap {CAP:,}: first run"))
        results.append(await one_run(sandbox, f"search, cap {CAP:,}: again"))
        await sandbox.spotify.settings(new_releases_available=True)
        results.append(await one_run(sandbox, "new-releases (adds to the copy)"))
        refused = await discord_refusals(sandbox.discord)
    print(
        table(
            "Release ingestion (albums and singles kept; compilations skipped)",
            [
                "run",
                "source",
                "status",
                "time",
                "stored",
                "rows: releases / artists / links",
                "Spotify calls",
            ],
            results,
        )
    )
    print(f"\nMachine: {machine()}")
    return verdict(refused)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
