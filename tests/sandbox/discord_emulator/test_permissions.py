"""The emulator refuses the bot's posts by Discord's permission algorithm: @everyone and the
bot's roles, Administrator, then the channel's overwrites for @everyone, the bot's roles and
the bot; roles given to the bot take effect at once, with no reconnect."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from sandbox.discord import DiscordControl
from sandbox.discord.models import ADMINISTRATOR, EMBED_LINKS, SEND_MESSAGES, VIEW_CHANNEL

from .bots import SandboxBot

ROLE, MEMBER = 0, 1


async def _post(bot: SandboxBot, channel_id: str) -> int | None:
    """None when the post went through, else Discord's error code."""
    params = discord.http.handle_message_parameters("hello")
    try:
        await bot.http.send_message(int(channel_id), params=params)
    except discord.Forbidden as exc:
        return exc.code
    return None


async def test_a_role_given_to_the_bot_lets_it_post_where_everyone_is_denied(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    guild_id, channel_id = world["guild"]["id"], world["general"]["id"]
    poster = await ctl.create_role(guild_id, "Encore poster")
    await ctl.update_channel(
        channel_id,
        permission_overwrites=[
            {"id": guild_id, "type": ROLE, "allow": 0, "deny": SEND_MESSAGES},
            {"id": poster["id"], "type": ROLE, "allow": SEND_MESSAGES, "deny": 0},
        ],
    )
    assert await _post(bot, channel_id) == 50013

    await ctl.give_bot_role(guild_id, poster["id"])
    assert await _post(bot, channel_id) is None
    member = await bot.http.get_member(int(guild_id), bot.user.id)  # type: ignore[union-attr]
    assert poster["id"] in member["roles"]
    assert poster["id"] in {role["id"] for role in await bot.http.get_roles(int(guild_id))}
    channel: dict[str, Any] = dict(await bot.http.get_channel(int(channel_id)))
    assert {ow["id"] for ow in channel["permission_overwrites"]} == {guild_id, poster["id"]}

    await ctl.take_bot_role(guild_id, poster["id"])
    assert await _post(bot, channel_id) == 50013


async def test_the_bots_own_overwrite_wins_over_its_roles_and_administrator_over_all(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    guild_id, channel_id = world["guild"]["id"], world["general"]["id"]
    bot_id = str(bot.user.id)  # type: ignore[union-attr]
    poster = await ctl.create_role(guild_id, "poster")
    await ctl.give_bot_role(guild_id, poster["id"])
    await ctl.update_channel(
        channel_id,
        permission_overwrites=[
            {"id": poster["id"], "type": ROLE, "allow": SEND_MESSAGES, "deny": 0},
            {"id": bot_id, "type": MEMBER, "allow": 0, "deny": SEND_MESSAGES},
        ],
    )
    assert await _post(bot, channel_id) == 50013
    admin = await ctl.create_role(guild_id, "admin", permissions=ADMINISTRATOR)
    await ctl.give_bot_role(guild_id, admin["id"])
    assert await _post(bot, channel_id) is None


@pytest.mark.parametrize(
    ("denied", "code"), [(VIEW_CHANNEL, 50013), (SEND_MESSAGES, 50013), (EMBED_LINKS, None)]
)
async def test_guild_wide_role_permissions_count(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot, denied: int, code: int | None
) -> None:
    """Taking a permission from @everyone and from the bot's managed role takes it from the
    bot everywhere (an embed-less post still goes through)."""
    guild = await ctl.guild(world["guild"]["id"])
    for role in guild["roles"]:
        await ctl.update_role(
            guild["id"], role["id"], permissions=int(role["permissions"]) & ~denied
        )
    assert await _post(bot, world["general"]["id"]) == code
    view = next(
        c for c in (await ctl.guild(guild["id"]))["channels"] if c["id"] == world["general"]["id"]
    )
    assert not int(view["bot_permissions"]) & denied


async def test_a_channel_the_bot_cannot_view_is_missing_access_to_it(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot
) -> None:
    channel_id = world["general"]["id"]
    await ctl.update_channel(
        channel_id,
        permission_overwrites=[
            {"id": world["guild"]["id"], "type": ROLE, "allow": 0, "deny": VIEW_CHANNEL}
        ],
    )
    with pytest.raises(discord.Forbidden) as refused:
        await bot.http.get_channel(int(channel_id))
    assert refused.value.code == 50001
    assert await _post(bot, channel_id) == 50013
