"""Interactions are delivered only as a Discord client could send them.

Commands honour their ``contexts``, ``integration_types`` and
``default_member_permissions``; user-installed commands reach servers without the bot,
DMs and group DMs with the fields Discord sends; user and message commands carry their
target; a click waits for the message it presses to have been shown.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from discord import app_commands

from sandbox.control import ControlError
from sandbox.discord import DiscordControl, DiscordEmulator
from sandbox.discord.models import (
    ATTACH_FILES,
    BOT_DM_PERMISSIONS,
    EMBED_LINKS,
    INTERACTION_RESPONSE_PERMISSIONS,
    MANAGE_GUILD,
    MEMBER_PERMISSIONS,
    USE_EXTERNAL_EMOJIS,
)

from .bots import SandboxBot, start_bot, stop_bot

ADMINISTRATOR = 1 << 3


def delivery_bot() -> SandboxBot:
    bot = SandboxBot(command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.1)
    tree = bot.tree

    @tree.command(name="settings", description="Server settings")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def settings(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("settings", ephemeral=True)

    @tree.command(name="np", description="What you are playing")
    @app_commands.allowed_installs(guilds=False, users=True)
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    async def now_playing(interaction: discord.Interaction) -> None:
        where = "guild" if interaction.guild_id else "dm"
        await interaction.response.send_message(f"np in {where}", ephemeral=True)

    @tree.command(name="ping", description="Ping")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    async def like_message(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.send_message(f"links: {message.content}", ephemeral=True)

    async def profile(
        interaction: discord.Interaction, user: discord.User | discord.Member
    ) -> None:
        await interaction.response.send_message(f"profile of {user.name}", ephemeral=True)

    tree.add_command(app_commands.ContextMenu(name="Like on Spotify", callback=like_message))
    tree.add_command(app_commands.ContextMenu(name="Spotify profile", callback=profile))
    return bot


@pytest.fixture
async def delivering(emu: DiscordEmulator, world: dict[str, Any]) -> AsyncIterator[SandboxBot]:
    bot = delivery_bot()
    task = await start_bot(bot, emu)
    await bot.tree.sync()
    try:
        yield bot
    finally:
        await stop_bot(bot, task)


async def refused(call: Any) -> str:
    with pytest.raises(ControlError) as caught:
        await call
    assert caught.value.status == 403
    return str(caught.value.body["reason"])


async def answered(ctl: DiscordControl, injected: dict[str, Any]) -> dict[str, Any]:
    record = await ctl.interaction(injected["id"], wait=5)
    assert record["response"] is not None, record
    return record


# ---------------------------------------------------------------------------- contexts


async def test_a_server_only_command_is_not_offered_in_dms(
    ctl: DiscordControl, world: dict[str, Any], delivering: SandboxBot
) -> None:
    alice = world["alice"]["id"]  # the server's owner: every permission
    assert await refused(ctl.command("settings", alice)) == "context"
    record = await answered(
        ctl, await ctl.command("settings", alice, guild_id=world["guild"]["id"])
    )
    assert record["response"]["data"]["content"] == "settings"
    assert record["payload"]["context"] == 0


async def test_a_command_that_is_not_registered_is_not_delivered(
    ctl: DiscordControl, world: dict[str, Any], delivering: SandboxBot
) -> None:
    guild = world["guild"]["id"]
    assert (
        await refused(ctl.command("nothere", world["alice"]["id"], guild_id=guild))
        == "not_registered"
    )
    # a command registered to one server is not offered in another
    other = await ctl.create_guild("Other", owner_id=world["alice"]["id"])
    cmd = {"name": "local", "description": "Only here", "type": 1}
    await delivering.http.bulk_upsert_guild_commands(delivering.application_id, int(guild), [cmd])  # type: ignore[arg-type]
    assert (
        await refused(ctl.command("local", world["alice"]["id"], guild_id=other["id"]))
        == "not_registered"
    )
    record = await ctl.interaction(
        (await ctl.command("local", world["alice"]["id"], guild_id=guild))["id"]
    )
    assert record["payload"]["data"]["guild_id"] == guild


# ---------------------------------------------------------------------------- permissions


async def test_default_member_permissions_hide_a_command_from_members_without_them(
    ctl: DiscordControl, world: dict[str, Any], delivering: SandboxBot
) -> None:
    guild = world["guild"]["id"]
    member = (await ctl.create_user("member"))["id"]
    manager = (await ctl.create_user("manager"))["id"]
    admin = (await ctl.create_user("admin"))["id"]

    assert await refused(ctl.command("settings", member, guild_id=guild)) == "missing_permissions"
    for user, perms in ((manager, MEMBER_PERMISSIONS | MANAGE_GUILD), (admin, ADMINISTRATOR)):
        await answered(ctl, await ctl.command("settings", user, guild_id=guild, permissions=perms))
    # commands without default_member_permissions are offered to every member
    await answered(ctl, await ctl.command("ping", member, guild_id=guild))


async def test_a_server_override_grants_or_denies_a_command(
    ctl: DiscordControl, world: dict[str, Any], delivering: SandboxBot
) -> None:
    guild = world["guild"]["id"]
    member = (await ctl.create_user("member"))["id"]
    manager = (await ctl.create_user("manager"))["id"]
    manage = MEMBER_PERMISSIONS | MANAGE_GUILD

    await ctl.grant_command(guild, "settings", member)
    await answered(ctl, await ctl.command("settings", member, guild_id=guild))
    await ctl.grant_command(guild, "settings", manager, allow=False)
    assert (
        await refused(ctl.command("settings", manager, guild_id=guild, permissions=manage))
        == "denied"
    )
    # administrators use every command whatever the overrides say
    await answered(
        ctl, await ctl.command("settings", manager, guild_id=guild, permissions=ADMINISTRATOR)
    )


# ---------------------------------------------------------------------------- user installs


async def test_a_user_installed_command_reaches_a_server_without_the_bot(
    ctl: DiscordControl, world: dict[str, Any], delivering: SandboxBot
) -> None:
    foreign = await ctl.create_guild("No Encore here", bot_member=False)
    carol = (await ctl.create_user("carol"))["id"]

    assert await refused(ctl.command("np", carol, guild_id=foreign["id"])) == "not_installed"
    # a guild-install command cannot reach a server the bot is not in
    await ctl.update_user(carol, installed_app=True)
    assert await refused(ctl.command("ping", carol, guild_id=foreign["id"])) == "not_installed"

    record = await answered(ctl, await ctl.command("np", carol, guild_id=foreign["id"]))

    payload = record["payload"]
    assert payload["context"] == 0 and payload["guild_id"] == foreign["id"]
    assert payload["authorizing_integration_owners"] == {"1": carol}
    assert int(payload["app_permissions"]) == ATTACH_FILES | EMBED_LINKS | USE_EXTERNAL_EMOJIS
    assert payload["member"]["user"]["id"] == carol
    assert record["response"]["data"]["content"] == "np in guild"
    assert delivering.get_guild(int(foreign["id"])) is None


async def test_a_user_installed_command_reaches_dms_and_group_dms(
    ctl: DiscordControl, world: dict[str, Any], delivering: SandboxBot
) -> None:
    carol = (await ctl.create_user("carol", installed_app=True))["id"]
    dave = (await ctl.create_user("dave"))["id"]
    group = await ctl.create_private_channel([carol, dave], name="listening party")

    in_dm = (await answered(ctl, await ctl.command("np", carol)))["payload"]
    in_group = (await answered(ctl, await ctl.command("np", carol, channel_id=group["id"])))[
        "payload"
    ]

    assert in_dm["context"] == 1 and in_group["context"] == 2
    assert in_dm["authorizing_integration_owners"] == {"1": carol}
    assert in_group["authorizing_integration_owners"] == {"1": carol}
    assert int(in_dm["app_permissions"]) == BOT_DM_PERMISSIONS
    assert int(in_group["app_permissions"]) == INTERACTION_RESPONSE_PERMISSIONS
    assert in_group["user"]["id"] == carol and "member" not in in_group
    assert in_group["channel"]["type"] == 3
    # a guild-install command is not offered in someone else's group DM
    assert await refused(ctl.command("ping", carol, channel_id=group["id"])) == "not_installed"
    # nor in a channel the person is not in
    erin = (await ctl.create_user("erin", installed_app=True))["id"]
    assert await refused(ctl.command("np", erin, channel_id=group["id"])) == "not_a_recipient"


async def test_a_guild_install_command_in_the_bot_dm_names_guild_install_owner_zero(
    ctl: DiscordControl, world: dict[str, Any], delivering: SandboxBot
) -> None:
    record = await answered(ctl, await ctl.command("ping", world["alice"]["id"]))
    assert record["payload"]["context"] == 1
    assert record["payload"]["authorizing_integration_owners"] == {"0": "0"}


# ---------------------------------------------------------------------------- context menus


async def test_a_message_command_carries_the_message_it_targets(
    ctl: DiscordControl, world: dict[str, Any], delivering: SandboxBot
) -> None:
    bob = world["bob"]["id"]
    text = (
        "listen https://open.spotify.com/intl-de/track/4uLU6hMCjMI75M1A2tKUQC and spotify:album:1"
    )
    posted = await ctl.post_message(world["general"]["id"], bob, text)

    record = await answered(
        ctl, await ctl.message_command("Like on Spotify", world["alice"]["id"], posted["id"])
    )

    data = record["payload"]["data"]
    assert data["type"] == 3 and data["target_id"] == posted["id"]
    assert data["resolved"]["messages"][posted["id"]]["content"] == text
    assert data["resolved"]["messages"][posted["id"]]["author"]["id"] == bob
    assert record["response"]["data"]["content"] == f"links: {text}"


async def test_a_user_command_carries_the_user_it_targets(
    ctl: DiscordControl, world: dict[str, Any], delivering: SandboxBot
) -> None:
    record = await answered(
        ctl,
        await ctl.user_command(
            "Spotify profile",
            world["alice"]["id"],
            world["bob"]["id"],
            guild_id=world["guild"]["id"],
        ),
    )
    data = record["payload"]["data"]
    assert data["type"] == 2 and data["target_id"] == world["bob"]["id"]
    assert world["bob"]["id"] in data["resolved"]["users"]
    assert world["bob"]["id"] in data["resolved"]["members"]
    assert record["response"]["data"]["content"] == "profile of bob"


async def test_a_context_menu_command_of_another_type_is_not_the_same_command(
    ctl: DiscordControl, world: dict[str, Any], delivering: SandboxBot
) -> None:
    posted = await ctl.post_message(world["general"]["id"], world["bob"]["id"], "hi")
    refusal = ctl.message_command("Spotify profile", world["alice"]["id"], posted["id"])
    assert await refused(refusal) == "not_registered"


# ---------------------------------------------------------------------------- clicks


async def test_a_click_waits_until_its_message_has_been_shown(
    emu: DiscordEmulator, ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    """Until the request that rendered a message is answered, nobody can press it."""
    r = await ctl.command("button", world["alice"]["id"], guild_id=world["guild"]["id"])
    message_id = int((await ctl.interaction(r["id"], wait=5))["original"]["id"])
    stored = emu.world.messages[message_id]
    stored.settled.clear()  # as while its creating request is still being answered

    click = asyncio.create_task(ctl.click("like:1", world["alice"]["id"], message_id=message_id))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not click.done() and len(emu.world.interactions) == 1

    stored.settled.set()
    clicked = await asyncio.wait_for(click, 5)
    assert (await ctl.interaction(clicked["id"], wait=5))["response"]["type"] == 7
