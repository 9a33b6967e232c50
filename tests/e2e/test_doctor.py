"""`encore doctor` against the emulators: each check's line, and what to do when it fails."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from bot.doctor import compare_commands, privileged_intents
from sandbox.database import scratch_database
from sandbox.discord import DiscordEmulator
from sandbox.processes import encore_env
from sandbox.spotify import SpotifyControl, SpotifyEmulator

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass
class World:
    discord: DiscordEmulator
    spotify: SpotifyEmulator
    cwd: Path

    def env(self, database_url: str, **extra: str) -> dict[str, str]:
        env = encore_env(
            self.discord.base_url,
            self.spotify.base_url or "",
            database_url,
            Fernet.generate_key().decode(),
        )
        return {**env, **extra}

    async def run(self, args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
        """`encore ARGS` in a process (the emulators keep answering on this event loop)."""
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *args,
            cwd=self.cwd,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), **env},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(child.communicate(), 120)
        return int(child.returncode or 0), out.decode(), err.decode()

    async def doctor(self, env: dict[str, str]) -> tuple[int, str]:
        status, out, err = await self.run(["doctor"], env)
        assert "Traceback" not in out + err, out + err
        return status, out


async def _world(tmp_path: Path, **spotify: Any) -> AsyncIterator[World]:
    discord, emulator = DiscordEmulator(), SpotifyEmulator(**spotify)
    await discord.start()
    await emulator.start()
    try:
        yield World(discord, emulator, tmp_path)
    finally:
        await discord.stop()
        await emulator.stop()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async for made in _world(tmp_path):
        yield made


def lines(output: str, status: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.strip().startswith(f"[{status}]")]


def todo_after(output: str, text: str) -> str:
    found = output.splitlines()
    for index, line in enumerate(found):
        if text in line:
            return found[index + 1].strip()
    raise AssertionError(f"no line with {text!r} in\n{output}")


async def test_a_healthy_deployment_passes_every_check(world: World, clean_database: str) -> None:
    env = world.env(clean_database)
    assert (await world.run(["sync-commands"], env))[0] == 0
    status, output = await world.doctor(env)
    assert status == 0, output
    assert lines(output, "FAIL") == [], output
    for expected in (
        "every setting a full Encore needs is there and valid",
        "answers",
        "the schema is at the newest revision",
        "Discord accepts DISCORD_TOKEN",
        f"application id {world.discord.application_id}",
        "no privileged intent is on",
        "global commands registered at Discord match this Encore",
        "Spotify accepts SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET",
    ):
        assert any(expected in line for line in lines(output, "ok")), (expected, output)
    assert "register in your Spotify app, exactly: http://127.0.0.1:8080/callback" in output
    assert "Every check passed." in output


async def test_discord_sign_in_for_personal_links_is_checked(
    world: World, clean_database: str
) -> None:
    base = world.env(clean_database)
    assert (await world.run(["sync-commands"], base))[0] == 0
    _, output = await world.doctor(base)
    assert any("no DISCORD_CLIENT_SECRET" in line for line in lines(output, "warn")), output
    assert "/discord/callback" in todo_after(output, "no DISCORD_CLIENT_SECRET")
    application = str(world.discord.application_id)
    secret = world.discord.settings.client_secret
    status, output = await world.doctor(
        {**base, "DISCORD_CLIENT_ID": application, "DISCORD_CLIENT_SECRET": secret}
    )
    assert status == 0, output
    assert any("Discord accepts DISCORD_CLIENT_SECRET" in line for line in lines(output, "ok"))
    assert "redirects, exactly: http://127.0.0.1:8080/discord/callback" in output
    status, output = await world.doctor(
        {**base, "DISCORD_CLIENT_ID": application, "DISCORD_CLIENT_SECRET": "not-the-secret"}
    )
    assert status == 1 and "Discord refuses DISCORD_CLIENT_ID / DISCORD_CLIENT_SECRET" in output
    status, output = await world.doctor(
        {**base, "DISCORD_CLIENT_ID": "1234", "DISCORD_CLIENT_SECRET": secret}
    )
    assert status == 1 and f"set DISCORD_CLIENT_ID={application}" in output


async def test_an_unready_deployment_gets_one_line_and_one_remedy_per_problem(
    tmp_path: Path,
) -> None:
    async for world in _world(tmp_path, client_secret="the-real-secret"):
        async with scratch_database("encore_doctor", migrate=False) as empty:
            status, output = await world.doctor(world.env(empty))
    assert status == 1, output
    assert "the database has no Encore schema yet" in output
    assert "encore migrate" in todo_after(output, "no Encore schema")
    assert "no global command is registered at Discord yet" in output
    assert "encore sync-commands" in todo_after(output, "no global command")
    assert (
        "Spotify refused SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET (400 invalid_client)" in output
    )
    assert "developer.spotify.com/dashboard" in todo_after(output, "Spotify refused")
    assert "3 problems found" in output


async def test_changed_commands_a_refused_redirect_and_development_mode(
    world: World, clean_database: str
) -> None:
    env = world.env(clean_database)
    assert (await world.run(["sync-commands"], env))[0] == 0
    await _edit_registered_commands(world.discord)
    async with SpotifyControl(world.spotify.base_url or "") as spotify:
        await spotify.settings(
            allowed_redirect_uris=["https://elsewhere.example.org/callback"],
            new_releases_available=False,
        )
    status, output = await world.doctor(env)
    assert status == 1, output
    differ = next(line for line in lines(output, "FAIL") if "global commands" in line)
    assert "not registered: /likes" in differ
    assert "changed since: /search" in differ
    assert "registered but gone: /old-command" in differ
    assert "Spotify refuses the redirect URI http://127.0.0.1:8080/callback" in output
    assert "Redirect URIs" in todo_after(output, "refuses the redirect URI")
    assert "development mode" in output and "at most 5 members" in output


async def _edit_registered_commands(discord: DiscordEmulator) -> None:
    """What an older Encore (or another bot on the same application) left registered."""
    url = f"{discord.api_url}/applications/{discord.application_id}/commands"
    headers = {"Authorization": f"Bot {discord.bot_token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(url) as response:
            registered = await response.json()
        edited = [c for c in registered if c["name"] != "likes"]
        for command in edited:
            if command["name"] == "search":
                command["description"] = "An older description"
        edited.append({"name": "old-command", "description": "gone", "type": 1})
        async with session.put(url, json=edited) as response:
            assert response.status == 200, await response.text()


async def test_a_refused_token_and_a_missing_database(world: World, clean_database: str) -> None:
    missing = make_url(clean_database).set(database="encore_no_such_database")
    env = world.env(
        missing.render_as_string(hide_password=False), DISCORD_TOKEN="a-token-discord-refuses"
    )
    status, output = await world.doctor(env)
    assert status == 1, output
    assert 'the database "encore_no_such_database" does not exist' in output
    assert "createdb" in todo_after(output, "does not exist")
    assert "Discord refused DISCORD_TOKEN (401 Unauthorized)" in output
    assert "Reset Token" in todo_after(output, "Discord refused")
    assert "a-token-discord-refuses" not in output


async def test_missing_settings_are_each_a_failed_line(world: World, clean_database: str) -> None:
    env = world.env(clean_database)
    for name in ("DISCORD_TOKEN", "SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "ENCRYPTION_KEYS"):
        env.pop(name)
    status, output = await world.doctor(env)
    assert status == 1, output
    failed = "\n".join(lines(output, "FAIL"))
    for name in ("DISCORD_TOKEN", "SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "ENCRYPTION_KEYS"):
        assert f"{name}:" in failed, output
    assert "the schema is at the newest revision" in output  # the database is still checked


def test_privileged_intents_are_read_from_the_application_flags() -> None:
    assert privileged_intents(0) == []
    assert privileged_intents((1 << 14) | (1 << 19)) == ["Message Content", "Server Members"]
    assert privileged_intents(1 << 13) == ["Presence"]


def test_commands_compare_equal_whatever_defaults_discord_fills_in() -> None:
    ours = {
        "name": "likes",
        "description": "Your likes",
        "type": 1,
        "options": [{"type": 6, "name": "member", "description": "Whose", "required": False}],
        "nsfw": False,
        "dm_permission": True,
        "default_member_permissions": 32,
        "contexts": None,
        "integration_types": None,
    }
    theirs = {
        **ours,
        "id": "1",
        "application_id": "2",
        "version": "3",
        "default_member_permissions": "32",
        "integration_types": [0],
        "options": [{"type": 6, "name": "member", "description": "Whose"}],
    }
    assert compare_commands([ours], [theirs]) == ([], [], [])
    option: dict[str, object] = {"type": 6, "name": "member", "description": "Whose"}
    other = {**theirs, "options": [{**option, "required": True}]}
    assert compare_commands([ours], [other]) == ([], ["likes"], [])
