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

from bench.report import machine, table
from db.models import Artist, Release, ReleaseArtist
from sandbox.database import scratch_database
from sandbox.harness import Sandbox


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


async def main() -> None:
    results: list[list[object]] = []
    async with (
        scratch_database("encore_bench") as url,
        Sandbox(url, settings={"release_search_cap": 1000}) as sandbox,
    ):
        await sandbox.spotify.settings(new_releases_available=False)
        results.append(await one_run(sandbox, "search, cap 1,000: first run"))
        results.append(await one_run(sandbox, "search, cap 1,000: again"))
        await sandbox.spotify.settings(new_releases_available=True)
        results.append(await one_run(sandbox, "new-releases (adds to the copy)"))
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


if __name__ == "__main__":
    asyncio.run(main())
