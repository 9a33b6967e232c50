"""``/webhooks/{app}/{token}``: followups and ``@original`` of an interaction (15 minutes)."""

from __future__ import annotations

import time
from typing import Any

from ..errors import ApiError, FormErrors
from ..models import LOADING, InteractionRecord, StoredMessage
from ..rest import Endpoint, RestCall
from ..rules import check_message, refuse_if_empty


def _interaction(call: RestCall) -> InteractionRecord:
    world = call.world
    iid = world.tokens.get(call.params["token"])
    if iid is None or call.params["application_id"] != str(world.application_id):
        raise ApiError(404, 10015, "Unknown Webhook", kind="unknown_webhook")
    it = world.interactions[iid]
    if time.time() - it.dispatched_at > call.emu.settings.token_lifetime_s:
        raise ApiError(401, 50027, "Invalid Webhook Token", kind="token_expired")
    return it


def _message(call: RestCall, it: InteractionRecord) -> StoredMessage:
    mid = call.params.get("message_id", "@original")
    world = call.world
    if mid == "@original":
        message = world.messages.get(it.original_id or 0)
    else:
        m = int(mid) if mid.isdigit() else 0
        message = world.messages.get(m) if m in it.followup_ids or m == it.original_id else None
    if message is None or message.deleted:
        raise ApiError(404, 10008, "Unknown Message", kind="unknown_message")
    return message


def _checked(call: RestCall) -> dict[str, Any]:
    body = call.json()
    errors = FormErrors()
    check_message(body, errors)
    errors.raise_if_any()
    return body


async def followup(call: RestCall) -> Any:
    world = call.world
    it = _interaction(call)
    if it.response is None:
        raise ApiError(404, 10015, "Unknown Webhook", kind="followup_before_response")
    body = _checked(call)
    refuse_if_empty(body, call.files)
    original = world.messages.get(it.original_id or 0)
    if original is not None and original.flags & LOADING:
        # the first followup after a deferral replaces the "thinking" message, as on Discord
        body = {k: v for k, v in body.items() if k != "flags"}
        world.edit_message(original, body, call.files, record=False)
        message = original
    else:
        body = {**body, "flags": int(body.get("flags") or 0)}
        message = world.create_message(
            world.channels[it.channel_id],
            body,
            call.files,
            kind="followup",
            interaction_id=it.id,
        )
    it.followup_ids.append(message.id)
    if it.answered_at is None:
        it.answered_at = time.time()
    call.render(message)
    world.touch()
    wait = call.query.get("wait", "false").lower() in ("1", "true")
    return message.wire if wait else None


async def get_webhook_message(call: RestCall) -> Any:
    return _message(call, _interaction(call)).wire


async def patch_webhook_message(call: RestCall) -> Any:
    world = call.world
    it = _interaction(call)
    message = _message(call, it)
    body = _checked(call)
    refuse_if_empty(world.edited(message, body), call.files)
    world.edit_message(message, body, call.files)
    if it.answered_at is None:
        it.answered_at = time.time()
    it.edits.append(
        {
            "at": time.time(),
            "message_id": str(message.id),
            "original": message.id == it.original_id,
            "data": body,
        }
    )
    call.render(message)
    world.touch()
    return message.wire


async def delete_webhook_message(call: RestCall) -> Any:
    message = _message(call, _interaction(call))
    message.deleted = True
    message.deleted_at = time.time()
    call.world.touch()
    return None


def endpoints() -> list[Endpoint]:
    wh = "/webhooks/{application_id}/{token}"
    kw: dict[str, Any] = {
        "auth": "none",
        "global_exempt": True,
        "bucket": "webhook",
        "major": "token",
    }
    out = [Endpoint("POST", wh, followup, **kw)]
    for mid in ("@original", "{message_id}"):
        path = wh + "/messages/" + mid
        out += [
            Endpoint("GET", path, get_webhook_message, **kw),
            Endpoint("PATCH", path, patch_webhook_message, **kw),
            Endpoint("DELETE", path, delete_webhook_message, **kw),
        ]
    return out
