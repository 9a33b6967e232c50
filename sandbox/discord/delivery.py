"""Interactions a test injects, delivered only as a Discord client could send them.

A person can use a command only where Discord offers it: a command registered in that
scope (the guild's commands, or global ones), whose ``contexts`` include where they are
(0 a server, 1 the DM with the bot, 2 a group DM or another DM), installed there
(``integration_types`` 0 with the bot in that server or DM, 1 when the person has added
the app to their account), and, in a server, whose ``default_member_permissions`` the
member has (or that the server's admins granted them). Anything else is refused with 403
and a ``reason``, as the client would never send it. A click waits until the request that
rendered its message has been answered: nobody can press a button Discord has not shown.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ApiError
from .models import (
    ADMINISTRATOR,
    APPLICATION_COMMAND,
    APPLICATION_COMMAND_AUTOCOMPLETE,
    BOT_DM_CONTEXT,
    CHAT_INPUT,
    GUILD_CONTEXT,
    JSON,
    MEMBER_PERMISSIONS,
    MESSAGE_COMMAND,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    PRIVATE_CHANNEL_CONTEXT,
    USER_COMMAND,
    Channel,
    Guild,
    InteractionRecord,
    StoredMessage,
    User,
)
from .wire import channel_json, member_json, member_permissions, roles_json

if TYPE_CHECKING:
    from .emulator import DiscordEmulator

KINDS = {
    "command": (APPLICATION_COMMAND, CHAT_INPUT),
    "user_command": (APPLICATION_COMMAND, USER_COMMAND),
    "message_command": (APPLICATION_COMMAND, MESSAGE_COMMAND),
    "autocomplete": (APPLICATION_COMMAND_AUTOCOMPLETE, CHAT_INPUT),
    "component": (MESSAGE_COMPONENT, 0),
    "modal": (MODAL_SUBMIT, 0),
}
CONTEXT_NAMES = {0: "a server", 1: "the DM with the bot", 2: "a private channel"}


class Undeliverable(ApiError):
    """The interaction a test asked for is one a Discord client would never send."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(403, 0, message, kind="undeliverable")
        self.reason = reason

    def body(self) -> JSON:
        return {**super().body(), "reason": self.reason}


class CommandPermissions:
    """Server Settings > Integrations: admins grant a command to a member or to everyone
    (the ``@everyone`` role), or deny it.

    Docs, "Application Command Permissions": overrides take precedence over
    ``default_member_permissions``, a member's over the role's; members with
    Administrator can use every command.
    """

    EVERYONE = 0

    def __init__(self) -> None:
        self._overrides: dict[tuple[int, str], dict[int, bool]] = {}

    def reset(self) -> None:
        self._overrides.clear()

    def set(self, guild_id: int, command: str, user_id: int | None, allow: bool) -> None:
        target = self.EVERYONE if user_id is None else user_id
        self._overrides.setdefault((guild_id, command), {})[target] = allow

    def override(self, guild_id: int, command: str, user_id: int) -> bool | None:
        overrides = self._overrides.get((guild_id, command), {})
        if user_id in overrides:
            return overrides[user_id]
        return overrides.get(self.EVERYONE)


@dataclass
class Where:
    channel: Channel
    guild: Guild | None
    context: int


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


class Deliveries:
    def __init__(self, emu: DiscordEmulator) -> None:
        self.emu = emu
        self.world = emu.world

    # ------------------------------------------------------------------ entry point
    async def inject(self, spec: JSON) -> JSON:
        world = self.world
        kind = spec.get("kind", "command")
        if kind not in KINDS:
            raise ApiError(400, 0, f"unknown kind {kind!r} (one of {', '.join(KINDS)})")
        itype, ctype = KINDS[kind]
        if spec.get("user_id") is None:
            raise ApiError(400, 0, "user_id is required")
        user = world.ensure_user(int(spec["user_id"]))
        message = self._source_message(kind, spec)
        if message is not None and kind in ("component", "modal"):
            await self._rendered(message)
        where = self._where(spec, user, message)
        iid = world.ids.next()
        token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)
        name = str(spec.get("name") or "")
        owners: dict[str, str]
        if itype in (APPLICATION_COMMAND, APPLICATION_COMMAND_AUTOCOMPLETE):
            data, owners = self._command_data(kind, ctype, name, spec, user, where, message)
        elif itype == MESSAGE_COMPONENT:
            data = self._component_data(spec, message)
            owners = self._inherited_owners(message, user, where)
        else:
            data = self._modal_data(spec)
            owners = self._inherited_owners(message, user, where)
        payload = self._payload(iid, token, itype, data, user, where, owners, spec)
        if message is not None and kind in ("component", "modal"):
            payload["message"] = message.wire
        session = self.emu.gateway.interaction_session(where.guild.id if where.guild else None)
        record = InteractionRecord(
            id=iid,
            token=token,
            type=itype,
            kind=kind,
            name=name or None,
            custom_id=data.get("custom_id"),
            user_id=user.id,
            guild_id=where.guild.id if where.guild else None,
            channel_id=where.channel.id,
            message_id=message.id
            if message is not None and kind in ("component", "modal")
            else None,
            context=where.context,
            payload=payload,
            dispatched_at=time.time(),
            shard_id=session.shard_id if session else None,
            session_id=session.id if session else None,
        )
        world.interactions[iid] = record
        world.tokens[token] = iid
        if session is None:
            world.record_error(
                "no_shard", "no gateway session owns this interaction", interaction_id=str(iid)
            )
        else:
            await self.emu.gateway.dispatch(session, "INTERACTION_CREATE", payload)
        record.dispatched_at = time.time()
        world.touch()
        return {"id": str(iid), "token": token, "shard_id": record.shard_id}

    # ------------------------------------------------------------------ where it happens
    def _source_message(self, kind: str, spec: JSON) -> StoredMessage | None:
        """The message clicked, submitted from, or targeted by a message command."""
        world = self.world
        if kind == "message_command":
            mid = _int(spec.get("target_id") or spec.get("message_id"))
            if mid is None:
                raise ApiError(400, 0, "message_command needs target_id (a message id)")
        elif kind in ("component", "modal"):
            mid = _int(spec.get("message_id"))
        else:
            return None
        if mid is not None:
            message = world.messages.get(mid)
            if message is None or message.deleted:
                raise ApiError(404, 10008, "unknown message")
            return message
        if kind == "component":
            custom_id = str(spec.get("custom_id") or "")
            for m in sorted(world.messages, reverse=True):
                found = world.messages[m]
                if not found.deleted and component_type(found, custom_id) is not None:
                    return found
        return None

    async def _rendered(self, message: StoredMessage) -> None:
        try:
            await asyncio.wait_for(message.settled.wait(), self.emu.settings.render_timeout_s)
        except TimeoutError:
            self.world.record_error(
                "control",
                "clicked a message whose request was never answered",
                message_id=str(message.id),
            )

    def _where(self, spec: JSON, user: User, message: StoredMessage | None) -> Where:
        world = self.world
        channel_id = _int(spec.get("channel_id"))
        guild_id = _int(spec.get("guild_id"))
        if message is not None:
            channel_id = channel_id or message.channel_id
            guild_id = guild_id or message.guild_id
        guild = None
        if guild_id:
            guild = world.guilds.get(guild_id)
            if guild is None:
                raise ApiError(404, 10004, "unknown guild")
            channel_id = channel_id or guild.channel_ids[0]
        if channel_id is None:
            return Where(world.dm_channel(user.id), None, BOT_DM_CONTEXT)
        ch = world.channels.get(channel_id)
        if ch is None:
            raise ApiError(404, 10003, "unknown channel")
        if ch.guild_id is not None:
            return Where(ch, guild or world.guilds[ch.guild_id], GUILD_CONTEXT)
        if ch.is_bot_dm:
            if ch.recipient_id != user.id:
                raise Undeliverable("not_a_recipient", "that DM belongs to another user")
            return Where(ch, None, BOT_DM_CONTEXT)
        if user.id not in ch.recipient_ids:
            raise Undeliverable("not_a_recipient", "the user is not in that private channel")
        return Where(ch, None, PRIVATE_CHANNEL_CONTEXT)

    # ------------------------------------------------------------------ commands
    def _find_command(self, name: str, ctype: int, guild: Guild | None) -> tuple[JSON | None, bool]:
        top = name.split(" ")[0] if ctype == CHAT_INPUT else name
        world = self.world
        if guild is not None:
            for c in world.commands_guild.get(guild.id, {}).values():
                if c["name"] == top and int(c.get("type") or CHAT_INPUT) == ctype:
                    return c, True
        for c in world.commands_global.values():
            if c["name"] == top and int(c.get("type") or CHAT_INPUT) == ctype:
                return c, False
        return None, False

    def _command_data(
        self,
        kind: str,
        ctype: int,
        name: str,
        spec: JSON,
        user: User,
        where: Where,
        message: StoredMessage | None,
    ) -> tuple[JSON, dict[str, str]]:
        world = self.world
        if not name:
            raise ApiError(400, 0, "name is required for commands")
        command, is_guild = self._find_command(name, ctype, where.guild)
        stale = bool(spec.get("stale"))
        if command is None:
            if not stale:
                raise Undeliverable(
                    "not_registered",
                    f"command {name!r} is not registered for {CONTEXT_NAMES[where.context]} "
                    "(a stale client may still send it: pass stale=true)",
                )
            world.record_error("control", f"command {name!r} was not synced; option types inferred")
            owners = self._default_owners(user, where)
        else:
            owners = self._authorize(command, is_guild, user, where, spec.get("permissions"))
        data: JSON = {
            "id": command["id"] if command else str(world.ids.next()),
            "name": name.split(" ")[0] if ctype == CHAT_INPUT else name,
            "type": ctype,
        }
        if ctype == CHAT_INPUT:
            resolved: dict[str, dict[str, Any]] = {}
            data["options"] = self._options(
                name,
                dict(spec.get("options") or {}),
                spec.get("focused"),
                command,
                where,
                resolved,
                kind,
            )
            if resolved:
                data["resolved"] = resolved
        elif ctype == USER_COMMAND:
            target = _int(spec.get("target_id"))
            if target is None:
                raise ApiError(400, 0, "user_command needs target_id (a user id)")
            target_user = world.ensure_user(target)
            resolved = {"users": {str(target): target_user.to_json()}}
            if where.guild is not None:
                member = member_json(where.guild, target_user, None)
                member.pop("user")
                resolved["members"] = {str(target): member}
            data.update(target_id=str(target), resolved=resolved)
        else:
            assert message is not None
            data.update(
                target_id=str(message.id), resolved={"messages": {str(message.id): message.wire}}
            )
        if command is not None and is_guild and where.guild is not None:
            data["guild_id"] = str(where.guild.id)
        return data, owners

    def _authorize(
        self, command: JSON, is_guild: bool, user: User, where: Where, permissions: Any
    ) -> dict[str, str]:
        """``authorizing_integration_owners`` if Discord offers the command here, else refuses."""
        guild = where.guild
        name = command["name"]
        if is_guild:
            if guild is None or not guild.bot_member:
                raise Undeliverable("not_installed", f"guild command {name!r} outside its server")
            owners = {"0": str(guild.id)}
        else:
            types = set(command.get("integration_types") or [0])
            contexts = command.get("contexts")
            allowed = set(contexts) if contexts is not None else {0, 1, 2}
            if contexts is None and command.get("dm_permission") is False:
                allowed.discard(BOT_DM_CONTEXT)
            if where.context not in allowed:
                raise Undeliverable(
                    "context",
                    f"command {name!r} is not offered in {CONTEXT_NAMES[where.context]} "
                    f"(contexts={sorted(allowed)})",
                )
            owners = {}
            if (
                0 in types
                and where.context == GUILD_CONTEXT
                and guild is not None
                and guild.bot_member
            ):
                owners["0"] = str(guild.id)
            if 0 in types and where.context == BOT_DM_CONTEXT:
                owners["0"] = "0"
            if 1 in types and user.installed_app:
                owners["1"] = str(user.id)
            if not owners:
                raise Undeliverable(
                    "not_installed",
                    f"command {name!r} (integration_types={sorted(types)}) is not installed for "
                    f"{CONTEXT_NAMES[where.context]}"
                    + ("" if user.installed_app else "; the user has not added the app"),
                )
        if guild is not None and "1" not in owners:
            self._check_member_permissions(command, guild, user, permissions)
        return owners

    def _check_member_permissions(
        self, command: JSON, guild: Guild, user: User, permissions: Any
    ) -> None:
        perms = member_permissions(guild, user) if permissions is None else int(permissions)
        if perms & ADMINISTRATOR:
            return
        override = self.emu.command_permissions.override(guild.id, command["name"], user.id)
        if override is not None:
            if override:
                return
            raise Undeliverable(
                "denied", f"the server's admins denied {command['name']!r} to this member"
            )
        needed = command.get("default_member_permissions")
        if needed is None:
            return
        need = int(needed)
        if need != 0 and (perms & need) == need:
            return
        raise Undeliverable(
            "missing_permissions",
            f"command {command['name']!r} needs permissions {need} (default_member_permissions)"
            " that the member lacks; a server override (command_permissions) can grant it",
        )

    def _default_owners(self, user: User, where: Where) -> dict[str, str]:
        if where.context == GUILD_CONTEXT and where.guild is not None and where.guild.bot_member:
            return {"0": str(where.guild.id)}
        if where.context == BOT_DM_CONTEXT:
            return {"0": "0"}
        return {"1": str(user.id)}

    def _inherited_owners(
        self, message: StoredMessage | None, user: User, where: Where
    ) -> dict[str, str]:
        """A component's owners are those of the interaction whose answer carries it."""
        if message is not None and message.interaction_id is not None:
            origin = self.world.interactions.get(message.interaction_id)
            if origin is not None:
                return dict(origin.payload.get("authorizing_integration_owners") or {})
        return self._default_owners(user, where)

    # ------------------------------------------------------------------ options
    def _options(
        self,
        name: str,
        options: JSON,
        focused: str | None,
        command: JSON | None,
        where: Where,
        resolved: dict[str, dict[str, Any]],
        kind: str,
    ) -> list[JSON]:
        world = self.world
        parts = name.split(" ")[1:]
        defs = command.get("options", []) if command else None

        def leaf(defs_: list[JSON] | None) -> list[JSON]:
            out = []
            by_name = {o["name"]: o for o in defs_ or []}
            for oname, value in options.items():
                od = by_name.get(oname)
                if defs_ is not None and od is None:
                    world.record_error(
                        "control", f"option {oname!r} not in synced command {name!r}"
                    )
                otype = int(od["type"]) if od else _infer_type(value)
                opt: JSON = {"name": oname, "type": otype}
                if kind == "autocomplete" and oname == focused:
                    opt["value"] = "" if value is None else str(value)
                    opt["focused"] = True
                else:
                    opt["value"] = self._resolve_value(otype, value, resolved, where.guild)
                out.append(opt)
            return out

        if not parts:
            return leaf(defs)
        chain: list[tuple[str, int, list[JSON] | None]] = []
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
                    world.record_error(
                        "control", f"subcommand {part!r} not in synced command {name!r}"
                    )
                otype = 2 if i < len(parts) - 1 else 1
                cur = None
            chain.append((part, otype, cur))
        inner = leaf(chain[-1][2])
        for part, otype, _ in reversed(chain):
            inner = [{"name": part, "type": otype, "options": inner}]
        return inner

    def _resolve_value(
        self, otype: int, value: Any, resolved: dict[str, dict[str, Any]], g: Guild | None
    ) -> Any:
        world = self.world
        if otype == 7:
            ch = world.channels.get(int(value))
            if ch is not None:
                cj = channel_json(world, ch)
                cj["permissions"] = str(MEMBER_PERMISSIONS)
                cj["app_permissions"] = str(world.bot_permissions(ch))
                resolved.setdefault("channels", {})[str(ch.id)] = cj
            return str(value)
        if otype in (6, 9):
            uid = int(value)
            user = world.users.get(uid)
            if user is not None:
                resolved.setdefault("users", {})[str(uid)] = user.to_json()
                if g is not None:
                    m = member_json(g, user, None)
                    m.pop("user")
                    resolved.setdefault("members", {})[str(uid)] = m
                return str(value)
            if g is not None and otype == 9 and uid in (g.id, g.bot_role_id):
                role = next(r for r in roles_json(world, g) if r["id"] == str(uid))
                resolved.setdefault("roles", {})[str(uid)] = role
            return str(value)
        if otype == 8 and g is not None:
            for r in roles_json(world, g):
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

    # ------------------------------------------------------------------ components, modals
    def _component_data(self, spec: JSON, message: StoredMessage | None) -> JSON:
        custom_id = spec.get("custom_id")
        if not custom_id:
            raise ApiError(400, 0, "custom_id is required for components")
        ctype = spec.get("component_type")
        if ctype is None:
            ctype = component_type(message, custom_id) or (3 if spec.get("values") else 2)
        data: JSON = {"custom_id": custom_id, "component_type": int(ctype)}
        if spec.get("values") is not None or int(ctype) in (3, 5, 6, 7, 8):
            data["values"] = [str(v) for v in spec.get("values") or []]
        return data

    def _modal_data(self, spec: JSON) -> JSON:
        custom_id = spec.get("custom_id")
        if not custom_id:
            raise ApiError(400, 0, "custom_id is required for modals")
        components = spec.get("components")
        if components is None:
            components = [
                {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
                for k, v in (spec.get("values") or {}).items()
            ]
        return {"custom_id": custom_id, "components": components}

    # ------------------------------------------------------------------ the payload
    def _payload(
        self,
        iid: int,
        token: str,
        itype: int,
        data: JSON,
        user: User,
        where: Where,
        owners: dict[str, str],
        spec: JSON,
    ) -> JSON:
        world = self.world
        g, ch = where.guild, where.channel
        payload: JSON = {
            "id": str(iid),
            "application_id": str(world.application_id),
            "type": itype,
            "data": data,
            "token": token,
            "version": 1,
            "channel_id": str(ch.id),
            "channel": channel_json(world, ch),
            "app_permissions": str(world.app_permissions(ch, g)),
            "locale": spec.get("locale", "en-US"),
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "context": where.context,
            "authorizing_integration_owners": owners,
        }
        if g is not None:
            payload["guild_id"] = str(g.id)
            payload["guild"] = {"id": str(g.id), "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["member"] = member_json(g, user, spec.get("permissions"))
        else:
            payload["user"] = user.to_json()
        return payload


def component_type(message: StoredMessage | None, custom_id: str) -> int | None:
    if message is None:
        return None
    stack = list(message.wire.get("components") or [])
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


def _infer_type(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    return 3
