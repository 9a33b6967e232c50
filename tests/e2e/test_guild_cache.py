"""The gateway keeps a lived-in server as a bare server (id, name, owner, member count), and
/digest channel still resolves its channel and checks the bot's permissions there, asking
Discord. Servers joined and left are still counted and their events still dispatched.

The servers are furnished as real ones are (`sandbox/discord/furniture.py`: categories, text
channels with topics and role overwrites, voice channels, tens of roles, threads, emojis,
stickers in GUILD_CREATE)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import discord

from bot.guild_cache import BareGuild
from sandbox.harness import MANAGE_GUILD, MEMBER, Sandbox
from tests.drains import until

ADMIN = MANAGE_GUILD | MEMBER


async def lived_in_server(sandbox: Sandbox) -> tuple[int, int]:
    """A furnished server the bot was just added to: (guild id, its first text channel)."""
    created = await sandbox.discord.create_guilds_bulk(1, "lived-in", furnished=True)
    guild_id, channel_id = int(created["guild_ids"][0]), int(created["channel_ids"][0])
    await sandbox.discord.grant_command(guild_id, "digest")
    deadline = time.monotonic() + 15
    while sandbox.bot.get_guild(guild_id) is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return guild_id, channel_id


async def test_a_lived_in_server_is_kept_bare(sandbox: Sandbox) -> None:
    guild_id, channel_id = await lived_in_server(sandbox)
    guild = sandbox.bot.get_guild(guild_id)
    assert guild is not None
    server = await sandbox.discord.guild(guild_id)

    assert guild.name == server["name"] and guild.owner_id == int(server["owner_id"])
    assert list(guild.channels) == [] and list(guild.roles) == [] and list(guild.members) == []
    assert guild.emojis == () and guild.stickers == () and list(guild.threads) == []
    assert guild.me is None

    await sandbox.discord.create_channel(guild_id, "later")
    await sandbox.discord.update_channel(channel_id, bot_can_post=False)
    await sandbox.discord.create_role(guild_id, "later")
    await sandbox.slash(await sandbox.user("someone"), "digest status", guild_id=guild_id)
    assert list(guild.channels) == [] and list(guild.roles) == []


async def test_digest_channel_in_a_lived_in_server_checks_the_bots_permissions(
    sandbox: Sandbox,
) -> None:
    guild_id, channel_id = await lived_in_server(sandbox)
    admin = await sandbox.user("admin")
    other = int((await sandbox.discord.create_channel(guild_id, "elsewhere"))["id"])

    async def choose(channel: int) -> str:
        answer = await sandbox.slash(
            admin,
            "digest channel",
            {"channel": channel},
            guild_id=guild_id,
            channel_id=other,
            permissions=ADMIN,
        )
        return str(answer.text)

    turned_on = await choose(channel_id)
    assert "I cannot post" not in turned_on, turned_on
    assert await sandbox.services.digests.status(guild_id) is not None

    await sandbox.discord.update_channel(channel_id, bot_can_post=False)
    refused = await choose(channel_id)
    assert "I cannot post the digest in" in refused and "Send Messages" in refused


async def dispatched(condition: Callable[[], bool]) -> None:
    async def met() -> bool:
        return condition()

    await until(met, timeout=15, what="discord.py dispatched the server's event")


async def test_servers_joined_and_left_are_counted_and_their_events_still_come(
    sandbox: Sandbox,
) -> None:
    joined: list[discord.Guild] = []
    removed: list[discord.Guild] = []

    async def on_guild_join(guild: discord.Guild) -> None:
        joined.append(guild)

    async def on_guild_remove(guild: discord.Guild) -> None:
        removed.append(guild)

    sandbox.bot.add_listener(on_guild_join)
    sandbox.bot.add_listener(on_guild_remove)
    before = len(sandbox.bot.guilds)
    first, _ = await lived_in_server(sandbox)
    second, channel_id = await lived_in_server(sandbox)

    assert len(sandbox.bot.guilds) == before + 2
    await dispatched(lambda: len(joined) == 2)
    assert [guild.id for guild in joined] == [first, second]
    kept = sandbox.bot.get_guild(second)
    assert isinstance(kept, BareGuild) and kept.shard_id == 0
    assert kept.get_channel(channel_id) is None and kept.get_role(second) is None
    # What discord.py stores in a bare server is dropped, in this one and in every other.
    kept._add_channel(discord.Object(channel_id))  # type: ignore[arg-type]
    assert kept.get_channel(channel_id) is None and list(kept.channels) == []

    await sandbox.discord.delete_guild(first)
    await dispatched(lambda: bool(removed))
    assert sandbox.bot.get_guild(first) is None and [guild.id for guild in removed] == [first]
    assert len(sandbox.bot.guilds) == before + 1
    answer = await sandbox.slash(await sandbox.user("member"), "digest status", guild_id=second)
    assert answer.text
