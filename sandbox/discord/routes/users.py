"""``/users``: the bot itself (or, with a Bearer token, the user who authorised), users, DMs."""

from __future__ import annotations

from typing import Any

from ..errors import ApiError, FormErrors
from ..rest import Endpoint, RestCall
from ..wire import channel_json


async def get_me(call: RestCall) -> Any:
    if call.bearer is not None:
        # OAuth2 "identify": the user who consented, without email
        user = call.world.ensure_user(call.bearer.user_id)
        return {**user.to_json(), "mfa_enabled": False, "locale": "en-US", "premium_type": 0}
    me = call.world.bot_user.to_json()
    me.update({"verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"})
    return me


async def get_user(call: RestCall) -> Any:
    uid = call.params["user_id"]
    user = call.world.users.get(int(uid)) if uid.isdigit() else None
    if user is None:
        raise ApiError(404, 10013, "Unknown User", kind="unknown_user")
    return user.to_json()


async def create_dm(call: RestCall) -> Any:
    recipient = call.json().get("recipient_id")
    if recipient is None or not str(recipient).isdigit():
        errors = FormErrors()
        errors.required(("recipient_id",))
        errors.raise_if_any()
    uid = int(str(recipient))
    call.world.ensure_user(uid)
    return channel_json(call.world, call.world.dm_channel(uid))


def endpoints() -> list[Endpoint]:
    return [
        Endpoint("GET", "/users/@me", get_me, auth="bot_or_bearer"),
        Endpoint("GET", "/users/{user_id}", get_user),
        Endpoint("POST", "/users/@me/channels", create_dm),
    ]
