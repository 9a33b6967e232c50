"""The /_sandbox/ control API of the Discord emulator (see README.md)."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .emulator import ApiError, json_response

if TYPE_CHECKING:
    from .emulator import DiscordEmulator


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ApiError(400, 0, "body must be a JSON object")
    return data


def _guild_view(emu: DiscordEmulator, gid: int) -> dict[str, Any]:
    g = emu.guilds[gid]
    return {
        "id": str(g.id),
        "name": g.name,
        "owner_id": str(g.owner_id),
        "bot_role_id": str(g.bot_role_id),
        "channels": [_channel_view(emu, c) for c in g.channel_ids],
    }


def _channel_view(emu: DiscordEmulator, cid: int) -> dict[str, Any]:
    ch = emu.channels[cid]
    return {
        "id": str(ch.id),
        "name": ch.name,
        "type": ch.type,
        "guild_id": str(ch.guild_id) if ch.guild_id else None,
        "recipient_id": str(ch.recipient_id) if ch.recipient_id else None,
        "bot_can_post": ch.bot_can_post,
        "bot_can_embed": ch.bot_can_embed,
        "bot_can_view": ch.bot_can_view,
        "bot_permissions": str(emu.bot_permissions(ch)),
    }


def _user_view(u: Any) -> dict[str, Any]:
    return {"id": str(u.id), "username": u.username, "dms_open": u.dms_open, "bot": u.bot}


def _since(request: web.Request) -> float:
    v = request.query.get("since")
    return float(v) if v else 0.0


async def handle_control(emu: DiscordEmulator, request: web.Request) -> web.StreamResponse:
    path = "/" + request.match_info["tail"].strip("/")
    method = request.method
    parts = [p for p in path.split("/") if p]

    if method == "POST" and path == "/reset":
        emu.reset()
        return json_response({"ok": True})

    if method == "GET" and path == "/info":
        return json_response(
            {
                "base_url": emu.base_url,
                "api_url": emu.api_url,
                "gateway_url": emu.gateway_url,
                "bot_token": emu.bot_token,
                "bot_user": emu.bot_user.to_json(),
                "application_id": str(emu.application_id),
            }
        )

    if method == "POST" and path == "/guilds":
        b = await _body(request)
        g = emu.add_guild(
            b.get("name", "Guild"), b.get("id"), b.get("owner_id"), b.get("channels") or None
        )
        await emu.add_guild_live(g)
        return json_response(_guild_view(emu, g.id))

    if method == "POST" and path == "/guilds/bulk":
        b = await _body(request)
        count = int(b.get("count", 1))
        prefix = b.get("prefix", "guild")
        ids = []
        for i in range(count):
            g = emu.add_guild(f"{prefix}-{i}", owner_id=b.get("owner_id"))
            await emu.add_guild_live(g)
            ids.append(g.id)
        return json_response(
            {
                "count": len(ids),
                "guild_ids": [str(i) for i in ids],
                "channel_ids": [str(emu.guilds[i].channel_ids[0]) for i in ids],
            }
        )

    if method == "GET" and path == "/guilds":
        return json_response([_guild_view(emu, g) for g in emu.guilds])

    if method == "GET" and len(parts) == 2 and parts[0] == "guilds":
        gid = int(parts[1])
        if gid not in emu.guilds:
            raise ApiError(404, 10004, "unknown guild")
        return json_response(_guild_view(emu, gid))

    if method == "DELETE" and len(parts) == 2 and parts[0] == "guilds":
        await emu.remove_guild_live(int(parts[1]))
        return json_response({"ok": True})

    if method == "POST" and path == "/channels":
        b = await _body(request)
        gid = int(b["guild_id"])
        owner = emu.guilds.get(gid)
        if owner is None:
            raise ApiError(404, 10004, "unknown guild")
        new_ch = emu._new_channel(owner, b)
        await emu.create_channel_live(new_ch)
        return json_response(_channel_view(emu, new_ch.id))

    if method == "PATCH" and len(parts) == 2 and parts[0] == "channels":
        b = await _body(request)
        chan = emu.channels.get(int(parts[1]))
        if chan is None:
            raise ApiError(404, 10003, "unknown channel")
        for key in ("bot_can_post", "bot_can_embed", "bot_can_view"):
            if key in b:
                setattr(chan, key, bool(b[key]))
        if "name" in b:
            chan.name = str(b["name"])
        await emu.update_channel_live(chan)
        return json_response(_channel_view(emu, chan.id))

    if method == "POST" and path == "/users":
        b = await _body(request)
        u = emu.add_user(b.get("username", "user"), b.get("id"), bool(b.get("dms_open", True)))
        return json_response(_user_view(u))

    if method == "PATCH" and len(parts) == 2 and parts[0] == "users":
        b = await _body(request)
        u = emu._ensure_user(int(parts[1]))
        if "dms_open" in b:
            u.dms_open = bool(b["dms_open"])
        if "username" in b:
            u.username = str(b["username"])
        return json_response(_user_view(u))

    if method == "POST" and path == "/interactions":
        b = await _body(request)
        return json_response(await emu.inject_interaction(b))

    if method == "GET" and path == "/interactions":
        return json_response([emu.interaction_view(i) for i in emu.interactions.values()])

    if method == "GET" and len(parts) == 2 and parts[0] == "interactions":
        iid = int(parts[1])
        wait = float(request.query.get("wait", 0) or 0)
        until = request.query.get("until", "response")
        deadline = time.monotonic() + wait

        def done(it: dict[str, Any]) -> bool:
            if until == "followup":
                return bool(it["followup_ids"])
            if until == "any":
                return (
                    it["response"] is not None
                    or bool(it["followup_ids"])
                    or bool(it["late_responses"])
                )
            if until == "late":
                return bool(it["late_responses"])
            return it["response"] is not None

        while True:
            it = emu.interactions.get(iid)
            if it is None:
                raise ApiError(404, 10062, "unknown interaction")
            left = deadline - time.monotonic()
            if done(it) or left <= 0:
                return json_response(emu.interaction_view(it))
            await emu.wait_changed(left)

    if method == "GET" and path == "/messages":
        q = request.query
        since = _since(request)
        out = []
        for rec in emu.messages.values():
            if q.get("channel_id") and rec["channel_id"] != q["channel_id"]:
                continue
            if q.get("user_id") and rec["dm_user_id"] != q["user_id"]:
                continue
            if q.get("guild_id") and rec["guild_id"] != q["guild_id"]:
                continue
            if q.get("kind") and rec["kind"] != q["kind"]:
                continue
            if rec["created_at"] < since:
                continue
            out.append(emu.message_view(rec))
        out.sort(key=lambda m: int(m["id"]))
        return json_response(out)

    if method == "GET" and len(parts) == 2 and parts[0] == "dms":
        out = [emu.message_view(r) for r in emu.messages.values() if r["dm_user_id"] == parts[1]]
        out.sort(key=lambda m: int(m["id"]))
        return json_response(out)

    if method == "GET" and path == "/requests":
        since = _since(request)
        sub = request.query.get("path")
        return json_response(
            [r for r in emu.requests if r["at"] >= since and (not sub or sub in r["path"])]
        )

    if method == "GET" and path == "/errors":
        since = _since(request)
        kind = request.query.get("kind")
        return json_response(
            [e for e in emu.errors if e["at"] >= since and (not kind or e["kind"] == kind)]
        )

    if method == "GET" and path == "/commands":
        return json_response(
            {
                "global": list(emu.commands_global.values()),
                "guilds": {str(g): list(c.values()) for g, c in emu.commands_guild.items()},
            }
        )

    if method == "GET" and path == "/state":
        return json_response(
            {
                "guilds": len(emu.guilds),
                "users": len(emu.users),
                "channels": len(emu.channels),
                "messages": len(emu.messages),
                "interactions": len(emu.interactions),
                "requests": len(emu.requests),
                "errors": len(emu.errors),
                "invalid_requests_10min": emu.invalid_requests(),
                "settings": _settings(emu),
                "shards": [
                    {
                        "session_id": s.id,
                        "shard_id": s.shard_id,
                        "shard_count": s.shard_count,
                        "connected": s.ws is not None,
                        "resumable": s.resumable,
                        "resumes": s.resumes,
                        "seq": s.seq,
                        "guild_count": len(s.guild_ids),
                        "guild_ids": [str(g) for g in s.guild_ids],
                    }
                    for s in emu.sessions.values()
                ],
            }
        )

    if path == "/settings":
        if method == "POST":
            b = await _body(request)
            if "rate_limits" in b:
                emu.rate_limits = bool(b["rate_limits"])
            for key, conv in (
                ("global_limit_per_s", int),
                ("channel_limit", int),
                ("channel_window", float),
                ("route_limit", int),
                ("route_window", float),
                ("interaction_deadline", float),
                ("token_lifetime_s", float),
            ):
                if key in b:
                    setattr(emu, key, conv(b[key]))
        return json_response(_settings(emu))

    if method == "POST" and path == "/gateway/disconnect":
        b = await _body(request)
        sid = b.get("shard_id")
        closed = await emu.disconnect(
            None if sid is None else int(sid),
            int(b.get("code", 4000)),
            bool(b.get("resumable", True)),
        )
        return json_response({"closed": closed})

    if method == "POST" and path == "/gateway/reconnect":
        b = await _body(request)
        sid = b.get("shard_id")
        return json_response({"sent": await emu.reconnect(None if sid is None else int(sid))})

    raise ApiError(404, 0, f"no control route {method} {path}")


def _settings(emu: DiscordEmulator) -> dict[str, Any]:
    return {
        "rate_limits": emu.rate_limits,
        "global_limit_per_s": emu.global_limit_per_s,
        "channel_limit": emu.channel_limit,
        "channel_window": emu.channel_window,
        "route_limit": emu.route_limit,
        "route_window": emu.route_window,
        "interaction_deadline": emu.interaction_deadline,
        "token_lifetime_s": emu.token_lifetime_s,
    }
