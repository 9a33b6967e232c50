"""``/applications/{app}[/guilds/{g}]/commands``: registering application commands."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..errors import ApiError, FormErrors
from ..models import CHAT_INPUT, JSON
from ..rest import Endpoint, RestCall
from ..rules import check_command, check_command_list, refuse_over_limit


def _scope(call: RestCall) -> dict[str, JSON]:
    world = call.world
    if call.params["application_id"] != str(world.application_id):
        raise ApiError(403, 50001, "Missing Access", kind="wrong_application")
    gid = call.params.get("guild_id")
    if gid:
        world.bot_guild(gid)
        return world.commands_guild.setdefault(int(gid), {})
    return world.commands_global


def _key(command: JSON) -> str:
    return f"{command.get('type') or CHAT_INPUT}:{command.get('name')}"


def _stored(call: RestCall, command: JSON, old: JSON | None) -> JSON:
    world = call.world
    c = dict(command)
    c["id"] = old["id"] if old else str(world.ids.next())
    c["application_id"] = str(world.application_id)
    c["version"] = str(world.ids.next())
    c["type"] = c.get("type") or CHAT_INPUT
    c.setdefault("description", "")
    c.setdefault("options", [])
    c.setdefault("default_member_permissions", None)
    c.setdefault("nsfw", False)
    if c["default_member_permissions"] is not None:
        c["default_member_permissions"] = str(c["default_member_permissions"])
    gid = call.params.get("guild_id")
    if gid:
        c["guild_id"] = gid
    else:
        c.setdefault("dm_permission", True)
        c.setdefault("contexts", None)
        c["integration_types"] = c.get("integration_types") or [0]
    return c


async def put_commands(call: RestCall) -> Any:
    scope = _scope(call)
    check_command_list(call.body)
    new = {}
    for command in call.body:
        key = _key(command)
        new[key] = _stored(call, command, scope.get(key))
    scope.clear()
    scope.update(new)
    call.world.touch()
    return list(new.values())


async def post_command(call: RestCall) -> Any:
    scope = _scope(call)
    command = call.json()
    errors = FormErrors()
    check_command(command, errors)
    errors.raise_if_any()
    key = _key(command)
    counts = Counter(int(c.get("type") or CHAT_INPUT) for k, c in scope.items() if k != key)
    counts[int(command.get("type") or CHAT_INPUT)] += 1
    refuse_over_limit(counts)
    scope[key] = _stored(call, command, scope.get(key))
    call.world.touch()
    return scope[key]


async def get_commands(call: RestCall) -> Any:
    return list(_scope(call).values())


async def delete_command(call: RestCall) -> Any:
    scope = _scope(call)
    for key, c in list(scope.items()):
        if c["id"] == call.params["command_id"]:
            del scope[key]
            call.world.touch()
            return None
    raise ApiError(404, 10063, "Unknown application command", kind="unknown_command")


def endpoints() -> list[Endpoint]:
    out = []
    for scope in ("", "/guilds/{guild_id}"):
        base = "/applications/{application_id}" + scope + "/commands"
        major = "guild_id" if scope else None
        out += [
            Endpoint("PUT", base, put_commands, major=major),
            Endpoint("GET", base, get_commands, major=major),
            Endpoint("POST", base, post_command, major=major),
            Endpoint("DELETE", base + "/{command_id}", delete_command, major=major),
        ]
    return out
