"""``POST /interactions/{id}/{token}/callback``: the first answer to an interaction."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ..errors import ApiError
from ..models import EPHEMERAL, LOADING, InteractionRecord
from ..rest import Endpoint, RestCall
from ..rules import check_callback, refuse_if_empty


def _interaction(call: RestCall) -> InteractionRecord:
    raw = call.params["interaction_id"]
    it = call.world.interactions.get(int(raw)) if raw.isdigit() else None
    if it is None or it.token != call.params["token"]:
        raise ApiError(404, 10062, "Unknown interaction", kind="unknown_interaction")
    return it


async def callback(call: RestCall) -> Any:
    world = call.world
    it = _interaction(call)
    body = call.json()
    now = time.time()
    if it.response is not None:
        it.extra_acks.append({"at": now, "type": body.get("type")})
        raise ApiError(400, 40060, "Interaction has already been acknowledged.", kind="double_ack")
    late = now - it.dispatched_at
    if late > call.emu.settings.interaction_deadline:
        it.late_responses.append({"at": now, "type": body.get("type"), "after_s": round(late, 3)})
        world.touch()
        raise ApiError(404, 10062, "Unknown interaction", kind="late_response")
    check_callback(body, it).raise_if_any()
    rtype = int(body["type"])
    data = body.get("data") or {}
    ch = world.channels[it.channel_id]
    message = None
    loading = False
    ephemeral = bool(int(data.get("flags") or 0) & EPHEMERAL)
    if rtype == 4:
        refuse_if_empty(data, call.files)
    if rtype in (4, 5):
        created = world.create_message(
            ch,
            data if rtype == 4 else {"flags": data.get("flags")},
            call.files if rtype == 4 else [],
            kind="interaction_response",
            interaction_id=it.id,
            extra_flags=LOADING if rtype == 5 else 0,
        )
        it.original_id = created.id
        call.render(created)
        message = created
        loading = rtype == 5
    elif rtype in (6, 7) and it.message_id is not None:
        target = world.messages.get(it.message_id)
        if target is not None:
            if rtype == 7:
                refuse_if_empty(world.edited(target, data), call.files)
                world.edit_message(target, data, call.files)
                call.render(target)
            message = target
            ephemeral = bool(target.flags & EPHEMERAL)
            # @original of a component interaction is the message it is attached to
            it.original_id = target.id
    if rtype in (4, 7):
        it.answered_at = now
    it.response = {
        "type": rtype,
        "data": data,
        "at": now,
        "latency_ms": round(late * 1000, 3),
        "files": [f.filename for f in call.files],
    }
    world.touch()
    resource: dict[str, Any] = {"type": rtype}
    if message is not None:
        resource["message"] = message.wire
    if call.emu.settings.callback_delay_s > 0:  # accepted; the answer is on its way back
        await asyncio.sleep(call.emu.settings.callback_delay_s)
    return {
        "interaction": {
            "id": str(it.id),
            "type": it.type,
            "response_message_id": str(message.id) if message else None,
            "response_message_loading": loading,
            "response_message_ephemeral": ephemeral,
        },
        "resource": resource,
    }


def endpoints() -> list[Endpoint]:
    return [
        Endpoint(
            "POST",
            "/interactions/{interaction_id}/{token}/callback",
            callback,
            auth="none",
            global_exempt=True,
            bucket="webhook",
            major="interaction_id",
        )
    ]
