"""The release radar for 1,000 members following 150 artists each (about 50,000 distinct
artists from a skewed popularity distribution):

1. Spotify calls per full checker cycle (goal: one per distinct artist, none per member),
   measured: the real checker against the Spotify emulator, two cycles (the first look at
   an artist, and a steady cycle a day later), counted in the emulator's request log.
2. Release -> DM time (p50, p95) under RADAR_CALLS_PER_HOUR = 1,000, on a **simulated
   clock**: four weeks of the checker's policy (the shared token bucket, oldest-due first,
   `check_interval`, the members' `next_delivery`, all from `bot.radar.schedule`) with
   releases landing mostly at Friday 00:00 UTC. Other budgets are shown for comparison.
3. The cost of a member's /radar list (p50, p95 ms): reading the watchlist from PostgreSQL
   and rendering the first page (the lazy Spotify refresh runs at most once a day: its
   calls per member are counted in 1).

`python bench/radar.py [--members N] [--follows K]` (defaults 1,000 and 150).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import heapq
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, update

from bench.report import machine, percentile, table
from bot.radar import RadarChecker, check_interval, next_delivery
from bot.ui.radar import watchlist_embed
from db.models import RadarArtist, RadarWatch, SpotifyLink
from sandbox.database import scratch_database
from sandbox.harness import Sandbox

SEED = 17
CATALOGUE = 60_000  # emulator artists: 3,000 popular ones and a long tail
UNIFORM = 0.8  # a follow is drawn uniformly from the catalogue; the rest by popularity
ALL_SCOPES = "user-read-private user-follow-read user-top-read playlist-modify-private"


def draw_follows(members: int, follows: int, catalogue: int) -> list[list[int]]:
    """Each member's artists: mostly the long tail, a fifth Zipf-like among the popular."""
    rng = random.Random(SEED)
    chosen: list[list[int]] = []
    for _ in range(members):
        mine: set[int] = set()
        while len(mine) < follows:
            if rng.random() < UNIFORM:
                mine.add(int(rng.random() * catalogue))
            else:
                mine.add(int(3000 * rng.random() ** 3))  # artist 0 is the most popular
        chosen.append(sorted(mine))
    return chosen


async def populate(sandbox: Sandbox, follows: list[list[int]]) -> int:
    music = sandbox.spotify_emulator.catalog.music
    now = dt.datetime.now(dt.UTC)
    distinct = sorted({a for mine in follows for a in mine})
    async with sandbox.services.sessions() as session, session.begin():
        await session.execute(
            insert(SpotifyLink),
            [
                {
                    "discord_user_id": 10_000 + m,
                    "spotify_account_id": f"bench{m}",
                    "spotify_user_id": f"bench{m}",
                    "display_name": f"Bench {m}",
                    "access_token": b"-",
                    "refresh_token": b"-",
                    "access_expires_at": now,
                    "scopes": ALL_SCOPES,
                    "authorized_at": now,
                }
                for m in range(len(follows))
            ],
        )
        rows = [
            {
                "discord_user_id": 10_000 + m,
                "artist_id": music.artists[a].id,
                "source": "followed",
                "artist_name": music.artists[a].name,
            }
            for m, mine in enumerate(follows)
            for a in mine
        ]
        for start in range(0, len(rows), 5000):
            await session.execute(insert(RadarWatch), rows[start : start + 5000])
        artists = [
            {"artist_id": music.artists[a].id, "name": music.artists[a].name, "next_check_at": now}
            for a in distinct
        ]
        for start in range(0, len(artists), 5000):
            await session.execute(insert(RadarArtist), artists[start : start + 5000])
    return len(distinct)


async def cycle(sandbox: Sandbox, now: dt.datetime) -> tuple[int, Counter[str], float]:
    """One full cycle at `now` with a budget that never holds it back: checked, calls, time."""
    checker = RadarChecker(
        sandbox.services.sessions,
        sandbox.services.spotify,
        sandbox.services.clock,
        calls_per_hour=1e9,
        worker="bench",
        batch=200,
        parallel=8,
    )
    await sandbox.spotify.clear_requests()
    started = time.perf_counter()
    checked = 0
    while True:
        report = await checker.tick(now)
        checked += report.checked
        if report.checked == 0:
            break
    elapsed = time.perf_counter() - started
    log = await sandbox.spotify.requests()
    calls = Counter("app" if entry.get("user") == "app" else "member" for entry in log)
    calls["albums"] = sum(1 for e in log if e.get("endpoint") == "/v1/artists/{id}/albums")
    return checked, calls, elapsed


def simulate(
    watchers: dict[int, list[int]], per_hour: float, *, weeks: int = 4, releases: int = 2000
) -> tuple[float, float, float]:
    """Release -> DM hours (p50, p95) and the share delivered within a week, simulated.

    `watchers`: artist -> the members who watch it. Every member has the default radar
    (Friday 09:00 UTC). Releases land at Friday 00:00 UTC (80 %) or any time (20 %) of
    weeks 2..weeks; the first week warms the checker up.
    """
    rng = random.Random(SEED)
    start = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)  # a Monday
    artists = list(watchers)
    landing: dict[int, list[dt.datetime]] = {}
    for _ in range(releases):
        week = 1 + int(rng.random() * (weeks - 2))
        friday = start + dt.timedelta(weeks=week, days=4)
        when = (
            friday if rng.random() < 0.8 else friday + dt.timedelta(hours=rng.random() * 168 - 96)
        )
        landing.setdefault(artists[int(rng.random() * len(artists))], []).append(when)
    due = [(start, a) for a in artists]
    heapq.heapify(due)
    gap = dt.timedelta(seconds=3600 / per_hour)
    now, end = start, start + dt.timedelta(weeks=weeks)
    seen: dict[tuple[int, dt.datetime], dt.datetime] = {}
    while now < end and due:
        when, artist = heapq.heappop(due)
        now = max(now, when)
        for released in landing.get(artist, []):
            if released <= now and (artist, released) not in seen:
                seen[(artist, released)] = now
        heapq.heappush(due, (now + check_interval(now), artist))
        now += gap
    latencies: list[float] = []
    missed = 0
    for artist, times in landing.items():
        for released in times:
            found = seen.get((artist, released))
            if found is None:
                missed += len(watchers[artist])
                continue
            delivered, _ = next_delivery(found, 4, dt.time(9, 0), "UTC")
            hours = (delivered - released).total_seconds() / 3600
            latencies += [hours] * len(watchers[artist])
    total = len(latencies) + missed
    within_week = sum(1 for h in latencies if h <= 168) / total if total else 0.0
    return percentile(latencies, 0.5), percentile(latencies, 0.95), within_week


async def list_cost(sandbox: Sandbox, members: int, samples: int = 200) -> tuple[float, float]:
    watchlist = sandbox.services.radar.watchlist
    rng = random.Random(SEED)
    timings: list[float] = []
    for _ in range(samples):
        user = 10_000 + int(rng.random() * members)
        started = time.perf_counter()
        found = await watchlist.watchlist(user)
        watchlist_embed(0, found)
        timings.append((time.perf_counter() - started) * 1000)
    return percentile(timings, 0.5), percentile(timings, 0.95)


async def main(members: int, follows: int) -> None:
    picks = draw_follows(members, follows, CATALOGUE)
    watchers: dict[int, list[int]] = {}
    for member, mine in enumerate(picks):
        for artist in mine:
            watchers.setdefault(artist, []).append(member)
    async with (
        scratch_database("encore_bench") as url,
        Sandbox(url, spotify_options={"artists": CATALOGUE}) as sandbox,
    ):
        distinct = await populate(sandbox, picks)
        now = dt.datetime.now(dt.UTC)
        first = await cycle(sandbox, now)
        async with sandbox.services.sessions() as session:
            await session.execute(update(RadarArtist).values(next_check_at=now))
            await session.commit()
        steady = await cycle(sandbox, now + dt.timedelta(days=1))
        async with sandbox.services.sessions() as session:
            never = await session.scalar(
                select(func.count()).where(RadarArtist.last_checked_at.is_(None))
            )
        p50_ms, p95_ms = await list_cost(sandbox, members)
    rows = []
    for label, (checked, calls, elapsed) in (
        ("first look", first),
        ("steady (a day later)", steady),
    ):
        rows.append(
            [
                label,
                checked,
                calls["albums"],
                calls["member"],
                f"{calls['albums'] / max(1, checked):.3f}",
                f"{elapsed:.0f} s",
            ]
        )
    print(
        table(
            f"Checker cycle: {members:,} members x {follows} follows = {distinct:,} distinct "
            "artists (goal: 1 call per distinct artist, 0 per member)",
            [
                "cycle",
                "artists checked",
                "/artists/{id}/albums",
                "member calls",
                "calls/artist",
                "wall time",
            ],
            rows,
        )
    )
    print(f"artists never checked: {never}")
    print(
        "a member's lazy watchlist refresh (at most daily): "
        f"{-(-follows // 50)} following pages + 3 top ranges = {-(-follows // 50) + 3} calls"
    )
    sims = []
    for budget in (1000, 5000, 20000):
        p50, p95, week = simulate(watchers, budget)
        hours_per_cycle = len(watchers) / budget
        sims.append(
            [
                f"{budget:,}/h" + (" (goal setting)" if budget == 1000 else ""),
                f"{hours_per_cycle:.1f} h",
                f"{p50:.1f} h",
                f"{p95:.1f} h",
                f"{week:.0%}",
            ]
        )
    print()
    print(
        table(
            "Release -> radar DM, simulated clock, 4 weeks, DMs Friday 09:00 UTC",
            ["budget", "full cycle", "p50", "p95", "DMed within a week"],
            sims,
        )
    )
    print()
    print(
        table(
            "/radar list (watchlist read + first page rendered, no Spotify call)",
            ["members", "follows", "p50", "p95"],
            [[members, follows, f"{p50_ms:.1f} ms", f"{p95_ms:.1f} ms"]],
        )
    )
    print(f"\nMachine: {machine()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--follows", type=int, default=150)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.members, arguments.follows))
