"""Fixtures of the Discord emulator tests: an emulator, its control client, a small world
and a discord.py bot, all without internet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
import yarl

from sandbox.discord import DiscordControl, DiscordEmulator

from .bots import SandboxBot, make_bot, start_bot, stop_bot


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    old_base = discord.http.Route.BASE
    old_gw = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    e = DiscordEmulator()
    e.validator.require()  # a missing spec fails every emulator test loudly
    await e.start()
    discord.http.Route.BASE = e.api_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(e.gateway_url)
    try:
        yield e
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gw
        await e.stop()


@pytest.fixture
async def ctl(emu: DiscordEmulator) -> AsyncIterator[DiscordControl]:
    async with DiscordControl(emu.base_url) as c:
        yield c


@pytest.fixture
async def world(ctl: DiscordControl) -> dict[str, Any]:
    alice = await ctl.create_user("alice")
    bob = await ctl.create_user("bob", dms_open=False)
    guild = await ctl.create_guild(
        "Test Guild",
        owner_id=alice["id"],
        channels=[{"name": "general"}, {"name": "announcements", "bot_can_post": False}],
    )
    return {
        "alice": alice,
        "bob": bob,
        "guild": guild,
        "general": guild["channels"][0],
        "locked": guild["channels"][1],
    }


@pytest.fixture
async def bot(emu: DiscordEmulator, world: dict[str, Any]) -> AsyncIterator[SandboxBot]:
    b = make_bot()
    task = await start_bot(b, emu)
    await b.tree.sync()
    try:
        yield b
    finally:
        await stop_bot(b, task)
