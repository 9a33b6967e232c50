"""Spotify's two error shapes: the Web API's ``{"error": {...}}`` and the Accounts
service's OAuth ``{"error": "...", "error_description": "..."}``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

NOT_AVAILABLE = "This endpoint is not available for this application"
DEV_MODE_USER = "Check settings on developer.spotify.com/dashboard, the user may not be registered."
INSUFFICIENT_SCOPE = "Insufficient client scope"


class ApiError(Exception):
    """Raised by a Web API handler; the middleware answers with Spotify's error body."""

    def __init__(self, status: int, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason


def api_error(status: int, message: str, reason: str | None = None, **headers: str) -> web.Response:
    err: dict[str, Any] = {"status": status, "message": message}
    if reason:
        err["reason"] = reason
    return web.json_response({"error": err}, status=status, headers=headers or None)


def oauth_error(error: str, description: str | None = None, status: int = 400) -> web.Response:
    body = {"error": error}
    if description:
        body["error_description"] = description
    return web.json_response(body, status=status)
