"""Resident memory of the gateway process with 1,000 and 10,000 lived-in servers in the Discord
emulator: each GUILD_CREATE carries tens of channels (categories, text with topics and role
overwrites, voice) and roles, active threads, custom emojis and stickers
(`sandbox/discord/furniture.py`).

Idle figures flatter a process that imports lazily, so the 10,000-server gateway is measured
again after it has served one of each slash command (every command the emulator has
registered, with its required options filled in, from a member linked through an `encore web`
beside it): whatever a command imported counts from then on.

`--baseline DIR` measures another source tree too (e.g. `git archive main`), each scenario
run on both trees one after the other against the same emulator, so both columns share the
machine's load of that minute.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.fernet import Fernet

from bench.report import discord_refusals, machine, sized, table, verdict
from sandbox.browser import Browser, follow_link
from sandbox.database import scratch_database
from sandbox.discord import DiscordControl, furniture
from sandbox.harness import MANAGE_GUILD, MEMBER
from sandbox.processes import (
    ROOT,
    emulator,
    encore_env,
    free_port,
    process,
    rss_mib,
    sync_commands,
    wait_until_up,
)
from sandbox.spotify import SpotifyControl

SERVERS = sized(10_000, 100)
FIRST = sized(1_000, 10)
GOAL_MIB = 100
# Commands that end what the others need run last, in this order.
LAST = ("shuffle stop", "unlink", "forget-me")
WORDS = {"query": "love", "artist": "Taylor", "time": "09:00", "timezone": "Europe/Paris"}


async def ready_guilds(control: DiscordControl) -> int:
    """Servers on connected shards (-1 while no shard is connected)."""
    state = await control.state()
    connected = [shard for shard in state.get("shards", []) if shard.get("connected")]
    if not connected:
        return -1
    return sum(len(shard.get("guild_ids") or []) for shard in connected)


Served = Callable[[], Awaitable[int]]


async def gateway_rss(
    control: DiscordControl,
    env: dict[str, str],
    servers: int,
    tree: Path,
    then: Served | None = None,
) -> tuple[float, float, float | None, int]:
    """One `encore gateway` from `tree`: (seconds until every server arrived, resident MiB
    then, resident MiB after `then` served commands, how many it served)."""
    with process([sys.executable, "-m", "bot", "gateway"], env, cwd=tree) as gateway:
        started = time.monotonic()
        while await ready_guilds(control) < servers and time.monotonic() - started < 300:
            await asyncio.sleep(0.5)
        ready_after = time.monotonic() - started
        if await ready_guilds(control) < servers:
            raise SystemExit(f"FAIL: only {await ready_guilds(control)} of {servers} servers")
        await asyncio.sleep(3)  # let GUILD_CREATE processing settle
        idle = rss_mib(gateway.pid)
        if then is None:
            return ready_after, idle, None, 0
        served = await then()
        await asyncio.sleep(3)  # let the last answers and DMs go out
        return ready_after, idle, rss_mib(gateway.pid), served


def slash_commands(registered: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Every chat-input command and subcommand: (full name, its options)."""
    found: list[tuple[str, list[dict[str, Any]]]] = []

    def walk(prefix: str, options: list[dict[str, Any]]) -> None:
        subs = [o for o in options if o.get("type") in (1, 2)]
        if not subs:
            found.append((prefix, options))
        for sub in subs:
            walk(f"{prefix} {sub['name']}", sub.get("options") or [])

    for command in registered.get("global", []):
        if command.get("type", 1) == 1:
            walk(command["name"], command.get("options") or [])
    first = [c for c in found if c[0] == "link"]
    middle = sorted(c for c in found if c[0] != "link" and c[0] not in LAST)
    last = sorted((c for c in found if c[0] in LAST), key=lambda c: LAST.index(c[0]))
    return first + middle + last


def filled(options: list[dict[str, Any]], member: int, channel: int) -> dict[str, Any]:
    """The required options, with a plausible value each."""
    values: dict[str, Any] = {}
    for option in options:
        if not option.get("required"):
            continue
        kind, name = option.get("type"), option["name"]
        if option.get("choices"):
            values[name] = option["choices"][0]["value"]
        elif kind == 3:
            values[name] = WORDS.get(name, "love")
        elif kind in (4, 10):
            values[name] = option.get("min_value", 1)
        elif kind == 5:
            values[name] = True
        elif kind == 6:
            values[name] = member
        elif kind == 7:
            values[name] = channel
    return values


async def every_command(
    control: DiscordControl,
    spotify: SpotifyControl,
    guild_id: int,
    channel_id: int,
    public_url: str,
    name: str,
) -> int:
    """A member links (the DM's link followed in a browser), then runs every slash command
    once in a lived-in server; returns how many were answered."""
    await spotify.create_user(name, liked=60, playlists=3)
    member = int((await control.create_user(name))["id"])
    await control.grant_command(guild_id, "digest")
    answered = 0
    for full_name, options in slash_commands(await control.commands()):
        injected = await control.command(
            full_name,
            member,
            guild_id=guild_id,
            channel_id=channel_id,
            options=filled(options, member, channel_id),
            permissions=MANAGE_GUILD | MEMBER,
        )
        record = await control.interaction(injected["id"], wait=20, until="answered")
        answered += record.get("response") is not None
        if full_name == "link":
            url = next(
                component["url"]
                for message in await control.dms(member)
                for row in message.get("components") or []
                for component in row["components"]
                if str(component.get("url", "")).startswith(f"{public_url}/link/")
            )
            async with Browser() as browser:
                outcome = await follow_link(
                    browser,
                    url,
                    discord=control,
                    spotify=spotify,
                    spotify_user=name,
                    discord_user=member,
                )
            assert outcome.status == 200, outcome.page
    return answered


async def measure(
    discord_base: str,
    spotify_base: str,
    database_url: str,
    trees: list[tuple[str, Path]],
    refused: list[str],
) -> list[list[object]]:
    rows: list[list[object]] = []
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    env = encore_env(
        discord_base,
        spotify_base,
        database_url,
        Fernet.generate_key().decode(),
        PUBLIC_URL=public_url,
        WEB_PORT=str(port),
        WEB_RATE_LIMIT="0",
    )
    labels = [label for label, _ in trees]
    figures: dict[str, dict[str, str]] = {label: {} for label in labels}
    async with DiscordControl(discord_base) as control, SpotifyControl(spotify_base) as spotify:
        for label, tree in trees:
            _, empty = (await gateway_rss(control, {**env, "PYTHONPATH": str(tree)}, 0, tree))[:2]
            figures[label]["empty"] = f"{empty:.0f} MiB"
        created = await control.create_guilds_bulk(FIRST, "server", furnished=True)
        guild_id, channel_id = int(created["guild_ids"][0]), int(created["channel_ids"][0])
        first: dict[str, float] = {}
        for label, tree in trees:
            ready, rss, _, _ = await gateway_rss(
                control, {**env, "PYTHONPATH": str(tree)}, FIRST, tree
            )
            first[label] = rss
            figures[label]["first"] = f"{rss:.0f} MiB ({ready:.0f} s)"
        await control.create_guilds_bulk(SERVERS - FIRST, "more", furnished=True)
        for index, (label, tree) in enumerate(trees):
            tree_env = {**env, "PYTHONPATH": str(tree)}
            await sync_commands(tree_env, tree)
            with process([sys.executable, "-m", "bot", "web"], tree_env, cwd=tree):
                await wait_until_up(f"{public_url}/health")

                async def served(tree_index: int = index) -> int:
                    return await every_command(
                        control, spotify, guild_id, channel_id, public_url, f"member{tree_index}"
                    )

                ready, rss, after, answered = await gateway_rss(
                    control, tree_env, SERVERS, tree, then=served
                )
            per_thousand = (rss - first[label]) / ((SERVERS - FIRST) / 1000)
            commands = len(slash_commands(await control.commands()))
            figures[label]["all"] = f"{rss:.0f} MiB ({ready:.0f} s)"
            figures[label]["per"] = f"{per_thousand:.2f} MiB"
            figures[label]["used"] = f"{after:.0f} MiB ({answered}/{commands} answered)"
        scenarios = [
            ("no servers (what the process costs)", "empty", ""),
            (f"{FIRST:,} servers (all received after)", "first", ""),
            (f"{SERVERS:,} servers (all received after)", "all", f"< {GOAL_MIB} MiB"),
            ("each 1,000 servers more", "per", ""),
            (f"{SERVERS:,} servers, after one of each slash command", "used", f"< {GOAL_MIB} MiB"),
        ]
        for title, key, goal in scenarios:
            rows.append([title, *(figures[label][key] for label in labels), goal])
        print(
            f"Each server: {furniture.CATEGORIES} categories, {furniture.TEXT_CHANNELS + 1} text and "
            f"{furniture.VOICE_CHANNELS} voice channels, {furniture.ROLES + 2} roles, "
            f"{furniture.THREADS} threads, {furniture.EMOJIS} emojis, {furniture.STICKERS} stickers\n"
        )
        refused.extend(await discord_refusals(control))
    return rows


async def main(argv: list[str]) -> int:
    trees = [("resident memory", ROOT)]
    if "--baseline" in argv:
        baseline = Path(argv[argv.index("--baseline") + 1]).resolve()
        trees = [(f"baseline {baseline.name}", baseline), ("this tree", ROOT)]
    refused: list[str] = []
    async with (
        emulator("discord") as discord_base,
        emulator("spotify") as spotify_base,
        scratch_database("encore_bench") as url,
    ):
        rows = await measure(discord_base, spotify_base, url, trees, refused)
    print(
        table(
            "Gateway process memory (encore gateway, lived-in servers, emulator in its own process)",
            ["scenario", *(label for label, _ in trees), "goal"],
            rows,
        )
    )
    print(f"\nMachine: {machine()}")
    return verdict(refused)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
