"""`GET /api/artists` under 50 concurrent clients, against an `encore web` process.

The copy of new releases is ingested first (through the sandbox); the web role then runs in
its own process and this script is the only client.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench.report import discord_refusals, machine, percentile, sized, table, verdict
from sandbox.database import scratch_database
from sandbox.harness import Sandbox
from sandbox.processes import encore_env, free_port, process, wait_until_up

CLIENTS = sized(50, 5)
SECONDS = float(sized(8, 1))


async def load(url: str, *, conditional: bool) -> list[object]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + SECONDS
    connector = aiohttp.TCPConnector(limit=CLIENTS)
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.get(url) as first:
            etag = first.headers.get("ETag", "")
            size = len(await first.read())

        async def client() -> None:
            headers = {"If-None-Match": etag} if conditional else {}
            while time.monotonic() < deadline:
                started = time.perf_counter()
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                latencies.append((time.perf_counter() - started) * 1000)

        began = time.monotonic()
        await asyncio.gather(*(client() for _ in range(CLIENTS)))
        elapsed = time.monotonic() - began
    label = "If-None-Match (304)" if conditional else f"full body ({size / 1024:.0f} KiB)"
    return [
        label,
        len(latencies),
        f"{len(latencies) / elapsed:,.0f}/s",
        f"{percentile(latencies, 0.5):.1f} ms",
        f"{percentile(latencies, 0.95):.1f} ms",
        f"{percentile(latencies, 0.99):.1f} ms",
        ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items())),
    ]


async def main() -> int:
    async with (
        scratch_database("encore_bench") as database_url,
        Sandbox(database_url, settings={"release_search_cap": 1000}) as sandbox,
    ):
        outcome = await sandbox.services.releases.ingest()
        spotify_base = sandbox.spotify.base_url
        discord_base = sandbox.discord.base_url
        port = free_port()
        env = encore_env(
            discord_base,
            spotify_base,
            database_url,
            sandbox.settings.encryption_keys[0].get_secret_value(),
            WEB_PORT=str(port),
            PUBLIC_URL=f"http://127.0.0.1:{port}",
        )
        with process([sys.executable, "-m", "bot", "web"], env):
            base = f"http://127.0.0.1:{port}"
            await wait_until_up(f"{base}/health")
            url = f"{base}/api/artists?release_limit=50"
            rows = [await load(url, conditional=False), await load(url, conditional=True)]
        refused = await discord_refusals(sandbox.discord)
    print(
        table(
            f"GET /api/artists?release_limit=50, {CLIENTS} concurrent clients, {SECONDS:.0f} s each "
            f"({outcome.releases} releases stored)",
            ["request", "requests", "throughput", "p50", "p95", "p99", "statuses"],
            rows,
        )
    )
    print(f"\nMachine: {machine()}; `encore web` in its own process, this script the only client")
    return verdict(refused)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
