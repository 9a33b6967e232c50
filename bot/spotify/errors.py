"""Spotify's HTTP errors as the exceptions Encore's users are shown, decided in one place."""

from __future__ import annotations

from bot.errors import (
    BadInput,
    EncoreError,
    MissingScope,
    NoActiveDevice,
    NotFound,
    PremiumRequired,
    SpotifyAccessDenied,
    SpotifyBusy,
    SpotifyUnavailable,
)
from bot.spotify.webapi import SpotifyHTTPError


class SpotifyForbidden(EncoreError):
    """A 403 whose meaning depends on the call (a playlist, a development-mode app...)."""

    user_message = SpotifyAccessDenied.user_message

    def __init__(self, message: str, reason: str | None = None) -> None:
        self.spotify_message = message
        self.reason = reason
        super().__init__()

    @property
    def development_mode(self) -> bool:
        """The app is in development mode and this user is not on its allowlist: every call
        is refused, so no per-call meaning (an unreadable playlist...) applies."""
        return "registered" in self.spotify_message


def retry_after(value: str | None, default: float = 5.0) -> float:
    """A `Retry-After` header in seconds; Spotify sometimes leaves it out."""
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default


def translate(error: SpotifyHTTPError) -> EncoreError:
    """Spotify's HTTP errors as the exceptions users are shown."""
    status, reason = error.http_status, error.reason
    message = error.message.strip()
    if status == 429:
        headers = error.headers or {}
        return SpotifyBusy(
            retry_after(headers.get("Retry-After")), quota=reason == "QUOTA_EXCEEDED"
        )
    if status == 403:
        if reason == "PREMIUM_REQUIRED" or "premium" in message.lower():
            return PremiumRequired()
        if "scope" in message.lower():
            return MissingScope()
        return SpotifyForbidden(message, reason)
    if status == 404:
        if reason == "NO_ACTIVE_DEVICE" or "device" in message.lower():
            return NoActiveDevice()
        return NotFound()
    if status == 400:
        return BadInput(f"Spotify did not accept that request ({message}).")
    return SpotifyUnavailable()
