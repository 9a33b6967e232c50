"""``/guilds/{id}``: a server, its channels, roles and members (only where the bot is)."""

from __future__ import annotations

from typing import Any

from ..errors import ApiError
from ..rest import Endpoint, RestCall
from ..wire import bot_member_json, channel_json, guild_json, member_json, roles_json


async def get_guild(call: RestCall) -> Any:
    g = call.world.bot_guild(call.params["guild_id"])
    d = guild_json(call.world, g)
    if call.query.get("with_counts") in ("true", "1"):
        d["approximate_member_count"] = 2
        d["approximate_presence_count"] = 1
    return d


async def get_guild_channels(call: RestCall) -> Any:
    g = call.world.bot_guild(call.params["guild_id"])
    return [channel_json(call.world, call.world.channels[c]) for c in g.channel_ids]


async def get_guild_roles(call: RestCall) -> Any:
    return roles_json(call.world, call.world.bot_guild(call.params["guild_id"]))


async def get_member(call: RestCall) -> Any:
    world = call.world
    g = world.bot_guild(call.params["guild_id"])
    uid = int(call.params["user_id"]) if call.params["user_id"].isdigit() else 0
    if uid == world.bot_user.id:
        return bot_member_json(world, g)
    user = world.users.get(uid)
    if user is None:
        raise ApiError(404, 10007, "Unknown Member", kind="unknown_member")
    return member_json(g, user, None)


def endpoints() -> list[Endpoint]:
    return [
        Endpoint("GET", "/guilds/{guild_id}", get_guild, major="guild_id"),
        Endpoint("GET", "/guilds/{guild_id}/channels", get_guild_channels, major="guild_id"),
        Endpoint("GET", "/guilds/{guild_id}/roles", get_guild_roles, major="guild_id"),
        Endpoint("GET", "/guilds/{guild_id}/members/{user_id}", get_member, major="guild_id"),
    ]
