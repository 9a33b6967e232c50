"""The REST routes of the emulated Discord, one module per resource."""

from __future__ import annotations

from ..rest import Endpoint
from . import (
    applications,
    channels,
    commands,
    guilds,
    interactions,
    messages,
    oauth2,
    users,
    webhooks,
)


def all_endpoints() -> list[Endpoint]:
    return [
        *users.endpoints(),
        *applications.endpoints(),
        *channels.endpoints(),
        *messages.endpoints(),
        *guilds.endpoints(),
        *commands.endpoints(),
        *interactions.endpoints(),
        *webhooks.endpoints(),
        *oauth2.endpoints(),
    ]
