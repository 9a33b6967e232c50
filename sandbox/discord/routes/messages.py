"""``/channels/{id}/messages``: posting (with ``enforce_nonce``), reading, editing, deleting."""

from __future__ import annotations

import time
from typing import Any

from ..errors import ApiError, FormErrors
from ..models import EMBED_LINKS, EPHEMERAL, SEND_MESSAGES, VIEW_CHANNEL, Channel
from ..rest import Endpoint, RestCall
from ..rules import check_message, refuse_if_empty
from .channels import readable_channel


def _refuse_unpostable(call: RestCall, ch: Channel) -> None:
    world = call.world
    if ch.is_bot_dm:
        if not world.ensure_user(ch.recipient_id or 0).dms_open:
            raise ApiError(403, 50007, "Cannot send messages to this user", kind="dm_closed")
        return
    perms = world.bot_permissions(ch)
    if not (perms & VIEW_CHANNEL and perms & SEND_MESSAGES):
        raise ApiError(403, 50013, "Missing Permissions", kind="missing_permissions")


async def post_message(call: RestCall) -> Any:
    world = call.world
    ch = readable_channel(call)
    _refuse_unpostable(call, ch)
    body = call.json()
    errors = FormErrors()
    check_message(body, errors, nonce_allowed=True)
    errors.raise_if_any()
    refuse_if_empty(body, call.files)

    nonce = body.get("nonce")
    key = (ch.id, world.bot_user.id, str(nonce))
    if nonce is not None and body.get("enforce_nonce"):
        earlier = world.messages.get(world.nonces.get(key, 0))
        if (
            earlier is not None
            and time.time() - earlier.created_at <= call.emu.settings.nonce_window_s
        ):
            if earlier.deleted:
                # discord.py documents this NotFound: "the same nonce as one ... deleted"
                raise ApiError(404, 10008, "Unknown Message", kind="unknown_message")
            # The edge can lose this answer too: a sender that gives up and tries again
            # later (with the same nonce) still gets the one message.
            if call.emu.faults.take_lost_response(ch):
                call.lose_response = True
            return earlier.wire

    if not ch.is_bot_dm and body.get("embeds") and not world.bot_permissions(ch) & EMBED_LINKS:
        world.record_error(
            "embeds_suppressed", "embeds dropped: bot lacks EMBED_LINKS", channel_id=str(ch.id)
        )
        body = {**body, "embeds": []}
    message = world.create_message(ch, body, call.files, kind="dm" if ch.is_bot_dm else "channel")
    if nonce is not None and body.get("enforce_nonce"):
        world.nonces[key] = message.id
    call.render(message)
    if call.emu.faults.take_lost_response(ch):
        call.lose_response = True
    return message.wire


async def list_messages(call: RestCall) -> Any:
    world = call.world
    ch = readable_channel(call)
    limit = min(int(call.query.get("limit", 50)), 100)
    before = int(call.query.get("before") or 0)
    after = int(call.query.get("after") or 0)
    out = []
    for mid in sorted(world.messages, reverse=True):
        m = world.messages[mid]
        if m.channel_id != ch.id or m.deleted or m.flags & EPHEMERAL:
            continue
        if (before and mid >= before) or (after and mid <= after):
            continue
        out.append(m.wire)
        if len(out) >= limit:
            break
    return out


async def get_message(call: RestCall) -> Any:
    return call.world.message_in(readable_channel(call), call.params["message_id"]).wire


async def patch_message(call: RestCall) -> Any:
    world = call.world
    message = world.message_in(readable_channel(call), call.params["message_id"])
    if message.author_id != world.bot_user.id:
        raise ApiError(403, 50005, "Cannot edit a message authored by another user")
    body = call.json()
    errors = FormErrors()
    check_message(body, errors)
    errors.raise_if_any()
    refuse_if_empty(world.edited(message, body), call.files)
    world.edit_message(message, body, call.files)
    call.render(message)
    return message.wire


async def delete_message(call: RestCall) -> Any:
    message = call.world.message_in(readable_channel(call), call.params["message_id"])
    message.deleted = True
    message.deleted_at = time.time()
    call.world.touch()
    return None


def endpoints() -> list[Endpoint]:
    base = "/channels/{channel_id}/messages"
    one = base + "/{message_id}"
    return [
        Endpoint("POST", base, post_message, major="channel_id", bucket="channel_post"),
        Endpoint("GET", base, list_messages, major="channel_id"),
        Endpoint("GET", one, get_message, major="channel_id"),
        Endpoint("PATCH", one, patch_message, major="channel_id"),
        Endpoint("DELETE", one, delete_message, major="channel_id"),
    ]
