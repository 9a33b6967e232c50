"""Each role imports only what it runs: `encore gateway`, up with its shard connected, has not
imported the web server, the scheduler, the metrics endpoint or alembic (bot/runtime.py imports
them where their role starts them), nor spotipy and what it pulls in (redis, requests, urllib3,
charset_normalizer: bot/spotify/webapi.py calls the Web API over http.client). What a process
imports it keeps in memory for its life."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from sandbox.cluster import shards_ready
from sandbox.discord import DiscordControl, DiscordEmulator
from sandbox.processes import encore_env, process
from sandbox.spotify import SpotifyEmulator

# `encore ROLE`, writing the names of every module it imported when it exits.
WITH_MODULES_LISTED = (
    "import atexit, json, os, sys\n"
    "atexit.register(lambda: open(os.environ['MODULES_FILE'], 'w').write("
    "json.dumps(sorted(sys.modules))))\n"
    "from bot.__main__ import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)

NOT_THE_GATEWAYS = (
    "aiohttp.web",
    "aiohttp.web_app",
    "apscheduler",
    "alembic",
    "bot.web",
    "bot.web_link",
    "bot.web_security",
    "bot.api",
    "bot.scheduler",
    "bot.observability",
    "spotipy",
    "redis",
    "requests",
    "urllib3",
    "charset_normalizer",
)


async def imported_by(role: str, database_url: str, tmp_path: Path) -> set[str]:
    """The modules `encore <role>` imported, from start to a clean stop once it was up."""
    discord_emulator, spotify_emulator = DiscordEmulator(), SpotifyEmulator()
    discord_base = await discord_emulator.start()
    spotify_base = await spotify_emulator.start()
    listed = tmp_path / f"{role}-modules.json"
    env = {
        **encore_env(discord_base, spotify_base, database_url, Fernet.generate_key().decode()),
        "MODULES_FILE": str(listed),
    }
    log = tmp_path / f"{role}.log"
    try:
        async with DiscordControl(discord_base) as discord:
            await discord.create_guilds_bulk(3, "server")
            with process([sys.executable, "-c", WITH_MODULES_LISTED, role], env, log=log) as child:
                await shards_ready(discord, 1, 3, log.read_text)
                child.send_signal(signal.SIGTERM)
                assert child.wait(timeout=30) == 0, log.read_text()
    finally:
        await discord_emulator.stop()
        await spotify_emulator.stop()
    return set(json.loads(listed.read_text()))


async def test_the_gateway_imports_neither_the_web_server_nor_the_scheduler(
    clean_database: str, tmp_path: Path
) -> None:
    modules = await imported_by("gateway", clean_database, tmp_path)

    # (its cogs were loaded too, but discord.py unloads extensions when the bot closes)
    assert {
        "bot.client",
        "bot.guild_cache",
        "bot.ui.digest_poster",
        "bot.spotify.webapi",
    } <= modules
    assert sorted(name for name in modules if name.startswith(NOT_THE_GATEWAYS)) == []
