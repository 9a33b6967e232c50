"""The Discord emulator: REST (/api/v10), gateway websocket and the /_sandbox control API.

The real, unmodified discord.py client runs against it. See README.md in this folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .models import (
    ADMINISTRATOR,
    BOT_ROLE_PERMISSIONS,
    EMBED_LINKS,
    EVERYONE_PERMISSIONS,
    MEMBER_PERMISSIONS,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    Channel,
    Guild,
    Snowflakes,
    User,
    iso,
    shard_of,
)
from .spec import SpecValidator

log = logging.getLogger("sandbox.discord")

API_PREFIX = "/api/v10"
TOKEN_LIFETIME_S = 15 * 60
EPHEMERAL = 1 << 6
LOADING = 1 << 7


class ApiError(Exception):
    def __init__(
        self, status: int, code: int, message: str, errors: Any = None, kind: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.kind = kind

    def body(self) -> dict[str, Any]:
        d: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors is not None:
            d["errors"] = self.errors
        return d


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON with Content-Type exactly ``application/json`` (discord.py requires it)."""
    resp = web.Response(
        body=json.dumps(data, separators=(",", ":")).encode(), status=status, headers=headers
    )
    resp.headers["Content-Type"] = "application/json"
    return resp


def _int(v: Any) -> int | None:
    if v is None or v == "":
        return None
    return int(v)


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    template: str
    handler: Callable[..., Awaitable[Any]]
    auth: bool = True
    global_exempt: bool = False
    bucket: str = "default"  # "default" | "channel_post" | "webhook"
    major: str | None = None


@dataclass
class Session:
    id: str
    shard_id: int
    shard_count: int
    identified_at: float
    seq: int = 0
    ws: web.WebSocketResponse | None = None
    resumable: bool = True
    buffer: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=5000))
    guild_ids: list[int] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    resumes: int = 0

    def owns(self, guild_id: int | None) -> bool:
        return shard_of(guild_id, self.shard_count) == self.shard_id


@dataclass
class Bucket:
    limit: int
    window: float
    reset_at: float = 0.0
    used: int = 0

    def roll(self, now: float) -> None:
        if now >= self.reset_at:
            self.used = 0
            self.reset_at = now + self.window


class DiscordEmulator:
    """All state of one emulated Discord, served by an aiohttp application."""

    def __init__(
        self,
        *,
        rate_limits: bool = True,
        interaction_deadline: float = 3.0,
        global_limit_per_s: int = 50,
        channel_limit: int = 5,
        channel_window: float = 5.0,
        route_limit: int = 50,
        route_window: float = 1.0,
        bot_token: str = "sandbox-bot-token",
        bot_name: str = "Encore",
        heartbeat_interval_ms: int = 41250,
        spec_path: str | None = None,
        token_lifetime_s: float = TOKEN_LIFETIME_S,
    ) -> None:
        self.token_lifetime_s = token_lifetime_s
        self.rate_limits = rate_limits
        self.interaction_deadline = interaction_deadline
        self.global_limit_per_s = global_limit_per_s
        self.channel_limit = channel_limit
        self.channel_window = channel_window
        self.route_limit = route_limit
        self.route_window = route_window
        self.bot_token = bot_token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self._ids = Snowflakes(worker=1)
        self._guild_ids = Snowflakes(worker=2)  # consecutive guilds land on consecutive shards
        self.bot_user = User(id=self._ids.next(), username=bot_name, bot=True)
        self.application_id = self.bot_user.id
        self._validator = SpecValidator(spec_path)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.base_url = ""
        self._app: web.Application | None = None
        self._routes: list[Route] = []
        self._build_routes()
        self.sessions: dict[str, Session] = {}
        self._sockets: set[web.WebSocketResponse] = set()
        self._changed = asyncio.Event()
        self._reset_state()

    # ------------------------------------------------------------------ state
    def _reset_state(self) -> None:
        self.users: dict[int, User] = {self.bot_user.id: self.bot_user}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.dm_channels: dict[int, int] = {}  # user id -> dm channel id
        self.messages: dict[int, dict[str, Any]] = {}  # id -> record
        self.interactions: dict[int, dict[str, Any]] = {}
        self.tokens: dict[str, int] = {}
        self.requests: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.commands_global: dict[str, dict[str, Any]] = {}
        self.commands_guild: dict[int, dict[str, dict[str, Any]]] = {}
        self._global_log: deque[float] = deque()
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._seq = 0

    def _touch(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _error(self, kind: str, message: str, **extra: Any) -> None:
        rec = {"at": time.time(), "kind": kind, "message": message, **extra}
        self.errors.append(rec)
        log.info("sandbox discord error %s: %s %s", kind, message, extra)

    # ------------------------------------------------------------------ app
    @property
    def app(self) -> web.Application:
        if self._app is None:
            app = web.Application(client_max_size=64 * 1024 * 1024)
            app.router.add_get("/gateway", self._gateway)
            app.router.add_get("/gateway/", self._gateway)
            app.router.add_route("*", "/_sandbox/{tail:.*}", self._control)
            app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._api)
            app.router.add_route("*", "/{tail:.*}", self._unknown)
            self._app = app
        return self._app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, host, port)
        await self._site.start()
        server = self._site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        real_port = sockets[0].getsockname()[1] if sockets else port
        self.base_url = f"http://{host}:{real_port}"
        return self.base_url

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return self.base_url.replace("http://", "ws://").replace("https://", "wss://") + "/gateway"

    # ------------------------------------------------------------------ objects
    def add_user(self, username: str, id: int | None = None, dms_open: bool = True) -> User:
        uid = int(id) if id else self._ids.next()
        user = self.users.get(uid)
        if user is None:
            user = User(id=uid, username=username, dms_open=dms_open)
            self.users[uid] = user
        else:
            user.username = username or user.username
            user.dms_open = dms_open
        self._touch()
        return user

    def _ensure_user(self, uid: int) -> User:
        user = self.users.get(uid)
        if user is None:
            user = User(id=uid, username=f"user{uid % 100000}")
            self.users[uid] = user
        return user

    def add_guild(
        self,
        name: str,
        id: int | None = None,
        owner_id: int | None = None,
        channels: list[dict[str, Any]] | None = None,
    ) -> Guild:
        gid = int(id) if id else self._guild_ids.next()
        if owner_id is None:
            owner = self.add_user(f"owner-{name}"[:32])
            owner_id = owner.id
        else:
            self._ensure_user(int(owner_id))
        guild = Guild(id=gid, name=name, owner_id=int(owner_id), bot_role_id=self._ids.next())
        self.guilds[gid] = guild
        for i, spec in enumerate(channels or [{"name": "general"}]):
            self._new_channel(guild, spec, position=i)
        self._touch()
        return guild

    def _new_channel(
        self, guild: Guild, spec: dict[str, Any], position: int | None = None
    ) -> Channel:
        ch = Channel(
            id=int(spec["id"]) if spec.get("id") else self._ids.next(),
            name=spec.get("name", "general"),
            guild_id=guild.id,
            bot_can_post=bool(spec.get("bot_can_post", True)),
            bot_can_embed=bool(spec.get("bot_can_embed", True)),
            bot_can_view=bool(spec.get("bot_can_view", True)),
            position=len(guild.channel_ids) if position is None else position,
        )
        self.channels[ch.id] = ch
        guild.channel_ids.append(ch.id)
        return ch

    def _dm_channel(self, user_id: int) -> Channel:
        cid = self.dm_channels.get(user_id)
        if cid is not None:
            return self.channels[cid]
        ch = Channel(id=self._ids.next(), name="", type=1, recipient_id=user_id)
        self.channels[ch.id] = ch
        self.dm_channels[user_id] = ch.id
        return ch

    # ------------------------------------------------------------------ wire shapes
    def _overwrites(self, ch: Channel) -> list[dict[str, Any]]:
        deny = 0
        if not ch.bot_can_post:
            deny |= SEND_MESSAGES
        if not ch.bot_can_embed:
            deny |= EMBED_LINKS
        if not ch.bot_can_view:
            deny |= VIEW_CHANNEL
        if not deny:
            return []
        return [{"id": str(self.bot_user.id), "type": 1, "allow": "0", "deny": str(deny)}]

    def bot_permissions(self, ch: Channel) -> int:
        if ch.guild_id is None:
            return VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS
        perms = EVERYONE_PERMISSIONS | BOT_ROLE_PERMISSIONS
        for ow in self._overwrites(ch):
            perms &= ~int(ow["deny"])
            perms |= int(ow["allow"])
        return perms

    def channel_json(self, ch: Channel, with_guild: bool = True) -> dict[str, Any]:
        if ch.type == 1:
            recipient = self._ensure_user(ch.recipient_id or 0)
            return {
                "id": str(ch.id),
                "type": 1,
                "last_message_id": str(ch.last_message_id) if ch.last_message_id else None,
                "recipients": [recipient.to_json()],
                "flags": 0,
            }
        d: dict[str, Any] = {
            "id": str(ch.id),
            "type": ch.type,
            "name": ch.name,
            "position": ch.position,
            "permission_overwrites": self._overwrites(ch),
            "parent_id": None,
            "topic": None,
            "nsfw": False,
            "rate_limit_per_user": 0,
            "last_message_id": str(ch.last_message_id) if ch.last_message_id else None,
            "flags": 0,
        }
        if with_guild:
            d["guild_id"] = str(ch.guild_id)
        return d

    def _roles_json(self, g: Guild) -> list[dict[str, Any]]:
        def role(rid: int, name: str, perms: int, pos: int, managed: bool) -> dict[str, Any]:
            r: dict[str, Any] = {
                "id": str(rid),
                "name": name,
                "color": 0,
                "hoist": False,
                "icon": None,
                "unicode_emoji": None,
                "position": pos,
                "permissions": str(perms),
                "managed": managed,
                "mentionable": False,
                "flags": 0,
            }
            if managed:
                r["tags"] = {"bot_id": str(self.bot_user.id)}
            return r

        return [
            role(g.id, "@everyone", EVERYONE_PERMISSIONS, 0, False),
            role(g.bot_role_id, self.bot_user.username, BOT_ROLE_PERMISSIONS, 1, True),
        ]

    def _bot_member_json(self, g: Guild) -> dict[str, Any]:
        return {
            "user": self.bot_user.to_json(),
            "roles": [str(g.bot_role_id)],
            "joined_at": iso(g.joined_at),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "avatar": None,
            "pending": False,
            "premium_since": None,
        }

    def guild_json(self, g: Guild, create: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": str(g.id),
            "name": g.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(g.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": self._roles_json(g),
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "nsfw_level": 0,
            "application_id": None,
            "system_channel_id": str(g.channel_ids[0]) if g.channel_ids else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "max_members": 500000,
            "premium_progress_bar_enabled": False,
        }
        if create:
            d.update(
                {
                    "joined_at": iso(g.joined_at),
                    "large": False,
                    "unavailable": False,
                    "member_count": 2,
                    "voice_states": [],
                    "members": [self._bot_member_json(g)],
                    "channels": [
                        self.channel_json(self.channels[c], with_guild=False) for c in g.channel_ids
                    ],
                    "threads": [],
                    "presences": [],
                    "stage_instances": [],
                    "guild_scheduled_events": [],
                    "soundboard_sounds": [],
                }
            )
        return d

    def _new_message(
        self,
        ch: Channel,
        body: dict[str, Any],
        files: list[dict[str, Any]],
        *,
        kind: str = "channel",
        interaction_id: int | None = None,
        message_id: int | None = None,
        extra_flags: int = 0,
    ) -> dict[str, Any]:
        mid = message_id or self._ids.next()
        now = time.time()
        msg = {
            "id": str(mid),
            "channel_id": str(ch.id),
            "author": self.bot_user.to_json(),
            "content": body.get("content") or "",
            "embeds": list(body.get("embeds") or []),
            "components": list(body.get("components") or []),
            "attachments": self._attachments(ch, body, files),
            "flags": int(body.get("flags") or 0) | extra_flags,
            "timestamp": iso(now),
            "edited_timestamp": None,
            "tts": bool(body.get("tts", False)),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "pinned": False,
            "type": 0,
        }
        if ch.guild_id:
            msg["guild_id"] = str(ch.guild_id)
        if interaction_id is not None:
            msg["webhook_id"] = str(self.application_id)
            msg["application_id"] = str(self.application_id)
        rec: dict[str, Any] = {
            "id": str(mid),
            "kind": kind,
            "channel_id": str(ch.id),
            "guild_id": str(ch.guild_id) if ch.guild_id else None,
            "dm_user_id": str(ch.recipient_id) if ch.type == 1 else None,
            "interaction_id": str(interaction_id) if interaction_id else None,
            "allowed_mentions": body.get("allowed_mentions"),
            "created_at": now,
            "deleted": False,
            "edits": [],
            "message": msg,
        }
        self.messages[mid] = rec
        ch.last_message_id = mid
        self._touch()
        return rec

    def _attachments(
        self, ch: Channel, body: dict[str, Any], files: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        out = []
        for f in files:
            aid = self._ids.next()
            url = f"{self.base_url}/attachments/{ch.id}/{aid}/{f['filename']}"
            out.append(
                {
                    "id": str(aid),
                    "filename": f["filename"],
                    "size": f["size"],
                    "url": url,
                    "proxy_url": url,
                    "content_type": f.get("content_type") or "application/octet-stream",
                }
            )
        return out

    def _edit_message(
        self, rec: dict[str, Any], body: dict[str, Any], files: list[dict[str, Any]]
    ) -> dict[str, Any]:
        msg = rec["message"]
        changed: dict[str, Any] = {}
        for key in ("content", "embeds", "components"):
            if key in body:
                msg[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
                changed[key] = msg[key]
        if "flags" in body and body["flags"] is not None:
            msg["flags"] = (msg["flags"] & (EPHEMERAL)) | int(body["flags"])
        msg["flags"] &= ~LOADING
        if files or "attachments" in body:
            ch = self.channels[int(msg["channel_id"])]
            kept = []
            if body.get("attachments") is not None:
                keep_ids = {str(a.get("id")) for a in body["attachments"]}
                kept = [a for a in msg["attachments"] if a["id"] in keep_ids]
            msg["attachments"] = kept + self._attachments(ch, body, files)
        if "allowed_mentions" in body:
            rec["allowed_mentions"] = body["allowed_mentions"]
        msg["edited_timestamp"] = iso(time.time())
        rec["edits"].append({"at": time.time(), **changed})
        self._touch()
        return rec

    # ------------------------------------------------------------------ routing
    def _build_routes(self) -> None:
        def add(method: str, template: str, handler: Any, **kw: Any) -> None:
            rx = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
            self._routes.append(Route(method, re.compile(rx), template, handler, **kw))

        add("GET", "/users/@me", self._get_me)
        add("GET", "/users/{user_id}", self._get_user)
        add("GET", "/oauth2/applications/@me", self._get_app)
        add("GET", "/applications/@me", self._get_app)
        add("GET", "/gateway", self._get_gateway, auth=False)
        add("GET", "/gateway/bot", self._get_gateway_bot)
        add("POST", "/users/@me/channels", self._create_dm)
        add("GET", "/channels/{channel_id}", self._get_channel, major="channel_id")
        add(
            "POST",
            "/channels/{channel_id}/messages",
            self._post_message,
            major="channel_id",
            bucket="channel_post",
        )
        add("GET", "/channels/{channel_id}/messages", self._list_messages, major="channel_id")
        add(
            "GET",
            "/channels/{channel_id}/messages/{message_id}",
            self._get_message,
            major="channel_id",
        )
        add(
            "PATCH",
            "/channels/{channel_id}/messages/{message_id}",
            self._patch_message,
            major="channel_id",
        )
        add(
            "DELETE",
            "/channels/{channel_id}/messages/{message_id}",
            self._delete_message,
            major="channel_id",
        )
        add("POST", "/channels/{channel_id}/typing", self._typing, major="channel_id")
        add("GET", "/guilds/{guild_id}", self._get_guild, major="guild_id")
        add("GET", "/guilds/{guild_id}/channels", self._get_guild_channels, major="guild_id")
        add("GET", "/guilds/{guild_id}/roles", self._get_guild_roles, major="guild_id")
        add("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member, major="guild_id")
        for scope in ("", "/guilds/{guild_id}"):
            base = "/applications/{application_id}" + scope + "/commands"
            add("PUT", base, self._put_commands, major="guild_id" if scope else None)
            add("GET", base, self._get_commands, major="guild_id" if scope else None)
            add("POST", base, self._post_command, major="guild_id" if scope else None)
            add(
                "DELETE",
                base + "/{command_id}",
                self._delete_command,
                major="guild_id" if scope else None,
            )
        add(
            "POST",
            "/interactions/{interaction_id}/{token}/callback",
            self._callback,
            auth=False,
            global_exempt=True,
            bucket="webhook",
            major="interaction_id",
        )
        wh = "/webhooks/{application_id}/{token}"
        kw = {"auth": False, "global_exempt": True, "bucket": "webhook", "major": "token"}
        add("POST", wh, self._followup, **kw)
        for mid in ("@original", "{message_id}"):
            add("GET", wh + "/messages/" + mid, self._webhook_get, **kw)
            add("PATCH", wh + "/messages/" + mid, self._webhook_patch, **kw)
            add("DELETE", wh + "/messages/" + mid, self._webhook_delete, **kw)
        # literal "@original" before "{message_id}"
        self._routes.sort(key=lambda r: r.template.count("{"))

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        path_known = False
        for r in self._routes:
            m = r.pattern.match(path)
            if m:
                path_known = True
                if r.method == method:
                    return r, m.groupdict(), True
        return None, {}, path_known

    async def _unknown(self, request: web.Request) -> web.Response:
        self._error("unhandled", "no such route", method=request.method, path=request.path)
        return json_response({"code": 0, "message": "404: Not Found"}, status=404)

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization", "") == f"Bot {self.bot_token}"

    def _ratelimit_headers(
        self, route: Route, params: dict[str, str], now: float
    ) -> tuple[dict[str, str], float | None]:
        """Consumes one request of the route's bucket; returns headers and retry_after if over."""
        if route.bucket == "channel_post":
            limit, window = self.channel_limit, self.channel_window
        elif route.bucket == "webhook":
            limit, window = 50, 1.0
        else:
            limit, window = self.route_limit, self.route_window
        major = params.get(route.major, "") if route.major else ""
        key = (route.method + " " + route.template, major)
        b = self._buckets.get(key)
        if b is None or b.limit != limit or b.window != window:
            b = self._buckets[key] = Bucket(limit=limit, window=window)
        b.roll(now)
        over = None
        if self.rate_limits and b.used >= b.limit:
            over = max(b.reset_at - now, 0.001)
        else:
            b.used += 1
        reset_after = max(b.reset_at - now, 0.0)
        bucket_hash = hashlib.sha1(key[0].encode()).hexdigest()[:16]
        headers = {
            "X-RateLimit-Limit": str(b.limit),
            "X-RateLimit-Remaining": str(max(b.limit - b.used, 0)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket_hash,
        }
        return headers, over

    def _global_check(self, now: float) -> float | None:
        log_ = self._global_log
        while log_ and log_[0] <= now - 1.0:
            log_.popleft()
        if len(log_) >= self.global_limit_per_s:
            return max(log_[0] + 1.0 - now, 0.001)
        log_.append(now)
        return None

    async def _read_body(self, request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
        files: list[dict[str, Any]] = []
        if not request.body_exists:
            return None, files
        ctype = request.content_type
        if ctype.startswith("multipart/"):
            body: Any = {}
            reader = await request.multipart()
            async for part in reader:
                if part is None:
                    break
                name = getattr(part, "name", None)
                if name == "payload_json":
                    body = json.loads(await part.text())  # type: ignore[union-attr]
                else:
                    data = await part.read()  # type: ignore[union-attr]
                    files.append(
                        {
                            "field": name,
                            "filename": getattr(part, "filename", None) or "file",
                            "size": len(data),
                            "content_type": part.headers.get("Content-Type"),
                        }
                    )
            return body, files
        raw = await request.read()
        if not raw:
            return None, files
        try:
            return json.loads(raw), files
        except ValueError as exc:
            raise ApiError(400, 50109, "The request body contains invalid JSON.") from exc

    async def _api(self, request: web.Request) -> web.StreamResponse:
        now = time.monotonic()
        path = "/" + request.match_info["tail"]
        method = request.method
        rec: dict[str, Any] = {
            "at": time.time(),
            "method": method,
            "path": path,
            "query": dict(request.query),
            "status": None,
            "rate_limited": False,
        }
        self.requests.append(rec)
        headers: dict[str, str] = {}
        try:
            route, params, path_known = self._match(method, path)
            if route is None:
                if path_known:
                    self._error("unhandled", "method not handled", method=method, path=path)
                    raise ApiError(405, 0, "405: Method Not Allowed")
                self._error("unhandled", "no such route", method=method, path=path)
                raise ApiError(404, 0, "404: Not Found")
            rec["route"] = route.template
            if route.auth and not self._authorized(request):
                raise ApiError(401, 0, "401: Unauthorized", kind="auth")
            if self.rate_limits and not route.global_exempt:
                retry = self._global_check(now)
                if retry is not None:
                    rec["rate_limited"] = "global"
                    rec["status"] = 429
                    return json_response(
                        {
                            "message": "You are being rate limited.",
                            "retry_after": round(retry, 3),
                            "global": True,
                            "code": 0,
                        },
                        status=429,
                        headers={
                            "Retry-After": str(max(1, int(retry + 0.999))),
                            "X-RateLimit-Global": "true",
                            "X-RateLimit-Scope": "global",
                            "Via": "1.1 google",
                        },
                    )
            headers, over = self._ratelimit_headers(route, params, now)
            if over is not None:
                rec["rate_limited"] = "route"
                rec["status"] = 429
                headers.update(
                    {
                        "Retry-After": str(max(1, int(over + 0.999))),
                        "X-RateLimit-Scope": "user",
                        "Via": "1.1 google",
                    }
                )
                return json_response(
                    {
                        "message": "You are being rate limited.",
                        "retry_after": round(over, 3),
                        "global": False,
                        "code": 0,
                    },
                    status=429,
                    headers=headers,
                )
            body, files = await self._read_body(request)
            if body is not None and method in ("POST", "PUT", "PATCH"):
                problems = self._validator.check(method, path, body)
                for p in problems:
                    self._error("validation", p, method=method, path=path, route=route.template)
            result = await route.handler(request, params, body or {}, files)
            if result is None:
                rec["status"] = 204
                return web.Response(status=204, headers=headers)
            status = 200
            if isinstance(result, tuple):
                status, result = result
            rec["status"] = status
            return json_response(result, status=status, headers=headers)
        except ApiError as err:
            rec["status"] = err.status
            rec["code"] = err.code
            if err.kind != "unhandled":
                self._error(
                    err.kind or "api",
                    err.message,
                    method=method,
                    path=path,
                    status=err.status,
                    code=err.code,
                )
            return json_response(err.body(), status=err.status, headers=headers)
        finally:
            rec["duration_ms"] = round((time.monotonic() - now) * 1000, 3)

    # ------------------------------------------------------------------ REST handlers
    async def _get_me(self, request: web.Request, p: dict[str, str], body: Any, files: Any) -> Any:
        d = self.bot_user.to_json()
        d.update({"verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"})
        return d

    async def _get_user(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        user = self.users.get(int(p["user_id"]))
        if user is None:
            raise ApiError(404, 10013, "Unknown User")
        return user.to_json()

    async def _get_app(self, request: web.Request, p: dict[str, str], body: Any, files: Any) -> Any:
        owner = User(id=self.bot_user.id + 1, username="sandbox-owner")
        return {
            "id": str(self.application_id),
            "name": self.bot_user.username,
            "description": "Encore (sandbox)",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": owner.to_json(),
            "verify_key": "0" * 64,
            "flags": 0,
            "team": None,
            "summary": "",
            "rpc_origins": [],
            "bot": self.bot_user.to_json(),
        }

    async def _get_gateway(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        return {"url": self.gateway_url}

    async def _get_gateway_bot(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        shards = max(1, (len(self.guilds) + 2499) // 2500)
        return {
            "url": self.gateway_url,
            "shards": shards,
            "session_start_limit": {
                "total": 1000,
                "remaining": 1000,
                "reset_after": 86400000,
                "max_concurrency": 16,
            },
        }

    def _channel(self, cid: str) -> Channel:
        try:
            ch = self.channels.get(int(cid))
        except ValueError:
            ch = None
        if ch is None:
            raise ApiError(404, 10003, "Unknown Channel", kind="unknown_channel")
        return ch

    async def _create_dm(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        rid = _int(body.get("recipient_id"))
        if rid is None:
            raise ApiError(400, 50035, "Invalid Form Body", {"recipient_id": "required"})
        self._ensure_user(rid)
        return self.channel_json(self._dm_channel(rid))

    async def _get_channel(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        return self.channel_json(self._channel(p["channel_id"]))

    def _check_message_body(self, body: dict[str, Any], files: list[Any], creating: bool) -> None:
        errors: dict[str, Any] = {}
        content = body.get("content")
        if content is not None and not isinstance(content, str):
            content = str(content)
            body["content"] = content
        if content and len(content) > 2000:
            errors["content"] = {
                "_errors": [
                    {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}
                ]
            }
        embeds = body.get("embeds") or []
        if len(embeds) > 10:
            errors["embeds"] = {
                "_errors": [
                    {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 10 or fewer in length."}
                ]
            }
        total = 0
        for i, e in enumerate(embeds):
            if not isinstance(e, dict):
                continue
            total += len(e.get("title") or "") + len(e.get("description") or "")
            if len(e.get("description") or "") > 4096:
                errors[f"embeds.{i}.description"] = "Must be 4096 or fewer in length."
            if len(e.get("title") or "") > 256:
                errors[f"embeds.{i}.title"] = "Must be 256 or fewer in length."
            if len(e.get("fields") or []) > 25:
                errors[f"embeds.{i}.fields"] = "Must be 25 or fewer in length."
            for f in e.get("fields") or []:
                total += len(f.get("name") or "") + len(f.get("value") or "")
        if total > 6000:
            errors["embeds"] = "Embed size exceeds maximum size of 6000"
        if len(body.get("components") or []) > 40:
            errors["components"] = "Must be 40 or fewer in length."
        if errors:
            raise ApiError(400, 50035, "Invalid Form Body", errors, kind="invalid_body")
        if creating and not (
            content
            or embeds
            or body.get("components")
            or files
            or body.get("sticker_ids")
            or body.get("poll")
        ):
            raise ApiError(400, 50006, "Cannot send an empty message", kind="invalid_body")

    async def _post_message(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        ch = self._channel(p["channel_id"])
        body = body if isinstance(body, dict) else {}
        if ch.type == 1:
            user = self._ensure_user(ch.recipient_id or 0)
            if not user.dms_open:
                raise ApiError(403, 50007, "Cannot send messages to this user", kind="dm_closed")
        else:
            perms = self.bot_permissions(ch)
            if not (perms & VIEW_CHANNEL and perms & SEND_MESSAGES):
                raise ApiError(403, 50013, "Missing Permissions", kind="missing_permissions")
        self._check_message_body(body, files, creating=True)
        if ch.type != 1 and body.get("embeds") and not self.bot_permissions(ch) & EMBED_LINKS:
            self._error(
                "embeds_suppressed",
                "embeds dropped: bot lacks EMBED_LINKS",
                channel_id=str(ch.id),
            )
            body = {**body, "embeds": []}
        rec = self._new_message(ch, body, files, kind="dm" if ch.type == 1 else "channel")
        return rec["message"]

    async def _list_messages(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        ch = self._channel(p["channel_id"])
        limit = min(int(request.query.get("limit", 50)), 100)
        before = _int(request.query.get("before"))
        after = _int(request.query.get("after"))
        out = []
        for mid in sorted(self.messages, reverse=True):
            rec = self.messages[mid]
            if rec["channel_id"] != str(ch.id) or rec["deleted"]:
                continue
            if rec["message"]["flags"] & EPHEMERAL:
                continue
            if before and mid >= before:
                continue
            if after and mid <= after:
                continue
            out.append(rec["message"])
            if len(out) >= limit:
                break
        return out

    def _message(self, ch: Channel, mid: str) -> dict[str, Any]:
        rec = self.messages.get(int(mid)) if mid.isdigit() else None
        if rec is None or rec["deleted"] or rec["channel_id"] != str(ch.id):
            raise ApiError(404, 10008, "Unknown Message", kind="unknown_message")
        return rec

    async def _get_message(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        return self._message(self._channel(p["channel_id"]), p["message_id"])["message"]

    async def _patch_message(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        rec = self._message(self._channel(p["channel_id"]), p["message_id"])
        self._check_message_body(body, files, creating=False)
        return self._edit_message(rec, body, files)["message"]

    async def _delete_message(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        rec = self._message(self._channel(p["channel_id"]), p["message_id"])
        rec["deleted"] = True
        rec["deleted_at"] = time.time()
        self._touch()
        return None

    async def _typing(self, request: web.Request, p: dict[str, str], body: Any, files: Any) -> Any:
        self._channel(p["channel_id"])
        return None

    def _guild(self, gid: str) -> Guild:
        g = self.guilds.get(int(gid)) if gid.isdigit() else None
        if g is None:
            raise ApiError(404, 10004, "Unknown Guild", kind="unknown_guild")
        return g

    async def _get_guild(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        g = self._guild(p["guild_id"])
        d = self.guild_json(g)
        if request.query.get("with_counts") in ("true", "1"):
            d["approximate_member_count"] = 2
            d["approximate_presence_count"] = 1
        return d

    async def _get_guild_channels(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        g = self._guild(p["guild_id"])
        return [self.channel_json(self.channels[c]) for c in g.channel_ids]

    async def _get_guild_roles(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        return self._roles_json(self._guild(p["guild_id"]))

    async def _get_member(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        g = self._guild(p["guild_id"])
        uid = int(p["user_id"])
        if uid == self.bot_user.id:
            return self._bot_member_json(g)
        user = self.users.get(uid)
        if user is None:
            raise ApiError(404, 10007, "Unknown Member")
        return self._member_json(g, user, None)

    # ---- application commands
    def _command_scope(self, p: dict[str, str]) -> dict[str, dict[str, Any]]:
        if str(p["application_id"]) != str(self.application_id):
            raise ApiError(403, 50001, "Missing Access", kind="wrong_application")
        gid = p.get("guild_id")
        if gid:
            self._guild(gid)
            return self.commands_guild.setdefault(int(gid), {})
        return self.commands_global

    def _stored_command(
        self, cmd: dict[str, Any], p: dict[str, str], old: dict[str, Any] | None
    ) -> dict[str, Any]:
        c = dict(cmd)
        c["id"] = old["id"] if old else str(self._ids.next())
        c["application_id"] = str(self.application_id)
        c["version"] = str(self._ids.next())
        c.setdefault("type", 1)
        c.setdefault("description", "")
        c.setdefault("options", [])
        c.setdefault("default_member_permissions", None)
        c.setdefault("nsfw", False)
        if p.get("guild_id"):
            c["guild_id"] = p["guild_id"]
        else:
            c.setdefault("dm_permission", True)
            c.setdefault("contexts", None)
            c.setdefault("integration_types", [0])
        return c

    async def _put_commands(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        scope = self._command_scope(p)
        if not isinstance(body, list):
            raise ApiError(
                400,
                50035,
                "Invalid Form Body",
                {"_errors": "must be an array"},
                kind="invalid_body",
            )
        new = {}
        for cmd in body:
            name = cmd.get("name")
            key = f"{cmd.get('type', 1)}:{name}"
            new[key] = self._stored_command(cmd, p, scope.get(key))
        scope.clear()
        scope.update(new)
        self._touch()
        return list(new.values())

    async def _post_command(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        scope = self._command_scope(p)
        key = f"{body.get('type', 1)}:{body.get('name')}"
        scope[key] = self._stored_command(body, p, scope.get(key))
        self._touch()
        return scope[key]

    async def _get_commands(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        return list(self._command_scope(p).values())

    async def _delete_command(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        scope = self._command_scope(p)
        for key, c in list(scope.items()):
            if c["id"] == p["command_id"]:
                del scope[key]
                return None
        raise ApiError(404, 10063, "Unknown application command")

    # ---- interactions
    def _interaction_by_token(self, token: str) -> dict[str, Any]:
        iid = self.tokens.get(token)
        if iid is None:
            raise ApiError(404, 10015, "Unknown Webhook", kind="unknown_webhook")
        it = self.interactions[iid]
        if time.time() - it["dispatched_at"] > self.token_lifetime_s:
            raise ApiError(401, 50027, "Invalid Webhook Token", kind="token_expired")
        return it

    async def _callback(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        iid = _int(p["interaction_id"]) if p["interaction_id"].isdigit() else None
        it = self.interactions.get(iid or 0)
        if it is None or it["token"] != p["token"]:
            raise ApiError(404, 10062, "Unknown interaction", kind="unknown_interaction")
        now = time.time()
        if it["response"] is not None:
            it.setdefault("extra_acks", []).append({"at": now, "type": body.get("type")})
            raise ApiError(
                400,
                40060,
                "Interaction has already been acknowledged.",
                kind="double_ack",
            )
        late = now - it["dispatched_at"]
        if late > self.interaction_deadline:
            it["late_responses"].append(
                {"at": now, "type": body.get("type"), "after_s": round(late, 3)}
            )
            self._touch()
            raise ApiError(404, 10062, "Unknown interaction", kind="late_response")
        rtype = int(body.get("type", 0))
        data = body.get("data") or {}
        if rtype not in (1, 4, 5, 6, 7, 8, 9, 10, 12):
            raise ApiError(
                400, 50035, "Invalid Form Body", {"type": "invalid"}, kind="invalid_body"
            )
        ch = self.channels.get(int(it["channel_id"])) if it["channel_id"] else None
        message = None
        msg_id = None
        loading = False
        ephemeral = bool(int(data.get("flags") or 0) & EPHEMERAL)
        if rtype in (4, 5):
            assert ch is not None
            if rtype == 4:
                self._check_message_body(data, files, creating=True)
            rec = self._new_message(
                ch,
                data if rtype == 4 else {"flags": data.get("flags")},
                files if rtype == 4 else [],
                kind="interaction_response",
                interaction_id=it["id_int"],
                extra_flags=LOADING if rtype == 5 else 0,
            )
            it["original_id"] = int(rec["id"])
            message = rec["message"]
            msg_id = rec["id"]
            loading = rtype == 5
        elif rtype in (6, 7) and it.get("message_id"):
            crec = self.messages.get(int(it["message_id"]))
            if crec is not None:
                if rtype == 7:
                    self._check_message_body(data, files, creating=False)
                    self._edit_message(crec, data, files)
                message = crec["message"]
                msg_id = crec["id"]
                ephemeral = bool(message["flags"] & EPHEMERAL)
                # @original of a component interaction is the message it is attached to
                it["original_id"] = int(crec["id"])
        it["response"] = {
            "type": rtype,
            "data": data,
            "at": now,
            "latency_ms": round(late * 1000, 3),
            "files": [f["filename"] for f in files],
        }
        self._touch()
        resource: dict[str, Any] = {"type": rtype}
        if message is not None:
            resource["message"] = message
        return {
            "interaction": {
                "id": str(it["id_int"]),
                "type": it["type"],
                "response_message_id": msg_id,
                "response_message_loading": loading,
                "response_message_ephemeral": ephemeral,
            },
            "resource": resource,
        }

    async def _followup(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        it = self._interaction_by_token(p["token"])
        if it["response"] is None:
            raise ApiError(404, 10015, "Unknown Webhook", kind="followup_before_response")
        ch = self.channels[int(it["channel_id"])]
        body = body if isinstance(body, dict) else {}
        self._check_message_body(body, files, creating=True)
        original = self.messages.get(it.get("original_id") or 0)
        if original is not None and original["message"]["flags"] & LOADING:
            # the first followup after a deferral replaces the "thinking" message
            body = dict(body)
            body.pop("flags", None)
            self._edit_message(original, body, files)
            original["message"]["edited_timestamp"] = None
            original["edits"].pop()
            rec = original
        else:
            flags = int(body.get("flags") or 0)
            rec = self._new_message(
                ch,
                {**body, "flags": flags},
                files,
                kind="followup",
                interaction_id=it["id_int"],
            )
        it["followup_ids"].append(int(rec["id"]))
        self._touch()
        wait = request.query.get("wait", "false").lower() in ("1", "true")
        return rec["message"] if wait else None

    def _webhook_message(self, it: dict[str, Any], mid: str) -> dict[str, Any]:
        if mid == "@original":
            rec = self.messages.get(it.get("original_id") or 0)
        else:
            m = int(mid) if mid.isdigit() else 0
            rec = (
                self.messages.get(m)
                if m in it["followup_ids"] or m == it.get("original_id")
                else None
            )
        if rec is None or rec["deleted"]:
            raise ApiError(404, 10008, "Unknown Message", kind="unknown_message")
        return rec

    async def _webhook_get(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        it = self._interaction_by_token(p["token"])
        return self._webhook_message(it, p.get("message_id", "@original"))["message"]

    async def _webhook_patch(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        it = self._interaction_by_token(p["token"])
        rec = self._webhook_message(it, p.get("message_id", "@original"))
        self._check_message_body(body, files, creating=False)
        self._edit_message(rec, body, files)
        it["edits"].append(
            {
                "at": time.time(),
                "message_id": rec["id"],
                "original": int(rec["id"]) == it.get("original_id"),
                "data": body,
            }
        )
        self._touch()
        return rec["message"]

    async def _webhook_delete(
        self, request: web.Request, p: dict[str, str], body: Any, files: Any
    ) -> Any:
        it = self._interaction_by_token(p["token"])
        rec = self._webhook_message(it, p.get("message_id", "@original"))
        rec["deleted"] = True
        self._touch()
        return None

    # ------------------------------------------------------------------ gateway
    async def _send(self, session: Session, payload: dict[str, Any]) -> None:
        ws = session.ws
        if ws is None or ws.closed:
            return
        try:
            await ws.send_str(json.dumps(payload, separators=(",", ":")))
        except (ConnectionError, RuntimeError) as exc:
            log.debug("gateway send failed: %s", exc)

    async def dispatch(self, session: Session, event: str, data: Any) -> None:
        async with session.lock:
            session.seq += 1
            payload = {"op": 0, "t": event, "s": session.seq, "d": data}
            session.buffer.append(payload)
            await self._send(session, payload)

    def sessions_for(self, guild_id: int | None) -> list[Session]:
        """Sessions that own ``guild_id``'s shard, newest first."""
        out = [s for s in self.sessions.values() if s.resumable and s.owns(guild_id)]
        out.sort(key=lambda s: s.identified_at, reverse=True)
        return out

    async def _dispatch_guild(self, guild_id: int | None, event: str, data: Any) -> list[Session]:
        sessions = self.sessions_for(guild_id)
        for s in sessions:
            await self.dispatch(s, event, data)
        return sessions

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=16 * 1024 * 1024, autoping=True)
        await ws.prepare(request)
        self._sockets.add(ws)
        session: Session | None = None
        try:
            await ws.send_str(
                json.dumps(
                    {
                        "op": 10,
                        "d": {"heartbeat_interval": self.heartbeat_interval_ms},
                        "s": None,
                        "t": None,
                    }
                )
            )
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    if msg.type == WSMsgType.ERROR:
                        break
                    continue
                try:
                    frame = json.loads(msg.data)
                except ValueError:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
                op = frame.get("op")
                d = frame.get("d")
                if op == 1:
                    await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
                elif op == 2:
                    if session is not None:
                        await ws.close(code=4005, message=b"Already authenticated.")
                        break
                    session = await self._identify(ws, d or {})
                    if session is None:
                        break
                elif op == 6:
                    session = await self._resume(ws, d or {})
                elif op in (3, 4, 8, 31):
                    pass
                else:
                    await ws.close(code=4001, message=b"Unknown opcode.")
                    break
        finally:
            self._sockets.discard(ws)
            if session is not None and session.ws is ws:
                session.ws = None
                if ws.close_code in (1000, 1001):
                    # a client closing with 1000/1001 ends its session, as on Discord
                    session.resumable = False
                    self.sessions.pop(session.id, None)
                self._touch()
        return ws

    async def _identify(self, ws: web.WebSocketResponse, d: dict[str, Any]) -> Session | None:
        token = str(d.get("token", ""))
        if token.removeprefix("Bot ") != self.bot_token:
            self._error("auth", "gateway identify with a wrong token")
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        shard_id, shard_count = (d.get("shard") or [0, 1])[:2]
        shard_id, shard_count = int(shard_id), max(1, int(shard_count))
        if shard_id >= shard_count:
            await ws.close(code=4010, message=b"Invalid shard.")
            return None
        session = Session(
            id=secrets.token_hex(16),
            shard_id=shard_id,
            shard_count=shard_count,
            identified_at=time.time(),
            ws=ws,
        )
        self.sessions[session.id] = session
        guilds = [g for g in self.guilds.values() if session.owns(g.id)]
        ready = {
            "v": 10,
            "user": {**self.bot_user.to_json(), "verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "shard": [shard_id, shard_count],
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
        }
        await self.dispatch(session, "READY", ready)
        for g in guilds:
            session.guild_ids.append(g.id)
            await self.dispatch(session, "GUILD_CREATE", self.guild_json(g, create=True))
        self._touch()
        return session

    async def _resume(self, ws: web.WebSocketResponse, d: dict[str, Any]) -> Session | None:
        session = self.sessions.get(str(d.get("session_id")))
        if (
            session is None
            or not session.resumable
            or str(d.get("token", "")).removeprefix("Bot ") != self.bot_token
        ):
            await ws.send_str(json.dumps({"op": 9, "d": False, "s": None, "t": None}))
            return None
        old = session.ws
        if old is not None and old is not ws and not old.closed:
            await old.close(code=4000)
        async with session.lock:
            session.ws = ws
            session.resumes += 1
            seq = int(d.get("seq") or 0)
            for payload in list(session.buffer):
                if payload["s"] > seq:
                    await self._send(session, payload)
            session.seq += 1
            await self._send(session, {"op": 0, "t": "RESUMED", "s": session.seq, "d": {}})
        self._touch()
        return session

    # ------------------------------------------------------------------ interactions (control)
    def _member_json(self, g: Guild, user: User, permissions: str | None) -> dict[str, Any]:
        if permissions is None:
            perms = MEMBER_PERMISSIONS | (ADMINISTRATOR if user.id == g.owner_id else 0)
            if user.id == g.owner_id:
                perms = (1 << 51) - 1
            permissions = str(perms)
        return {
            "user": user.to_json(),
            "roles": [],
            "joined_at": iso(g.joined_at),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "avatar": None,
            "pending": False,
            "premium_since": None,
            "permissions": str(permissions),
        }

    def _find_command(self, name: str, guild_id: int | None) -> tuple[dict[str, Any] | None, bool]:
        top = name.split(" ")[0]
        if guild_id:
            for c in self.commands_guild.get(guild_id, {}).values():
                if c["name"] == top and c.get("type", 1) == 1:
                    return c, True
        for c in self.commands_global.values():
            if c["name"] == top and c.get("type", 1) == 1:
                return c, False
        return None, False

    def _resolve_value(
        self, otype: int, value: Any, resolved: dict[str, dict[str, Any]], g: Guild | None
    ) -> Any:
        if otype == 7:
            ch = self.channels.get(int(value))
            if ch is not None:
                cj = self.channel_json(ch)
                cj["permissions"] = str(MEMBER_PERMISSIONS)
                resolved.setdefault("channels", {})[str(ch.id)] = cj
            return str(value)
        if otype in (6, 9):
            uid = int(value)
            user = self.users.get(uid)
            if user is not None:
                resolved.setdefault("users", {})[str(uid)] = user.to_json()
                if g is not None:
                    m = self._member_json(g, user, None)
                    m.pop("user")
                    resolved.setdefault("members", {})[str(uid)] = m
                return str(value)
            if g is not None and otype == 9 and uid in (g.id, g.bot_role_id):
                role = next(r for r in self._roles_json(g) if r["id"] == str(uid))
                resolved.setdefault("roles", {})[str(uid)] = role
            return str(value)
        if otype == 8 and g is not None:
            for r in self._roles_json(g):
                if r["id"] == str(value):
                    resolved.setdefault("roles", {})[r["id"]] = r
            return str(value)
        if otype == 4:
            return int(value)
        if otype == 10:
            return float(value)
        if otype == 5:
            return bool(value)
        return value

    @staticmethod
    def _infer_type(value: Any) -> int:
        if isinstance(value, bool):
            return 5
        if isinstance(value, int):
            return 4
        if isinstance(value, float):
            return 10
        return 3

    def _build_options(
        self,
        name: str,
        options: dict[str, Any],
        focused: str | None,
        command: dict[str, Any] | None,
        g: Guild | None,
        resolved: dict[str, dict[str, Any]],
        kind: str,
    ) -> list[dict[str, Any]]:
        parts = name.split(" ")[1:]
        defs = command.get("options", []) if command else None

        def leaf(defs_: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
            out = []
            by_name = {o["name"]: o for o in defs_ or []}
            for oname, value in options.items():
                od = by_name.get(oname)
                if defs_ is not None and od is None:
                    self._error("control", f"option {oname!r} not in synced command {name!r}")
                otype = int(od["type"]) if od else self._infer_type(value)
                opt: dict[str, Any] = {"name": oname, "type": otype}
                if kind == "autocomplete" and oname == focused:
                    opt["value"] = "" if value is None else str(value)
                    opt["focused"] = True
                else:
                    opt["value"] = self._resolve_value(otype, value, resolved, g)
                out.append(opt)
            return out

        if not parts:
            return leaf(defs)
        # nested: group? subcommand
        chain: list[tuple[str, int, list[dict[str, Any]] | None]] = []
        cur = defs
        for i, part in enumerate(parts):
            od = (
                next((o for o in cur or [] if o["name"] == part), None) if cur is not None else None
            )
            if od is not None:
                otype = int(od["type"])
                cur = od.get("options", [])
            else:
                if cur is not None:
                    self._error("control", f"subcommand {part!r} not in synced command {name!r}")
                otype = 2 if i < len(parts) - 1 else 1
                cur = None
            chain.append((part, otype, cur))
        inner = leaf(chain[-1][2])
        for part, otype, _ in reversed(chain):
            inner = [{"name": part, "type": otype, "options": inner}]
        return inner

    async def inject_interaction(self, spec: dict[str, Any]) -> dict[str, Any]:
        kind = spec.get("kind", "command")
        itype = {"command": 2, "component": 3, "autocomplete": 4, "modal": 5}.get(kind)
        if itype is None:
            raise ApiError(400, 0, f"unknown kind {kind!r}")
        if spec.get("user_id") is None:
            raise ApiError(400, 0, "user_id is required")
        user = self._ensure_user(int(spec["user_id"]))
        guild_id = _int(spec.get("guild_id"))
        channel_id = _int(spec.get("channel_id"))
        message_rec = None
        if kind == "component" or (kind == "modal" and spec.get("message_id")):
            message_rec = self._find_component_message(spec)
            if message_rec is not None:
                channel_id = channel_id or int(message_rec["channel_id"])
                guild_id = guild_id or _int(message_rec["guild_id"])
        g: Guild | None = None
        if guild_id:
            g = self.guilds.get(guild_id)
            if g is None:
                raise ApiError(404, 10004, "unknown guild")
            if channel_id is None:
                channel_id = g.channel_ids[0]
        if channel_id is None:
            ch = self._dm_channel(user.id)
        else:
            found = self.channels.get(channel_id)
            if found is None:
                raise ApiError(404, 10003, "unknown channel")
            ch = found
            if ch.guild_id and g is None:
                g = self.guilds[ch.guild_id]
        iid = self._ids.next()
        token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)
        name = spec.get("name") or ""
        data: dict[str, Any]
        if itype in (2, 4):
            if not name:
                raise ApiError(400, 0, "name is required for commands")
            command, is_guild = self._find_command(name, g.id if g else None)
            resolved: dict[str, dict[str, Any]] = {}
            options = self._build_options(
                name,
                dict(spec.get("options") or {}),
                spec.get("focused"),
                command,
                g,
                resolved,
                kind,
            )
            data = {
                "id": command["id"] if command else str(self._ids.next()),
                "name": name.split(" ")[0],
                "type": 1,
                "options": options,
            }
            if resolved:
                data["resolved"] = resolved
            if command is not None and is_guild and g is not None:
                data["guild_id"] = str(g.id)
            if command is None:
                self._error("control", f"command {name!r} was not synced; option types inferred")
        elif itype == 3:
            custom_id = spec.get("custom_id")
            if not custom_id:
                raise ApiError(400, 0, "custom_id is required for components")
            ctype = spec.get("component_type")
            if ctype is None:
                ctype = self._component_type(message_rec, custom_id) or (
                    3 if spec.get("values") else 2
                )
            data = {"custom_id": custom_id, "component_type": int(ctype)}
            if spec.get("values") is not None or int(ctype) in (3, 5, 6, 7, 8):
                data["values"] = [str(v) for v in spec.get("values") or []]
        else:
            custom_id = spec.get("custom_id")
            if not custom_id:
                raise ApiError(400, 0, "custom_id is required for modals")
            components = spec.get("components")
            if components is None:
                components = [
                    {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
                    for k, v in (spec.get("values") or {}).items()
                ]
            data = {"custom_id": custom_id, "components": components}
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": token,
            "version": 1,
            "channel_id": str(ch.id),
            "channel": self.channel_json(ch),
            "app_permissions": str(self.bot_permissions(ch)),
            "locale": spec.get("locale", "en-US"),
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "context": 0 if g else 1,
        }
        if g is not None:
            payload["guild_id"] = str(g.id)
            payload["guild"] = {"id": str(g.id), "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["member"] = self._member_json(g, user, spec.get("permissions"))
            payload["authorizing_integration_owners"] = {"0": str(g.id)}
        else:
            payload["user"] = user.to_json()
            payload["authorizing_integration_owners"] = {"0": "0"}
        if message_rec is not None:
            payload["message"] = message_rec["message"]
        shard_sessions = self.sessions_for(g.id if g else None)
        live = [s for s in shard_sessions if s.ws is not None] or shard_sessions
        target = live[0] if live else None
        now = time.time()
        it = {
            "id": str(iid),
            "id_int": iid,
            "token": token,
            "type": itype,
            "kind": kind,
            "name": name or None,
            "custom_id": data.get("custom_id"),
            "user_id": str(user.id),
            "guild_id": str(g.id) if g else None,
            "channel_id": str(ch.id),
            "message_id": message_rec["id"] if message_rec else None,
            "shard_id": target.shard_id if target else None,
            "session_id": target.id if target else None,
            "dispatched_at": now,
            "payload": payload,
            "response": None,
            "late_responses": [],
            "followup_ids": [],
            "original_id": None,
            "edits": [],
        }
        self.interactions[iid] = it
        self.tokens[token] = iid
        if target is None:
            self._error(
                "no_shard", "no gateway session owns this interaction", interaction_id=str(iid)
            )
        else:
            await self.dispatch(target, "INTERACTION_CREATE", payload)
        it["dispatched_at"] = time.time()
        self._touch()
        return {"id": str(iid), "token": token, "shard_id": it["shard_id"]}

    def _find_component_message(self, spec: dict[str, Any]) -> dict[str, Any] | None:
        mid = _int(spec.get("message_id"))
        if mid is not None:
            rec = self.messages.get(mid)
            if rec is None:
                raise ApiError(404, 10008, "unknown message")
            return rec
        custom_id = str(spec.get("custom_id") or "")
        for m in sorted(self.messages, reverse=True):
            rec = self.messages[m]
            if not rec["deleted"] and self._component_type(rec, custom_id) is not None:
                return rec
        return None

    @staticmethod
    def _component_type(rec: dict[str, Any] | None, custom_id: str) -> int | None:
        if rec is None:
            return None
        stack = list(rec["message"].get("components") or [])
        while stack:
            c = stack.pop()
            if not isinstance(c, dict):
                continue
            if c.get("custom_id") == custom_id:
                return int(c.get("type", 2))
            stack.extend(c.get("components") or [])
            if isinstance(c.get("accessory"), dict):
                stack.append(c["accessory"])
        return None

    def interaction_view(self, it: dict[str, Any]) -> dict[str, Any]:
        orig = self.messages.get(it.get("original_id") or 0)
        return {
            "id": it["id"],
            "token": it["token"],
            "kind": it["kind"],
            "type": it["type"],
            "name": it["name"],
            "custom_id": it["custom_id"],
            "user_id": it["user_id"],
            "guild_id": it["guild_id"],
            "channel_id": it["channel_id"],
            "message_id": it["message_id"],
            "shard_id": it["shard_id"],
            "session_id": it["session_id"],
            "dispatched_at": it["dispatched_at"],
            "response": it["response"],
            "late_responses": it["late_responses"],
            "extra_acks": it.get("extra_acks", []),
            "followups": [self.message_view(self.messages[m]) for m in it["followup_ids"]],
            "original": self.message_view(orig) if orig else None,
            "edits": it["edits"],
            "payload": it["payload"],
        }

    @staticmethod
    def message_view(rec: dict[str, Any]) -> dict[str, Any]:
        msg = rec["message"]
        return {
            "id": rec["id"],
            "kind": rec["kind"],
            "channel_id": rec["channel_id"],
            "guild_id": rec["guild_id"],
            "dm_user_id": rec["dm_user_id"],
            "interaction_id": rec["interaction_id"],
            "content": msg["content"],
            "embeds": msg["embeds"],
            "components": msg["components"],
            "flags": msg["flags"],
            "ephemeral": bool(msg["flags"] & EPHEMERAL),
            "attachments": msg["attachments"],
            "allowed_mentions": rec["allowed_mentions"],
            "created_at": rec["created_at"],
            "edits": rec["edits"],
            "deleted": rec["deleted"],
            "message": msg,
        }

    # ------------------------------------------------------------------ control API
    async def _control(self, request: web.Request) -> web.StreamResponse:
        from .control_api import handle_control

        try:
            return await handle_control(self, request)
        except ApiError as err:
            return json_response(err.body(), status=err.status if err.status != 401 else 400)
        except (ValueError, KeyError, TypeError) as exc:
            return json_response({"code": 0, "message": f"bad request: {exc!r}"}, status=400)

    async def wait_changed(self, seconds: float) -> None:
        ev = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ev.wait(), seconds)

    async def add_guild_live(self, guild: Guild) -> None:
        for s in self.sessions_for(guild.id):
            s.guild_ids.append(guild.id)
            await self.dispatch(s, "GUILD_CREATE", self.guild_json(guild, create=True))

    async def remove_guild_live(self, guild_id: int) -> None:
        g = self.guilds.pop(guild_id, None)
        if g is None:
            raise ApiError(404, 10004, "unknown guild")
        for cid in g.channel_ids:
            self.channels.pop(cid, None)
        self.commands_guild.pop(guild_id, None)
        for s in self.sessions_for(guild_id):
            if guild_id in s.guild_ids:
                s.guild_ids.remove(guild_id)
            await self.dispatch(s, "GUILD_DELETE", {"id": str(guild_id)})
        self._touch()

    def invalid_requests(self, window_s: float = 600.0) -> int:
        """401/403/429 answers in the last ``window_s`` (Discord bans an IP at 10,000/10 min)."""
        since = time.time() - window_s
        n = 0
        for r in reversed(self.requests):
            if r["at"] < since:
                break
            if r["status"] in (401, 403, 429):
                n += 1
        return n

    async def update_channel_live(self, ch: Channel) -> None:
        if ch.guild_id:
            await self._dispatch_guild(ch.guild_id, "CHANNEL_UPDATE", self.channel_json(ch))

    async def create_channel_live(self, ch: Channel) -> None:
        if ch.guild_id:
            await self._dispatch_guild(ch.guild_id, "CHANNEL_CREATE", self.channel_json(ch))

    async def disconnect(self, shard_id: int | None, code: int, resumable: bool) -> list[str]:
        closed = []
        for s in list(self.sessions.values()):
            if shard_id is not None and s.shard_id != shard_id:
                continue
            if s.ws is None:
                continue
            if not resumable:
                s.resumable = False
            ws, s.ws = s.ws, None
            await ws.close(code=code)
            closed.append(s.id)
        self._touch()
        return closed

    async def reconnect(self, shard_id: int | None) -> list[str]:
        out = []
        for s in list(self.sessions.values()):
            if (shard_id is None or s.shard_id == shard_id) and s.ws is not None:
                await self._send(s, {"op": 7, "d": None, "s": None, "t": None})
                out.append(s.id)
        return out

    def reset(self) -> None:
        """Forgets guilds, users, messages, interactions, records; keeps gateway sessions."""
        self._reset_state()
        for s in self.sessions.values():
            s.guild_ids.clear()
        self._touch()


async def serve(host: str = "127.0.0.1", port: int = 8790, **opts: Any) -> None:
    """Runs an emulator until cancelled (``python -m sandbox discord --port N``)."""
    emu = DiscordEmulator(**opts)
    url = await emu.start(host, port)
    print(f"Discord emulator on {url} (api {emu.api_url}, gateway {emu.gateway_url})", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emu.stop()
