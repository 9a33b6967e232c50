"""The gateway keeps only what Encore reads of a lived-in server, and /digest channel still
resolves its channel and checks the bot's permissions there.

The servers are furnished as real ones are (`sandbox/discord/furniture.py`: categories, text
channels with topics and role overwrites, voice channels, tens of roles, threads, emojis,
stickers in GUILD_CREATE)."""

from __future__ import annotations

import asyncio
import time

import discord

from sandbox.harness import MANAGE_GUILD, MEMBER, Sandbox

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


async def test_a_lived_in_server_is_kept_as_text_channels_the_bots_roles_and_itself(
    sandbox: Sandbox,
) -> None:
    guild_id, _ = await lived_in_server(sandbox)
    guild = sandbox.bot.get_guild(guild_id)
    assert guild is not None and guild.me is not None

    assert guild.emojis == () and guild.stickers == () and list(guild.threads) == []
    assert guild.channels and all(isinstance(c, discord.TextChannel) for c in guild.channels)
    assert all(c.topic is None for c in guild.text_channels)
    assert {role.id for role in guild.roles} == {guild_id} | {r.id for r in guild.me.roles}
    assert list(guild.members) == [guild.me]
    for channel in guild.text_channels:
        kept = {target.id for target in channel.overwrites}
        assert kept <= {guild_id, guild.me.id} | {r.id for r in guild.me.roles}


async def test_digest_channel_in_a_lived_in_server_checks_the_bots_permissions(
    sandbox: Sandbox,
) -> None:
    guild_id, channel_id = await lived_in_server(sandbox)
    admin = await sandbox.user("admin")

    turned_on = await sandbox.slash(
        admin,
        "digest channel",
        {"channel": channel_id},
        guild_id=guild_id,
        channel_id=channel_id,
        permissions=ADMIN,
    )
    assert "I cannot post" not in turned_on.text, turned_on.text
    assert await sandbox.services.digests.status(guild_id) is not None

    await sandbox.discord.update_channel(channel_id, bot_can_post=False)
    deadline = time.monotonic() + 15
    guild = sandbox.bot.get_guild(guild_id)
    assert guild is not None
    while time.monotonic() < deadline:
        channel = guild.get_channel(channel_id)
        if isinstance(channel, discord.TextChannel) and channel.overwrites:
            break
        await asyncio.sleep(0.05)
    refused = await sandbox.slash(
        admin,
        "digest channel",
        {"channel": channel_id},
        guild_id=guild_id,
        channel_id=channel_id,
        permissions=ADMIN,
    )
    assert "I cannot post the digest in" in refused.text and "Send Messages" in refused.text
