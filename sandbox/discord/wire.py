"""The JSON shapes Discord sends for the world's objects, and the control API's views."""

from __future__ import annotations

from .furniture import furnish
from .models import (
    ALL_PERMISSIONS,
    DM,
    EPHEMERAL,
    JSON,
    MEMBER_PERMISSIONS,
    Channel,
    Guild,
    InteractionRecord,
    Role,
    StoredMessage,
    User,
    iso,
)
from .state import World


def channel_json(world: World, ch: Channel, with_guild: bool = True) -> JSON:
    last = str(ch.last_message_id) if ch.last_message_id else None
    if ch.guild_id is None:
        ids = [ch.recipient_id] if ch.recipient_id is not None else ch.recipient_ids
        d: JSON = {
            "id": str(ch.id),
            "type": ch.type,
            "last_message_id": last,
            "recipients": [world.ensure_user(uid).to_json() for uid in ids],
            "flags": 0,
        }
        if ch.type != DM:
            d["name"] = ch.name or None
            d["owner_id"] = str(ids[0]) if ids else None
            d["icon"] = None
        return d
    d = {
        "id": str(ch.id),
        "type": ch.type,
        "name": ch.name,
        "position": ch.position,
        "permission_overwrites": world.overwrites(ch),
        "parent_id": None,
        "topic": None,
        "nsfw": False,
        "rate_limit_per_user": 0,
        "last_message_id": last,
        "flags": 0,
    }
    if with_guild:
        d["guild_id"] = str(ch.guild_id)
    return d


def roles_json(world: World, g: Guild) -> list[JSON]:
    def role(r: Role) -> JSON:
        d: JSON = {
            "id": str(r.id),
            "name": r.name,
            "color": 0,
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": r.position,
            "permissions": str(r.permissions),
            "managed": r.managed,
            "mentionable": False,
            "flags": 0,
        }
        if r.managed:
            d["tags"] = {"bot_id": str(world.bot_user.id)}
        return d

    return [role(r) for r in g.roles.values()]


def bot_member_json(world: World, g: Guild) -> JSON:
    return {
        "user": world.bot_user.to_json(),
        "roles": [str(rid) for rid in g.bot_roles],
        "joined_at": iso(g.joined_at),
        "deaf": False,
        "mute": False,
        "flags": 0,
        "nick": None,
        "avatar": None,
        "pending": False,
        "premium_since": None,
    }


def member_permissions(g: Guild, user: User) -> int:
    """A member's permissions: ordinary ones, every one for the owner."""
    return ALL_PERMISSIONS if user.id == g.owner_id else MEMBER_PERMISSIONS


def member_json(g: Guild, user: User, permissions: int | str | None) -> JSON:
    perms = member_permissions(g, user) if permissions is None else int(permissions)
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
        "permissions": str(perms),
    }


def guild_json(world: World, g: Guild, create: bool = False, joined: bool = False) -> JSON:
    """A server as the REST API shows it, or (`create`) its GUILD_CREATE. Discord writes
    `unavailable: false` in the GUILD_CREATE of a server READY announced as unavailable, and
    leaves it out when the bot has just `joined` one: discord.py tells `guild_available` from
    `guild_join` by that field."""
    d: JSON = {
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
        "roles": roles_json(world, g),
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
        furniture = furnish(g) if g.furnished else {}
        d["roles"] += furniture.get("roles", [])
        d["emojis"] = furniture.get("emojis", [])
        d["stickers"] = furniture.get("stickers", [])
        d.update(
            {
                "joined_at": iso(g.joined_at),
                "large": False,
                "member_count": 2,
                "voice_states": [],
                "members": [bot_member_json(world, g)],
                "channels": [
                    channel_json(world, world.channels[c], with_guild=False) for c in g.channel_ids
                ]
                + furniture.get("channels", []),
                "threads": furniture.get("threads", []),
                "presences": [],
                "stage_instances": [],
                "guild_scheduled_events": [],
                "soundboard_sounds": [],
            }
        )
        if not joined:
            d["unavailable"] = False
    return d


# ---------------------------------------------------------------------------- control views


def message_view(m: StoredMessage) -> JSON:
    wire = m.wire
    return {
        "id": str(m.id),
        "kind": m.kind,
        "channel_id": str(m.channel_id),
        "guild_id": str(m.guild_id) if m.guild_id else None,
        "dm_user_id": str(m.dm_user_id) if m.dm_user_id else None,
        "interaction_id": str(m.interaction_id) if m.interaction_id else None,
        "author_id": str(m.author_id),
        "content": wire["content"],
        "embeds": wire["embeds"],
        "components": wire["components"],
        "flags": wire["flags"],
        "ephemeral": bool(int(wire["flags"]) & EPHEMERAL),
        "attachments": wire["attachments"],
        "allowed_mentions": m.allowed_mentions,
        "nonce": m.nonce,
        "created_at": m.created_at,
        "edits": m.edits,
        "deleted": m.deleted,
        "message": wire,
    }


def interaction_view(world: World, it: InteractionRecord) -> JSON:
    original = world.messages.get(it.original_id or 0)
    return {
        "id": str(it.id),
        "token": it.token,
        "kind": it.kind,
        "type": it.type,
        "name": it.name,
        "custom_id": it.custom_id,
        "user_id": str(it.user_id),
        "guild_id": str(it.guild_id) if it.guild_id else None,
        "channel_id": str(it.channel_id),
        "message_id": str(it.message_id) if it.message_id else None,
        "context": it.context,
        "shard_id": it.shard_id,
        "session_id": it.session_id,
        "dispatched_at": it.dispatched_at,
        "response": it.response,
        "late_responses": it.late_responses,
        "extra_acks": it.extra_acks,
        "followups": [message_view(world.messages[m]) for m in it.followup_ids],
        "original": message_view(original) if original else None,
        "edits": it.edits,
        "answered_at": it.answered_at,
        "payload": it.payload,
    }


def guild_view(world: World, g: Guild) -> JSON:
    return {
        "id": str(g.id),
        "name": g.name,
        "owner_id": str(g.owner_id),
        "bot_role_id": str(g.bot_role_id),
        "roles": roles_json(world, g),
        "bot_roles": [str(rid) for rid in g.bot_roles],
        "bot_member": g.bot_member,
        "channels": [channel_view(world, world.channels[c]) for c in g.channel_ids],
    }


def channel_view(world: World, ch: Channel) -> JSON:
    return {
        "id": str(ch.id),
        "name": ch.name,
        "type": ch.type,
        "guild_id": str(ch.guild_id) if ch.guild_id else None,
        "recipient_id": str(ch.recipient_id) if ch.recipient_id else None,
        "recipient_ids": [str(u) for u in ch.recipient_ids],
        "bot_can_post": ch.bot_can_post,
        "bot_can_embed": ch.bot_can_embed,
        "bot_can_view": ch.bot_can_view,
        "bot_permissions": str(world.bot_permissions(ch)),
        "permission_overwrites": world.overwrites(ch),
    }


def role_view(r: Role) -> JSON:
    return {"id": str(r.id), "name": r.name, "permissions": str(r.permissions)}


def user_view(u: User) -> JSON:
    return {
        "id": str(u.id),
        "username": u.username,
        "dms_open": u.dms_open,
        "bot": u.bot,
        "installed_app": u.installed_app,
    }
