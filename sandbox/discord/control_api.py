"""The ``/_sandbox/`` control API of the Discord emulator (see README.md).

Tests, benchmarks and the demo build the world, inject what people do and read back
what the bot did. Everything answers JSON; bad input answers 400 ``{"code", "message"}``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import ApiError, json_response
from .models import JSON
from .wire import (
    channel_view,
    guild_view,
    interaction_view,
    message_view,
    role_view,
    user_view,
)

if TYPE_CHECKING:
    from .emulator import DiscordEmulator

ControlHandler = Callable[[web.Request], Awaitable[Any]]


async def _body(request: web.Request) -> JSON:
    raw = await request.read()
    if not raw:
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ApiError(400, 0, "body must be a JSON object")
    return data


def _since(request: web.Request) -> float:
    v = request.query.get("since")
    return float(v) if v else 0.0


class ControlApi:
    def __init__(self, emu: DiscordEmulator) -> None:
        self.emu = emu
        self.world = emu.world

    def install(self, app: web.Application) -> None:
        routes: list[tuple[str, str, ControlHandler]] = [
            ("POST", "/reset", self.reset),
            ("GET", "/info", self.info),
            ("GET", "/state", self.state),
            ("GET", "/settings", self.settings),
            ("POST", "/settings", self.settings),
            # the world
            ("POST", "/guilds", self.create_guild),
            ("POST", "/guilds/bulk", self.create_guilds_bulk),
            ("GET", "/guilds", self.list_guilds),
            ("GET", "/guilds/{guild_id}", self.get_guild),
            ("DELETE", "/guilds/{guild_id}", self.delete_guild),
            ("POST", "/guilds/{guild_id}/command_permissions", self.command_permissions),
            ("POST", "/guilds/{guild_id}/roles", self.create_role),
            ("PATCH", "/guilds/{guild_id}/roles/{role_id}", self.update_role),
            ("PUT", "/guilds/{guild_id}/bot/roles/{role_id}", self.give_bot_role),
            ("DELETE", "/guilds/{guild_id}/bot/roles/{role_id}", self.take_bot_role),
            ("POST", "/channels", self.create_channel),
            ("PATCH", "/channels/{channel_id}", self.update_channel),
            ("POST", "/private_channels", self.create_private_channel),
            ("POST", "/users", self.create_user),
            ("PATCH", "/users/{user_id}", self.update_user),
            # what people do
            ("POST", "/interactions", self.inject),
            ("POST", "/messages", self.post_user_message),
            # what the bot did
            ("GET", "/interactions", self.list_interactions),
            ("GET", "/interactions/{interaction_id}", self.get_interaction),
            ("GET", "/messages", self.list_messages),
            ("GET", "/messages/{message_id}", self.get_message),
            ("GET", "/dms/{user_id}", self.dms),
            ("GET", "/requests", self.requests),
            ("GET", "/ratelimits", self.ratelimits),
            ("GET", "/errors", self.errors),
            ("GET", "/commands", self.commands),
            # faults and the gateway
            ("POST", "/faults/lost_responses", self.lose_responses),
            ("GET", "/faults", self.faults),
            ("DELETE", "/faults", self.clear_faults),
            ("POST", "/gateway/disconnect", self.gateway_disconnect),
            ("POST", "/gateway/reconnect", self.gateway_reconnect),
            # Discord OAuth2
            ("GET", "/oauth2", self.oauth2),
            ("POST", "/oauth2/redirect_uris", self.oauth2_redirect_uris),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, "/_sandbox" + path, self._json(handler))

    @staticmethod
    def _json(handler: ControlHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def answer(request: web.Request) -> web.StreamResponse:
            try:
                return json_response(await handler(request))
            except ApiError as err:
                return json_response(err.body(), status=err.status if err.status != 401 else 400)
            except (ValueError, KeyError, TypeError) as exc:
                return json_response({"code": 0, "message": f"bad request: {exc!r}"}, status=400)

        return answer

    # ------------------------------------------------------------------ the emulator
    async def reset(self, request: web.Request) -> Any:
        self.emu.reset()
        return {"ok": True}

    async def info(self, request: web.Request) -> Any:
        emu = self.emu
        return {
            "base_url": emu.base_url,
            "api_url": emu.api_url,
            "gateway_url": emu.gateway_url,
            "bot_token": emu.bot_token,
            "bot_user": self.world.bot_user.to_json(),
            "application_id": str(self.world.application_id),
            "client_id": str(self.world.application_id),
            "client_secret": emu.settings.client_secret,
            "authorize_url": emu.base_url + "/oauth2/authorize",
            "token_url": emu.base_url + "/api/oauth2/token",
        }

    async def state(self, request: web.Request) -> Any:
        world = self.world
        return {
            "guilds": len(world.guilds),
            "users": len(world.users),
            "channels": len(world.channels),
            "messages": len(world.messages),
            "interactions": len(world.interactions),
            "requests": len(world.requests),
            "errors": len(world.errors),
            "invalid_requests_10min": world.invalid_requests(),
            "settings": self.emu.settings.public(),
            "shards": self.emu.gateway.view(),
        }

    async def settings(self, request: web.Request) -> Any:
        if request.method == "POST":
            self.emu.settings.update(await _body(request))
        return self.emu.settings.public()

    # ------------------------------------------------------------------ the world
    async def create_guild(self, request: web.Request) -> Any:
        b = await _body(request)
        g = self.world.add_guild(
            b.get("name", "Guild"),
            b.get("id"),
            b.get("owner_id"),
            b.get("channels") or None,
            bot_member=bool(b.get("bot_member", True)),
        )
        await self.emu.gateway.guild_added(g.id)
        return guild_view(self.world, g)

    async def create_guilds_bulk(self, request: web.Request) -> Any:
        b = await _body(request)
        ids = []
        for i in range(int(b.get("count", 1))):
            g = self.world.add_guild(
                f"{b.get('prefix', 'guild')}-{i}",
                owner_id=b.get("owner_id"),
                furnished=bool(b.get("furnished", False)),
            )
            await self.emu.gateway.guild_added(g.id)
            ids.append(g.id)
        return {
            "count": len(ids),
            "guild_ids": [str(i) for i in ids],
            "channel_ids": [str(self.world.guilds[i].channel_ids[0]) for i in ids],
        }

    async def list_guilds(self, request: web.Request) -> Any:
        return [guild_view(self.world, g) for g in self.world.guilds.values()]

    async def get_guild(self, request: web.Request) -> Any:
        g = self.world.guilds.get(int(request.match_info["guild_id"]))
        if g is None:
            raise ApiError(404, 10004, "unknown guild")
        return guild_view(self.world, g)

    async def delete_guild(self, request: web.Request) -> Any:
        """The bot leaves (or is removed from) the server: GUILD_DELETE."""
        world = self.world
        gid = int(request.match_info["guild_id"])
        g = world.guilds.pop(gid, None)
        if g is None:
            raise ApiError(404, 10004, "unknown guild")
        for cid in g.channel_ids:
            world.channels.pop(cid, None)
        world.commands_guild.pop(gid, None)
        await self.emu.gateway.guild_removed(gid)
        world.touch()
        return {"ok": True}

    async def command_permissions(self, request: web.Request) -> Any:
        """An admin's override in Server Settings > Integrations:
        ``{command, user_id?, allow}`` (no ``user_id``: the ``@everyone`` role)."""
        b = await _body(request)
        gid = int(request.match_info["guild_id"])
        self.world.guild(gid)
        user_id = b.get("user_id")
        self.emu.command_permissions.set(
            gid,
            str(b["command"]),
            None if user_id is None else int(user_id),
            bool(b.get("allow", True)),
        )
        return {"ok": True}

    # Roles change without a gateway event here: the bot asks Discord over REST (GET
    # /guilds/{id}/roles, /guilds/{id}/members/{bot}) when it needs them.
    async def create_role(self, request: web.Request) -> Any:
        """A new role in Server Settings > Roles: ``{name, permissions}``."""
        b = await _body(request)
        g = self.world.guild(request.match_info["guild_id"])
        role = self.world.add_role(g, str(b.get("name", "role")), int(b.get("permissions", 0)))
        return role_view(role)

    async def update_role(self, request: web.Request) -> Any:
        """``{name?, permissions?}``."""
        b = await _body(request)
        g = self.world.guild(request.match_info["guild_id"])
        role = self.world.role(g, request.match_info["role_id"])
        if "name" in b:
            role.name = str(b["name"])
        if "permissions" in b:
            role.permissions = int(b["permissions"])
        self.world.touch()
        return role_view(role)

    async def give_bot_role(self, request: web.Request) -> Any:
        """The owner gives the bot's member a role."""
        g = self.world.guild(request.match_info["guild_id"])
        role = self.world.role(g, request.match_info["role_id"])
        if role.id != g.id and role.id not in g.bot_roles:
            g.bot_roles.append(role.id)
        self.world.touch()
        return guild_view(self.world, g)

    async def take_bot_role(self, request: web.Request) -> Any:
        g = self.world.guild(request.match_info["guild_id"])
        role = self.world.role(g, request.match_info["role_id"])
        if role.id in g.bot_roles:
            g.bot_roles.remove(role.id)
        self.world.touch()
        return guild_view(self.world, g)

    async def create_channel(self, request: web.Request) -> Any:
        b = await _body(request)
        guild = self.world.guilds.get(int(b["guild_id"]))
        if guild is None:
            raise ApiError(404, 10004, "unknown guild")
        ch = self.world.new_channel(guild, b)
        await self.emu.gateway.channel_changed(ch, "CHANNEL_CREATE")
        return channel_view(self.world, ch)

    async def update_channel(self, request: web.Request) -> Any:
        b = await _body(request)
        ch = self.world.channels.get(int(request.match_info["channel_id"]))
        if ch is None:
            raise ApiError(404, 10003, "unknown channel")
        for key in ("bot_can_post", "bot_can_embed", "bot_can_view"):
            if key in b:
                setattr(ch, key, bool(b[key]))
        if "name" in b:
            ch.name = str(b["name"])
        if "permission_overwrites" in b:
            ch.permission_overwrites = [
                {
                    "id": str(ow["id"]),
                    "type": int(ow["type"]),
                    "allow": str(int(ow.get("allow", 0))),
                    "deny": str(int(ow.get("deny", 0))),
                }
                for ow in b["permission_overwrites"]
            ]
            self.world.touch()
        await self.emu.gateway.channel_changed(ch, "CHANNEL_UPDATE")
        return channel_view(self.world, ch)

    async def create_private_channel(self, request: web.Request) -> Any:
        """A group DM, or a DM between two people, that the bot is not part of."""
        b = await _body(request)
        user_ids = [int(u) for u in b["user_ids"]]
        if len(user_ids) < 2:
            raise ApiError(400, 0, "a private channel has at least two people")
        return channel_view(self.world, self.world.private_channel(user_ids, b.get("name")))

    async def create_user(self, request: web.Request) -> Any:
        b = await _body(request)
        installed = b.get("installed_app")
        u = self.world.add_user(
            b.get("username", "user"),
            b.get("id"),
            bool(b.get("dms_open", True)),
            None if installed is None else bool(installed),
        )
        return user_view(u)

    async def update_user(self, request: web.Request) -> Any:
        b = await _body(request)
        u = self.world.ensure_user(int(request.match_info["user_id"]))
        if "dms_open" in b:
            u.dms_open = bool(b["dms_open"])
        if "username" in b:
            u.username = str(b["username"])
        if "installed_app" in b:
            u.installed_app = bool(b["installed_app"])
        self.world.touch()
        return user_view(u)

    # ------------------------------------------------------------------ what people do
    async def inject(self, request: web.Request) -> Any:
        return await self.emu.deliveries.inject(await _body(request))

    async def post_user_message(self, request: web.Request) -> Any:
        """A message a person posts (``{channel_id, author_id, content, embeds?}``)."""
        b = await _body(request)
        world = self.world
        ch = world.channel(b["channel_id"])
        author = world.ensure_user(int(b["author_id"]))
        message = world.create_message(
            ch,
            {"content": b.get("content") or "", "embeds": b.get("embeds") or []},
            [],
            kind="user",
            author=author,
        )
        await self.emu.gateway.message_created(message)
        return message_view(message)

    # ------------------------------------------------------------------ what the bot did
    async def list_interactions(self, request: web.Request) -> Any:
        return [interaction_view(self.world, i) for i in self.world.interactions.values()]

    async def get_interaction(self, request: web.Request) -> Any:
        iid = int(request.match_info["interaction_id"])
        wait = float(request.query.get("wait", 0) or 0)
        until = request.query.get("until", "response")
        deadline = time.monotonic() + wait
        while True:
            it = self.world.interactions.get(iid)
            if it is None:
                raise ApiError(404, 10062, "unknown interaction")
            left = deadline - time.monotonic()
            if _done(it, until) or left <= 0:
                return interaction_view(self.world, it)
            await self.world.wait_changed(left)

    async def list_messages(self, request: web.Request) -> Any:
        q = request.query
        since = _since(request)
        out = []
        for m in self.world.messages.values():
            view = message_view(m)
            if q.get("channel_id") and view["channel_id"] != q["channel_id"]:
                continue
            if q.get("user_id") and view["dm_user_id"] != q["user_id"]:
                continue
            if q.get("guild_id") and view["guild_id"] != q["guild_id"]:
                continue
            if q.get("kind") and m.kind != q["kind"]:
                continue
            if m.created_at < since:
                continue
            out.append(view)
        out.sort(key=lambda v: int(v["id"]))
        return out

    async def get_message(self, request: web.Request) -> Any:
        mid = request.match_info["message_id"]
        m = self.world.messages.get(int(mid)) if mid.isdigit() else None
        if m is None:
            raise ApiError(404, 10008, "unknown message")
        return message_view(m)

    async def dms(self, request: web.Request) -> Any:
        uid = int(request.match_info["user_id"])
        out = [message_view(m) for m in self.world.messages.values() if m.dm_user_id == uid]
        out.sort(key=lambda v: int(v["id"]))
        return out

    async def requests(self, request: web.Request) -> Any:
        since = _since(request)
        sub = request.query.get("path")
        return [
            r for r in self.world.requests if r["at"] >= since and (not sub or sub in r["path"])
        ]

    async def ratelimits(self, request: web.Request) -> Any:
        return self.emu.limits.view()

    async def errors(self, request: web.Request) -> Any:
        since = _since(request)
        kind = request.query.get("kind")
        return [
            e for e in self.world.errors if e["at"] >= since and (not kind or e["kind"] == kind)
        ]

    async def commands(self, request: web.Request) -> Any:
        world = self.world
        return {
            "global": list(world.commands_global.values()),
            "guilds": {str(g): list(c.values()) for g, c in world.commands_guild.items()},
        }

    # ------------------------------------------------------------------ faults, gateway
    async def lose_responses(self, request: web.Request) -> Any:
        """``{count, channel_id?, dms?}``: the next message creates succeed, answer 502."""
        b = await _body(request)
        channel_id = b.get("channel_id")
        self.emu.faults.lose_responses(
            int(b.get("count", 1)),
            None if channel_id is None else int(channel_id),
            bool(b.get("dms", False)),
        )
        return {"faults": self.emu.faults.view()}

    async def faults(self, request: web.Request) -> Any:
        return {"faults": self.emu.faults.view()}

    async def clear_faults(self, request: web.Request) -> Any:
        self.emu.faults.reset()
        return {"faults": []}

    async def gateway_disconnect(self, request: web.Request) -> Any:
        b = await _body(request)
        sid = b.get("shard_id")
        closed = await self.emu.gateway.disconnect(
            None if sid is None else int(sid),
            int(b.get("code", 4000)),
            bool(b.get("resumable", True)),
        )
        return {"closed": closed}

    async def gateway_reconnect(self, request: web.Request) -> Any:
        b = await _body(request)
        sid = b.get("shard_id")
        return {"sent": await self.emu.gateway.reconnect(None if sid is None else int(sid))}

    # ------------------------------------------------------------------ OAuth2
    async def oauth2(self, request: web.Request) -> Any:
        oauth = self.emu.oauth2
        return {
            "client_id": oauth.client_id,
            "redirect_uris": oauth.redirect_uris,
            "codes": len(oauth.codes),
            "access_tokens": len(oauth.access),
        }

    async def oauth2_redirect_uris(self, request: web.Request) -> Any:
        """The application's registered redirect URIs (exact matches only)."""
        b = await _body(request)
        self.emu.oauth2.redirect_uris = [str(u) for u in b["redirect_uris"]]
        return {"redirect_uris": self.emu.oauth2.redirect_uris}


def _done(it: Any, until: str) -> bool:
    if until == "answered":  # the member sees the final answer, or Discord refused it as late
        return it.answered_at is not None or bool(it.late_responses)
    if until == "followup":
        return bool(it.followup_ids)
    if until == "any":
        return it.response is not None or bool(it.followup_ids) or bool(it.late_responses)
    if until == "late":
        return bool(it.late_responses)
    return it.response is not None
