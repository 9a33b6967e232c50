"""`GET /api/artists` against an `encore web` process, on a copy of 20,000 releases.

The copy is ingested through the sandbox (messy names, many artists) and then grown with
generated releases to RELEASES rows; the web role runs in its own process. Four runs:

- hits: one URL, the full body every time (and with `If-None-Match`, bodyless 304s);
- misses: every request a different `release_limit`/`days` (36,500 combinations against a
  cache of 256 answers), so each answer is built from the database;
- reads during ingestion: the hit URL while the copy changes every second (`last_seen` of
  some releases moves, as an ingestion's upserts do), so each change is a fill under load;
- and misses of `/api/releases` (every request a different `limit`/`days`).

A miss's work is shared between the web process and PostgreSQL (which writes the JSON), so
each row gives both: the web process's CPU per request and that of the PostgreSQL backends
serving it (read from /proc when PostgreSQL runs on this machine; else "n/a"), with the
number of backends the web process opened during the row (a pool that overflows opens and
closes connections under load: each costs a fork and a handshake).

The load comes from `wrk` (a compiled generator) when it is installed, else from a Python
aiohttp client (slower: it competes with Encore for the same cores). Requests/s and the web
process's CPU per request are Encore's own figures; the issue's goals (>= 10x the challenge
app on misses, >= 50x on hits) are ratios against an app run outside the project.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from sqlalchemy import make_url, text

from bench.report import discord_refusals, machine, percentile, sized, table, verdict
from db.engine import create_engine
from sandbox.database import scratch_database
from sandbox.harness import Sandbox
from sandbox.processes import encore_env, free_port, process, wait_until_up

RELEASES = sized(20_000, 2_000)
CONNECTIONS = sized(50, 5)
SECONDS = sized(8, 1)
HIT_URL = "/api/artists?release_limit=50"
WRK_INSTALL = "apt-get install -y wrk (Debian/Ubuntu), brew install wrk (macOS)"

# Requests spread over 36,500 different answers, picked at random by each connection.
MISS_SCRIPT = """
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  local path = "/api/artists?release_limit=" .. math.random(1, 100) .. "&days=" .. math.random(1, 365)
  return wrk.format("GET", path)
end
"""
RELEASES_MISS_SCRIPT = MISS_SCRIPT.replace("/api/artists?release_limit=", "/api/releases?limit=")
CONDITIONAL_SCRIPT = 'wrk.headers["If-None-Match"] = {etag}\n'


async def grow_copy(database_url: str, total: int) -> int:
    """Add generated releases (1-3 artists each, dated over the last 60 days) up to `total`."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            have = int(await connection.scalar(text("SELECT count(*) FROM releases")) or 0)
            more = max(0, total - have)
            artists = max(1, more * 2 // 5)
            await connection.execute(
                text(
                    "INSERT INTO artists (id, name, url) SELECT 'bench-artist-' || n, "
                    "'Generated Artist ' || n || ' & The ' || md5(n::text), "
                    "'https://open.spotify.com/artist/bench' || n "
                    "FROM generate_series(1, :artists) AS n ON CONFLICT DO NOTHING"
                ),
                {"artists": artists},
            )
            await connection.execute(
                text(
                    "INSERT INTO releases (id, name, album_type, release_date, "
                    "release_date_precision, total_tracks, image_url, url) "
                    "SELECT 'bench-release-' || n, 'Generated Release ' || md5(n::text), "
                    "CASE WHEN n % 3 = 0 THEN 'album' ELSE 'single' END, "
                    "current_date - (n % 60), 'day', 1 + n % 14, "
                    "'https://i.scdn.co/image/bench' || n, "
                    "'https://open.spotify.com/album/bench' || n "
                    "FROM generate_series(1, :more) AS n"
                ),
                {"more": more},
            )
            await connection.execute(
                text(
                    "INSERT INTO release_artists (release_id, artist_id, position) "
                    "SELECT 'bench-release-' || n, 'bench-artist-' || (1 + (n * k) % :artists), "
                    "k - 1 FROM generate_series(1, :more) AS n, generate_series(1, 3) AS k "
                    "WHERE k <= 1 + n % 3 ON CONFLICT DO NOTHING"
                ),
                {"more": more, "artists": artists},
            )
            await connection.execute(text("ANALYZE releases, artists, release_artists"))
            return int(await connection.scalar(text("SELECT count(*) FROM releases")) or 0)
    finally:
        await engine.dispose()


async def ingest_every_second(
    database_url: str, stop: asyncio.Event, mine: Callable[[int], None]
) -> int:
    """What an ingestion does to the copy, once a second: upserted releases' last_seen moves.

    Its PostgreSQL backends are told to `mine` (their CPU is not the web process's)."""
    engine = create_engine(database_url, pool_size=1)
    writes = 0
    try:
        while not stop.is_set():
            async with engine.begin() as connection:
                mine(int(await connection.scalar(text("SELECT pg_backend_pid()")) or 0))
                await connection.execute(
                    text(
                        "UPDATE releases SET last_seen = now() WHERE id IN "
                        "(SELECT id FROM releases ORDER BY random() LIMIT 50)"
                    )
                )
            writes += 1
            try:
                await asyncio.wait_for(stop.wait(), 1.0)
            except TimeoutError:
                pass
    finally:
        await engine.dispose()
    return writes


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Backends:
    """CPU used by the PostgreSQL backends of the bench's database, but for the bench's own
    (the sandbox's, the writer's), when PostgreSQL runs on this machine.

    Backends come and go (a pool past its size opens and closes connections under load), so
    a thread samples the postmaster's children every 20 ms and keeps each one's CPU as last
    seen: one that ended counts up to its last sample."""

    PERIOD = 0.02

    def __init__(self, database_url: str) -> None:
        self._engine = create_engine(database_url, pool_size=1)
        self._database = make_url(database_url).database
        self.mine: set[int] = set()
        self._postmaster: int | None = None
        self._ours: dict[int, bool] = {}  # pids of backends of the bench's database
        self._cpu: dict[int, float] = {}  # pid -> CPU seconds, as last seen
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    async def start(self) -> None:
        """Every backend open now is the bench's own (call before the web process starts)."""
        async with self._engine.connect() as connection:
            own = int(await connection.scalar(text("SELECT pg_backend_pid()")) or 0)
        try:
            if not Path(f"/proc/{own}/cmdline").read_bytes().startswith(b"postgres"):
                return  # another machine's process ids
            self._postmaster = int(
                Path(f"/proc/{own}/stat").read_text().rsplit(")", 1)[1].split()[1]
            )
        except OSError:
            return
        self._sample()
        self.mine |= set(self._cpu)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        try:
            children = Path(f"/proc/{self._postmaster}/task/{self._postmaster}/children")
            pids = [int(pid) for pid in children.read_text().split()]
        except OSError:
            return
        for pid in pids:
            try:
                if pid not in self._ours:
                    # A backend names its database in its title once it authenticated (not
                    # yet just after the fork): only a match is remembered.
                    title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                    if f" {self._database} " in title:
                        self._ours[pid] = True
                if pid in self._ours:
                    used = cpu_seconds(pid)
                    with self._lock:
                        self._cpu[pid] = used
            except OSError:
                continue  # it ended meanwhile

    def _run(self) -> None:
        while not self._stop.wait(self.PERIOD):
            self._sample()

    def add_mine(self, pid: int) -> None:
        self.mine.add(pid)

    def snapshot(self) -> tuple[float, int] | None:
        """(CPU seconds so far, backends seen so far) of the backends serving the web process."""
        if self._thread is None:
            return None
        self._sample()
        with self._lock:
            theirs = {pid: used for pid, used in self._cpu.items() if pid not in self.mine}
        return sum(theirs.values()), len(theirs)

    async def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        await self._engine.dispose()


@dataclass
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    statuses: str


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


async def wrk(base: str, path: str, script: str | None) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script or "")
    command = [
        "wrk",
        f"-t{min(2, CONNECTIONS)}",
        f"-c{CONNECTIONS}",
        f"-d{SECONDS}s",
        "--latency",
        "-s",
        lua.name,
        base + path,
    ]
    child = await asyncio.create_subprocess_exec(
        *command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    output = (await child.communicate())[0].decode()
    os.unlink(lua.name)
    requests = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    assert requests is not None and child.returncode == 0, output
    seconds = _ms(requests.group(2) + requests.group(3)) / 1000
    # The latency distribution's own lines ("     50%    2.40ms"; seconds are padded: "1.42s "),
    # not a "+/- Stdev" share such as "85.50%" that happens to end in the same digits.
    p50 = re.search(r"^\s+50%\s+(\S+)\s*$", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)\s*$", output, re.M)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    statuses = f"non-2xx/3xx: {errors.group(1) if errors else 0}"
    if socket_errors:
        statuses += f"; socket errors: {socket_errors.group(1)}"
    return Load(
        int(requests.group(1)),
        seconds,
        _ms(p50.group(1)) if p50 else float("nan"),
        _ms(p99.group(1)) if p99 else float("nan"),
        statuses,
    )


async def python_client(
    base: str, path: str, etag: str | None, misses: bool, releases: bool = False
) -> Load:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    rng = random.Random(2026)
    deadline = time.monotonic() + SECONDS
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            headers = {"If-None-Match": etag} if etag else {}
            while time.monotonic() < deadline:
                url = base + path
                if misses:
                    route = "releases?limit" if releases else "artists?release_limit"
                    url = f"{base}/api/{route}={rng.randint(1, 100)}&days={rng.randint(1, 365)}"
                started = time.perf_counter()
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                latencies.append((time.perf_counter() - started) * 1000)

        began = time.monotonic()
        await asyncio.gather(*(client() for _ in range(CONNECTIONS)))
        elapsed = time.monotonic() - began
    return Load(
        len(latencies),
        elapsed,
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
        ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items())),
    )


async def run(
    base: str,
    pid: int,
    backends: Backends,
    label: str,
    goal: str,
    *,
    etag: str | None = None,
    misses: bool = False,
    releases: bool = False,
) -> list[object]:
    cpu_before, pg_before = cpu_seconds(pid), backends.snapshot()
    if shutil.which("wrk"):
        script = (RELEASES_MISS_SCRIPT if releases else MISS_SCRIPT) if misses else None
        if etag:
            script = CONDITIONAL_SCRIPT.format(etag="'" + etag + "'")
        load = await wrk(base, HIT_URL, script)
    else:
        load = await python_client(base, HIT_URL, etag, misses, releases)
    cpu = cpu_seconds(pid) - cpu_before
    pg_after = backends.snapshot()
    count = max(load.requests, 1)
    pg = "n/a"
    if pg_before is not None and pg_after is not None:
        pg = f"{(pg_after[0] - pg_before[0]) * 1000 / count:.3f} ms"
        pg += f" ({pg_after[1] - pg_before[1]} opened)"
    return [
        label,
        f"{load.requests:,}",
        f"{load.requests / load.seconds:,.0f}/s",
        f"{load.p50_ms:.1f} ms",
        f"{load.p99_ms:.1f} ms",
        f"{cpu * 1000 / count:.3f} ms",
        pg,
        load.statuses,
        goal,
    ]


async def main() -> int:
    client = "wrk" if shutil.which("wrk") else "a Python aiohttp client (slower)"
    if not shutil.which("wrk"):
        print(f"wrk is not installed; falling back to a Python client. Install it: {WRK_INSTALL}")
    async with (
        scratch_database("encore_bench") as database_url,
        Sandbox(database_url, settings={"release_search_cap": 1000}) as sandbox,
    ):
        await sandbox.services.releases.ingest()
        stored = await grow_copy(database_url, RELEASES)
        port = free_port()
        env = encore_env(
            sandbox.discord.base_url,
            sandbox.spotify.base_url,
            database_url,
            sandbox.settings.encryption_keys[0].get_secret_value(),
            WEB_PORT=str(port),
            PUBLIC_URL=f"http://127.0.0.1:{port}",
            WEB_API_MISS_LIMIT="0",  # the bench is one client walking every combination
            LOG_LEVEL="WARNING",
        )
        backends = Backends(database_url)
        await backends.start()
        with process([sys.executable, "-m", "bot", "web"], env) as web:
            base = f"http://127.0.0.1:{port}"
            await wait_until_up(f"{base}/health")
            async with aiohttp.ClientSession() as http, http.get(base + HIT_URL) as first:
                etag = first.headers["ETag"]
                size = len(await first.read())
            hits_goal = ">= 50x the challenge app (measured outside the project)"
            misses_goal = ">= 10x the challenge app (measured outside the project)"
            web_pid = web.pid
            rows = [
                await run(
                    base, web_pid, backends, f"hits, full body ({size / 1024:.0f} KiB)", hits_goal
                ),
                await run(
                    base, web_pid, backends, "hits, If-None-Match (304)", hits_goal, etag=etag
                ),
                await run(
                    base, web_pid, backends, "misses (cache defeated)", misses_goal, misses=True
                ),
            ]
            stop = asyncio.Event()
            writer = asyncio.create_task(ingest_every_second(database_url, stop, backends.add_mine))
            rows.append(
                await run(
                    base,
                    web_pid,
                    backends,
                    "hits while the copy changes every second",
                    "close to the hits' rate (single-flight fills)",
                )
            )
            stop.set()
            writes = await writer
            rows.append(
                await run(
                    base,
                    web_pid,
                    backends,
                    "/api/releases misses (cache defeated)",
                    "(no goal: the same path, one release list)",
                    misses=True,
                    releases=True,
                )
            )
        await backends.close()
        refused = await discord_refusals(sandbox.discord)
    print(
        table(
            f"GET /api/artists (and /api/releases), {CONNECTIONS} connections, {SECONDS} s each, {stored:,} releases "
            f"stored; load from {client}",
            [
                "request",
                "requests",
                "throughput",
                "p50",
                "p99",
                "web CPU/request",
                "PostgreSQL CPU/request (backends opened)",
                "statuses",
                "goal",
            ],
            rows,
        )
    )
    print(f"(the copy changed {writes} times during the run that says so)")
    print(
        f"\nMachine: {machine()}; `encore web` (one process) in its own process, the load "
        "generator on the same cores"
    )
    return verdict(refused)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
