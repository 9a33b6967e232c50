"""The emulator's knobs: constructor options, and ``GET/POST /_sandbox/settings``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

TOKEN_LIFETIME_S = 15 * 60


@dataclass
class Settings:
    rate_limits: bool = True
    interaction_deadline: float = 3.0  # s to the first response, else 10062
    # s an accepted interaction callback's answer takes to reach the bot (a slow network):
    # a second callback sent meanwhile is refused 40060, as at Discord.
    callback_delay_s: float = 0.0
    global_limit_per_s: int = 50
    channel_limit: int = 5  # posts per channel per window
    channel_window: float = 5.0
    route_limit: int = 50  # every other route, per window
    route_window: float = 1.0
    token_lifetime_s: float = TOKEN_LIFETIME_S  # interaction tokens
    heartbeat_interval_ms: int = 41250
    nonce_window_s: float = 300.0  # enforce_nonce: "the past few minutes"
    # How long a click waits for the request that rendered its message to be answered.
    render_timeout_s: float = 10.0
    # Discord OAuth2 (the application is the bot's; client id = application id)
    client_secret: str = "sandbox-discord-secret"
    oauth_code_lifetime_s: float = 600.0
    oauth_token_lifetime_s: int = 604800

    def update(self, changes: dict[str, Any]) -> None:
        """Applies the known keys of ``changes``, converted to each setting's type."""
        for f in fields(self):
            if f.name in changes:
                current = getattr(self, f.name)
                value = changes[f.name]
                setattr(
                    self, f.name, bool(value) if isinstance(current, bool) else type(current)(value)
                )

    def public(self) -> dict[str, Any]:
        """Everything but the client secret."""
        shown = asdict(self)
        shown.pop("client_secret")
        return shown
