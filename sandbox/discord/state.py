"""The in-memory world of the emulated Discord and the records tests read back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ApiError
from .models import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    ATTACH_FILES,
    BOT_DM_PERMISSIONS,
    BOT_ROLE_PERMISSIONS,
    DM,
    EMBED_LINKS,
    EPHEMERAL,
    EVERYONE_PERMISSIONS,
    GROUP_DM,
    INTERACTION_RESPONSE_PERMISSIONS,
    JSON,
    LOADING,
    MENTION_EVERYONE,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    Channel,
    Guild,
    InteractionRecord,
    Role,
    Snowflakes,
    StoredMessage,
    User,
    iso,
)

log = logging.getLogger("sandbox.discord")


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request (only its name and size are kept)."""

    field: str | None
    filename: str
    size: int
    content_type: str | None


class World:
    """Users, guilds, channels, messages, interactions and commands, and what happened."""

    def __init__(self, bot_name: str = "Encore") -> None:
        self.ids = Snowflakes(worker=1)
        self.guild_ids = Snowflakes(worker=2)  # consecutive guilds land on consecutive shards
        self.bot_user = User(id=self.ids.next(), username=bot_name, bot=True)
        self.application_id = self.bot_user.id
        self.base_url = ""
        self._changed = asyncio.Event()
        self.reset()

    def reset(self) -> None:
        self.users: dict[int, User] = {self.bot_user.id: self.bot_user}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.dm_channels: dict[int, int] = {}  # user id -> DM channel with the bot
        self.messages: dict[int, StoredMessage] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self.tokens: dict[str, int] = {}  # interaction token -> interaction id
        self.requests: list[JSON] = []
        self.errors: list[JSON] = []
        self.commands_global: dict[str, JSON] = {}  # "type:name" -> command
        self.commands_guild: dict[int, dict[str, JSON]] = {}
        # (channel, author, nonce) -> message id, for enforce_nonce
        self.nonces: dict[tuple[int, int, str], int] = {}

    # ------------------------------------------------------------------ change feed
    def touch(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_changed(self, seconds: float) -> None:
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)

    def record_error(self, kind: str, message: str, **extra: Any) -> None:
        self.errors.append({"at": time.time(), "kind": kind, "message": message, **extra})
        log.info("sandbox discord error %s: %s", kind, message)

    # ------------------------------------------------------------------ people and places
    def add_user(
        self,
        username: str,
        id: int | None = None,
        dms_open: bool = True,
        installed_app: bool | None = None,
    ) -> User:
        uid = int(id) if id else self.ids.next()
        user = self.users.get(uid)
        if user is None:
            user = User(id=uid, username=username, dms_open=dms_open)
            self.users[uid] = user
        else:
            user.username = username or user.username
            user.dms_open = dms_open
        if installed_app is not None:
            user.installed_app = installed_app
        self.touch()
        return user

    def ensure_user(self, uid: int) -> User:
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
        channels: Sequence[JSON] | None = None,
        bot_member: bool = True,
        furnished: bool = False,
    ) -> Guild:
        gid = int(id) if id else self.guild_ids.next()
        if owner_id is None:
            owner_id = self.add_user(f"owner-{name}"[:32]).id
        else:
            self.ensure_user(int(owner_id))
        guild = Guild(
            id=gid,
            name=name,
            owner_id=int(owner_id),
            bot_role_id=self.ids.next(),
            bot_member=bot_member,
            furnished=furnished,
        )
        guild.roles[gid] = Role(gid, "@everyone", EVERYONE_PERMISSIONS, 0)
        bot_role = Role(guild.bot_role_id, self.bot_user.username, BOT_ROLE_PERMISSIONS, 1, True)
        guild.roles[bot_role.id] = bot_role
        guild.bot_roles.append(bot_role.id)
        self.guilds[gid] = guild
        for i, spec in enumerate(channels or [{"name": "general"}]):
            self.new_channel(guild, spec, position=i)
        self.touch()
        return guild

    def new_channel(self, guild: Guild, spec: JSON, position: int | None = None) -> Channel:
        ch = Channel(
            id=int(spec["id"]) if spec.get("id") else self.ids.next(),
            name=str(spec.get("name", "general")),
            guild_id=guild.id,
            bot_can_post=bool(spec.get("bot_can_post", True)),
            bot_can_embed=bool(spec.get("bot_can_embed", True)),
            bot_can_view=bool(spec.get("bot_can_view", True)),
            position=len(guild.channel_ids) if position is None else position,
        )
        self.channels[ch.id] = ch
        guild.channel_ids.append(ch.id)
        return ch

    def dm_channel(self, user_id: int) -> Channel:
        """The DM between the bot and ``user_id`` (created on first use)."""
        cid = self.dm_channels.get(user_id)
        if cid is not None:
            return self.channels[cid]
        ch = Channel(id=self.ids.next(), name="", type=DM, recipient_id=user_id)
        self.channels[ch.id] = ch
        self.dm_channels[user_id] = ch.id
        return ch

    def private_channel(self, user_ids: Sequence[int], name: str | None = None) -> Channel:
        """A group DM (or, for two people and no name, their DM) the bot is not part of."""
        for uid in user_ids:
            self.ensure_user(uid)
        kind = DM if len(user_ids) == 2 and not name else GROUP_DM
        ch = Channel(id=self.ids.next(), name=name or "", type=kind, recipient_ids=list(user_ids))
        self.channels[ch.id] = ch
        self.touch()
        return ch

    def channel(self, cid: str | int) -> Channel:
        try:
            ch = self.channels.get(int(cid))
        except ValueError:
            ch = None
        if ch is None:
            raise ApiError(404, 10003, "Unknown Channel", kind="unknown_channel")
        return ch

    def guild(self, gid: str | int) -> Guild:
        g = self.guilds.get(int(gid)) if str(gid).isdigit() else None
        if g is None:
            raise ApiError(404, 10004, "Unknown Guild", kind="unknown_guild")
        return g

    def bot_guild(self, gid: str | int) -> Guild:
        """A guild the bot may read: one it is a member of (else 403 Missing Access)."""
        g = self.guild(gid)
        if not g.bot_member:
            raise ApiError(403, 50001, "Missing Access", kind="missing_access")
        return g

    # ------------------------------------------------------------------ roles
    def add_role(self, guild: Guild, name: str, permissions: int) -> Role:
        role = Role(self.ids.next(), name, permissions, len(guild.roles))
        guild.roles[role.id] = role
        self.touch()
        return role

    def role(self, guild: Guild, rid: str | int) -> Role:
        role = guild.roles.get(int(rid)) if str(rid).isdigit() else None
        if role is None:
            raise ApiError(404, 10011, "Unknown Role", kind="unknown_role")
        return role

    # ------------------------------------------------------------------ permissions
    def overwrites(self, ch: Channel) -> list[JSON]:
        """The channel's overwrites as Discord sends them: those set through the control API,
        with the bot's member overwrite made by the ``bot_can_*`` switches merged in."""
        deny = 0
        if not ch.bot_can_post:
            deny |= SEND_MESSAGES
        if not ch.bot_can_embed:
            deny |= EMBED_LINKS
        if not ch.bot_can_view:
            deny |= VIEW_CHANNEL
        bot_id = str(self.bot_user.id)
        out = [dict(ow) for ow in ch.permission_overwrites]
        if deny:
            mine = next((ow for ow in out if ow["type"] == 1 and ow["id"] == bot_id), None)
            if mine is None:
                out.append({"id": bot_id, "type": 1, "allow": "0", "deny": str(deny)})
            else:
                mine["deny"] = str(int(mine["deny"]) | deny)
                mine["allow"] = str(int(mine["allow"]) & ~deny)
        return out

    def bot_permissions(self, ch: Channel) -> int:
        """The bot's permissions in ``ch`` by Discord's algorithm (docs: Permissions,
        "Permission Hierarchy"): @everyone's and the bot's roles' permissions, all of them
        with Administrator, then the channel's overwrites for @everyone, for the bot's roles
        together, for the bot itself; no View Channel means nothing, no Send Messages means
        no embeds, files or mentions of everyone (implicit permissions)."""
        if ch.is_bot_dm:
            return VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS
        if ch.guild_id is None:
            return 0
        guild = self.guilds[ch.guild_id]
        perms = guild.roles[guild.id].permissions
        for rid in guild.bot_roles:
            if rid in guild.roles:
                perms |= guild.roles[rid].permissions
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        overwrites = self.overwrites(ch)
        everyone = [ow for ow in overwrites if ow["type"] == 0 and int(ow["id"]) == guild.id]
        roles = [
            ow for ow in overwrites if ow["type"] == 0 and int(ow["id"]) in set(guild.bot_roles)
        ]
        member = [ow for ow in overwrites if ow["type"] == 1 and int(ow["id"]) == self.bot_user.id]
        for group in (everyone, roles, member):
            deny = allow = 0
            for ow in group:
                deny |= int(ow["deny"])
                allow |= int(ow["allow"])
            perms = (perms & ~deny) | allow
        if not perms & VIEW_CHANNEL:
            return 0
        if not perms & SEND_MESSAGES:
            perms &= ~(EMBED_LINKS | ATTACH_FILES | MENTION_EVERYONE)
        return perms

    def app_permissions(self, ch: Channel, guild: Guild | None) -> int:
        """``app_permissions`` of an interaction in ``ch`` (docs: Interaction Structure)."""
        if ch.is_bot_dm:
            return BOT_DM_PERMISSIONS
        if guild is None:
            return INTERACTION_RESPONSE_PERMISSIONS
        if not guild.bot_member:
            return EVERYONE_PERMISSIONS & (INTERACTION_RESPONSE_PERMISSIONS | BOT_DM_PERMISSIONS)
        return self.bot_permissions(ch)

    # ------------------------------------------------------------------ messages
    def create_message(
        self,
        ch: Channel,
        body: JSON,
        files: Sequence[Upload],
        *,
        kind: str,
        interaction_id: int | None = None,
        author: User | None = None,
        extra_flags: int = 0,
    ) -> StoredMessage:
        mid = self.ids.next()
        now = time.time()
        author = author or self.bot_user
        nonce = body.get("nonce")
        wire: JSON = {
            "id": str(mid),
            "channel_id": str(ch.id),
            "author": author.to_json(),
            "content": body.get("content") or "",
            "embeds": list(body.get("embeds") or []),
            "components": list(body.get("components") or []),
            "attachments": self.attachments(ch, files),
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
        if nonce is not None:
            wire["nonce"] = nonce
        if ch.guild_id:
            wire["guild_id"] = str(ch.guild_id)
        if interaction_id is not None:
            wire["webhook_id"] = str(self.application_id)
            wire["application_id"] = str(self.application_id)
        message = StoredMessage(
            id=mid,
            kind=kind,
            channel_id=ch.id,
            guild_id=ch.guild_id,
            dm_user_id=ch.recipient_id if ch.is_bot_dm else None,
            interaction_id=interaction_id,
            author_id=author.id,
            wire=wire,
            allowed_mentions=body.get("allowed_mentions"),
            created_at=now,
            nonce=None if nonce is None else str(nonce),
        )
        self.messages[mid] = message
        ch.last_message_id = mid
        self.touch()
        return message

    def attachments(self, ch: Channel, files: Sequence[Upload]) -> list[JSON]:
        out = []
        for f in files:
            aid = self.ids.next()
            url = f"{self.base_url}/attachments/{ch.id}/{aid}/{f.filename}"
            out.append(
                {
                    "id": str(aid),
                    "filename": f.filename,
                    "size": f.size,
                    "url": url,
                    "proxy_url": url,
                    "content_type": f.content_type or "application/octet-stream",
                }
            )
        return out

    def edited(self, message: StoredMessage, body: JSON) -> JSON:
        """The message as it would read after the edit ``body`` (for the emptiness rule)."""
        after = dict(message.wire)
        for key in ("content", "embeds", "components", "attachments"):
            if key in body:
                after[key] = body[key]
        return after

    def edit_message(
        self, message: StoredMessage, body: JSON, files: Sequence[Upload], *, record: bool = True
    ) -> StoredMessage:
        wire = message.wire
        changed: JSON = {}
        for key in ("content", "embeds", "components"):
            if key in body:
                value = body[key]
                wire[key] = value if value is not None else ("" if key == "content" else [])
                changed[key] = wire[key]
        if body.get("flags") is not None:
            wire["flags"] = (int(wire["flags"]) & EPHEMERAL) | int(body["flags"])
        wire["flags"] = int(wire["flags"]) & ~LOADING
        if files or "attachments" in body:
            ch = self.channels[message.channel_id]
            kept = []
            if body.get("attachments") is not None:
                keep_ids = {str(a.get("id")) for a in body["attachments"]}
                kept = [a for a in wire["attachments"] if a["id"] in keep_ids]
            wire["attachments"] = kept + self.attachments(ch, files)
        if "allowed_mentions" in body:
            message.allowed_mentions = body["allowed_mentions"]
        if record:
            wire["edited_timestamp"] = iso(time.time())
            message.edits.append({"at": time.time(), **changed})
        self.touch()
        return message

    def message_in(self, ch: Channel, mid: str) -> StoredMessage:
        message = self.messages.get(int(mid)) if mid.isdigit() else None
        if message is None or message.deleted or message.channel_id != ch.id:
            raise ApiError(404, 10008, "Unknown Message", kind="unknown_message")
        return message

    # ------------------------------------------------------------------ records
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
