"""The application and gateway information a client asks for when it starts."""

from __future__ import annotations

from typing import Any

from ..models import User
from ..rest import Endpoint, RestCall


async def get_application(call: RestCall) -> Any:
    world = call.world
    owner = User(id=world.bot_user.id + 1, username="sandbox-owner")
    return {
        "id": str(world.application_id),
        "name": world.bot_user.username,
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
        "redirect_uris": list(call.emu.oauth2.redirect_uris),
        "integration_types_config": {"0": {}, "1": {}},
        "bot": world.bot_user.to_json(),
    }


async def get_gateway(call: RestCall) -> Any:
    return {"url": call.emu.gateway_url}


async def get_gateway_bot(call: RestCall) -> Any:
    guilds = sum(1 for g in call.world.guilds.values() if g.bot_member)
    return {
        "url": call.emu.gateway_url,
        "shards": max(1, (guilds + 2499) // 2500),
        "session_start_limit": {
            "total": 1000,
            "remaining": 1000,
            "reset_after": 86400000,
            "max_concurrency": 16,
        },
    }


def endpoints() -> list[Endpoint]:
    return [
        Endpoint("GET", "/oauth2/applications/@me", get_application),
        Endpoint("GET", "/applications/@me", get_application),
        Endpoint("GET", "/gateway", get_gateway, auth="none"),
        Endpoint("GET", "/gateway/bot", get_gateway_bot),
    ]
