"""The operator's commands against the Discord emulator: invite-url and sync-commands."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from sandbox.discord import DiscordControl, DiscordEmulator
from sandbox.processes import encore_env

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
async def discord() -> AsyncIterator[tuple[DiscordEmulator, DiscordControl]]:
    emulator = DiscordEmulator()
    base = await emulator.start()
    async with DiscordControl(base) as control:
        yield emulator, control
    await emulator.stop()


async def encore(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await child.communicate()
    return int(child.returncode or 0), output.decode()


async def test_invite_url_asks_for_exactly_the_permissions_encore_needs(
    discord: tuple[DiscordEmulator, DiscordControl], clean_database: str
) -> None:
    emulator, _ = discord
    env = encore_env(
        emulator.base_url, "http://127.0.0.1:9", clean_database, Fernet.generate_key().decode()
    )
    status, output = await encore(["invite-url"], env)
    assert status == 0, output
    assert f"client_id={emulator.application_id}" in output
    assert "scope=bot+applications.commands" in output
    assert "permissions=19456" in output  # View Channel, Send Messages, Embed Links
    # and the user install, for personal commands anywhere: no bot, no permissions
    assert (
        f"client_id={emulator.application_id}&integration_type=1&scope=applications.commands"
        in output
    )


async def test_sync_commands_for_one_server_registers_every_command_there(
    discord: tuple[DiscordEmulator, DiscordControl], clean_database: str
) -> None:
    emulator, control = discord
    guild = await control.create_guild("Testing")
    env = encore_env(
        emulator.base_url, "http://127.0.0.1:9", clean_database, Fernet.generate_key().decode()
    )
    status, output = await encore(["sync-commands", "--guild", str(guild["id"])], env)
    assert status == 0, output
    assert "Registered" in output and f"server {guild['id']}" in output
    synced = await control.commands()
    names = {command["name"] for command in synced["guilds"][str(guild["id"])]}
    assert {
        "link",
        "account",
        "playlists",
        "search",
        "like",
        "likes",
        "shuffle",
        "releases",
        "digest",
    } <= names
