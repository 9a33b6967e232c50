"""Refresh single-flight and concurrent linking, through the sandbox and a real PostgreSQL.

- 100 concurrent commands from one user whose access token has expired: Spotify refreshes.
- 100 members linking at once: how many succeed and are confirmed exactly once, how long
  from consent to the confirmation DM (goal p95 < 2 s), and from /link to each.
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
from tests.drains import outbox_drained

COMMANDS = sized(100, 10)
LINKERS = sized(100, 5)
RATE = 45.0  # DISCORD_GLOBAL_RATE


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


async def concurrent_linking(sandbox: Sandbox, database_url: str) -> list[list[object]]:
    """Every member runs /link at the same moment, then opens the link, signs in and consents.
    Times per member: from /link to the callback's page, and from their consent to the
    confirmation DM ("... is now linked"), which must arrive exactly once."""
    for index in range(LINKERS):
        await sandbox.spotify.create_user(f"linker{index}", display_name=f"Linker {index}")
    users = [await sandbox.user(f"linker{index}") for index in range(LINKERS)]
    started_at: dict[int, float] = {}
    consented_at: dict[int, float] = {}

    async def one(index: int) -> int:
        started_at[users[index]] = time.time()
        outcome = await sandbox.link(users[index], f"linker{index}")
        consented_at[users[index]] = time.time()
        return outcome.status

    since = time.time()
    statuses = await asyncio.gather(*(one(i) for i in range(LINKERS)))
    await outbox_drained(database_url, timeout=120)
    elapsed = time.time() - since
    confirmed: dict[int, list[float]] = {}
    for message in await sandbox.discord.messages(kind="dm", since=since):
        if "is now linked" in (message["content"] or ""):
            confirmed.setdefault(int(message["dm_user_id"]), []).append(message["created_at"])
    ok = sum(1 for status in statuses if status == 200)
    once = sum(1 for user in users if len(confirmed.get(user, [])) == 1)
    to_callback = [consented_at[user] - started_at[user] for user in users]
    to_dm = [confirmed[user][0] - consented_at[user] for user in users if user in confirmed]
    whole = [confirmed[user][0] - started_at[user] for user in users if user in confirmed]
    return [
        [
            "consent -> confirmation DM (goal p95 < 2 s)",
            f"{ok}/{LINKERS}",
            f"{once}/{LINKERS}",
            f"{percentile(to_dm, 0.5):.2f} s",
            f"{percentile(to_dm, 0.95):.2f} s",
            f"{elapsed:.2f} s",
        ],
        [
            "/link -> callback page",
            "",
            "",
            f"{percentile(to_callback, 0.5):.2f} s",
            f"{percentile(to_callback, 0.95):.2f} s",
            "",
        ],
        [
            "/link -> confirmation DM",
            "",
            "",
            f"{percentile(whole, 0.5):.2f} s",
            f"{percentile(whole, 0.95):.2f} s",
            "",
        ],
    ]


async def main() -> int:
    async with scratch_database("encore_bench") as url:
        async with Sandbox(url, settings={"web_rate_limit": 0}) as sandbox:
            refresh_row = await refresh_single_flight(sandbox)
            refused = await discord_refusals(sandbox.discord)
        async with Sandbox(url, settings={"web_rate_limit": 0}) as sandbox:
            link_rows = await concurrent_linking(sandbox, url)
            global_429s = (await sandbox.discord.ratelimits())["global_429s"]
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
            f"{LINKERS} members linking at once (/link, DM, Discord sign-in, consent, callback, "
            "confirmation DM)",
            ["per member", "linked", "confirmed once", "p50", "p95", "total"],
            link_rows,
        )
    )
    print(
        f"Global 429s: {global_429s} (goal 0). Every member's /link DM and confirmation DM draw "
        f"from the bot's {RATE:g} requests/s, so /link -> confirmation for {LINKERS} members at "
        f"the same moment cannot be under {LINKERS * 2 / RATE:.1f} s for the last of them."
    )
    print(f"\nMachine: {machine()}")
    return verdict(refused)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
