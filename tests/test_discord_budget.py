"""Discord's global limit is the bot token's, whichever process sends: two clients drawing
from the shared budget in PostgreSQL are never refused; the same two on their own are."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import pytest
from sqlalchemy import select

from bot.discord_budget import DiscordBudget, counts_toward_global_limit
from bot.discord_setup import pace_by, point_discord_at
from bot.runtime import RestClient
from db.engine import create_engine, session_factory
from db.models import DiscordBudget as BudgetRow
from sandbox.discord import DiscordControl, DiscordEmulator

LIMIT = 10  # the emulator's global limit for this test: 10 requests/s per bot token
POSTS = 12  # by each of two "processes": 24 requests, over two seconds of the limit


@pytest.fixture
async def emulator() -> AsyncIterator[tuple[DiscordEmulator, DiscordControl]]:
    emu = DiscordEmulator(global_limit_per_s=LIMIT)
    base = await emu.start()
    point_discord_at(emu.api_url, emu.gateway_url)
    async with DiscordControl(base) as control:
        yield emu, control
    await emu.stop()


async def fan_out(
    emu: DiscordEmulator, channels: list[int], budget: DiscordBudget | None
) -> list[discord.Message | BaseException]:
    """One process: its own client (and connection pool), posting to every channel at once."""
    client = RestClient()
    if budget is not None:
        pace_by(budget, client)
    await client.login(emu.bot_token)
    try:
        return await asyncio.gather(
            *(client.get_partial_messageable(c).send("new releases") for c in channels),
            return_exceptions=True,
        )
    finally:
        await client.close()


async def channels(control: DiscordControl, count: int) -> list[list[int]]:
    guild = await control.create_guild(
        "Budget", channels=[{"name": f"c{n}"} for n in range(2 * count)]
    )
    ids = [int(c["id"]) for c in guild["channels"] if c["name"].startswith("c")]
    return [ids[:count], ids[count : 2 * count]]


async def test_two_processes_sharing_the_budget_are_never_refused_by_the_global_limit(
    emulator: tuple[DiscordEmulator, DiscordControl], clean_database: str
) -> None:
    emu, control = emulator
    first, second = await channels(control, POSTS)
    await asyncio.sleep(1.0)  # the setup's requests leave the global window
    engines = [create_engine(clean_database, pool_size=1) for _ in range(2)]
    # 8/s: ten requests span 1.125 s, a margin for the jitter of two event loops
    budgets = [DiscordBudget(session_factory(e), per_second=LIMIT - 2) for e in engines]
    try:
        sent = await asyncio.gather(
            fan_out(emu, first, budgets[0]), fan_out(emu, second, budgets[1])
        )
        async with session_factory(engines[0])() as session:
            granted = await session.scalar(select(BudgetRow.granted))
    finally:
        for engine in engines:
            await engine.dispose()

    posted = [m for messages in sent for m in messages if isinstance(m, discord.Message)]
    assert len(posted) == 2 * POSTS
    assert (await control.ratelimits())["global_429s"] == 0
    assert granted is not None and granted >= 2 * POSTS + 2  # the logins drew from it too


async def test_the_same_two_processes_pacing_nothing_are_refused(
    emulator: tuple[DiscordEmulator, DiscordControl],
) -> None:
    emu, control = emulator
    first, second = await channels(control, POSTS)
    await asyncio.sleep(1.0)

    await asyncio.gather(fan_out(emu, first, None), fan_out(emu, second, None))

    # discord.py waits out most of them; some it gives up on after five tries
    assert (await control.ratelimits())["global_429s"] > 0


@pytest.mark.parametrize(
    ("url", "authorization", "counts"),
    [
        ("https://discord.com/api/v10/channels/1/messages", "Bot abc", True),
        ("https://discord.com/api/v10/users/@me/channels", "Bot abc", True),
        ("https://discord.com/api/v10/interactions/1/tok/callback", None, False),
        ("https://discord.com/api/v10/interactions/1/tok/callback", "Bot abc", False),
        ("https://discord.com/api/v10/webhooks/1/tok?wait=1", None, False),
        ("https://discord.com/api/v10/users/@me", "Bearer person", False),
        ("wss://gateway.discord.gg/?v=10", None, False),
    ],
)
def test_only_the_bots_own_requests_draw_from_the_budget(
    url: str, authorization: str | None, counts: bool
) -> None:
    assert counts_toward_global_limit(url, authorization) is counts
