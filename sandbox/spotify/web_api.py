"""The rules every Web API handler shares: whose token, which scopes, limits, ids, bodies."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from aiohttp import web

from .catalog import Catalog
from .errors import DEV_MODE_USER, INSUFFICIENT_SCOPE, NOT_AVAILABLE, ApiError
from .render import Render
from .state import LOG_ENTRY, STATE, TOKEN, AccessToken, EmulatorState
from .users import User

BASE62_ID = re.compile(r"[0-9A-Za-z]{22}")
URI = re.compile(
    r"^spotify:(track|album|artist|playlist|episode|show|audiobook|user):([0-9A-Za-z]+)$"
)


def state(request: web.Request) -> EmulatorState:
    return request.app[STATE]


def catalog(request: web.Request) -> Catalog:
    return request.app[STATE].catalog


def render(request: web.Request) -> Render:
    return Render(request.app[STATE].catalog, f"{request.scheme}://{request.host}")


def authenticate(request: web.Request) -> None:
    """Check the bearer token of a ``/v1`` request (the middleware calls this)."""
    st = state(request)
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer ") or not auth[7:].strip():
        raise ApiError(401, "No token provided")
    tok = st.tokens.access.get(auth[7:].strip())
    if tok is None:
        raise ApiError(401, "Invalid access token")
    request[LOG_ENTRY]["user"] = tok.user or "app"
    if tok.expires_at <= time.time():
        raise ApiError(401, "The access token expired")
    if tok.user is not None:
        user = st.catalog.users.get(tok.user)
        if user is None:
            raise ApiError(401, "Invalid access token")
        if not user.allowlisted:
            raise ApiError(403, DEV_MODE_USER)
    request[TOKEN] = tok


def token(request: web.Request) -> AccessToken:
    return request[TOKEN]


def token_user(request: web.Request) -> User | None:
    """The token's user, or None for an app (client-credentials) token."""
    tok = token(request)
    return catalog(request).users.get(tok.user) if tok.user else None


def current_user(request: web.Request, *scopes: str) -> User:
    """The token's user, who must have granted one of ``scopes`` (if any are named)."""
    tok = token(request)
    if tok.user is None:
        raise ApiError(401, "Valid user authentication required")
    require_scope(request, *scopes)
    return catalog(request).users[tok.user]


def require_scope(request: web.Request, *scopes: str) -> None:
    if scopes and not any(s in token(request).scopes for s in scopes):
        raise ApiError(403, INSUFFICIENT_SCOPE)


def removed_in_development_mode(request: web.Request) -> None:
    """Endpoints Spotify closed to development-mode apps (``deprecated`` in the spec)."""
    if state(request).settings.development_mode:
        raise ApiError(403, NOT_AVAILABLE)


def int_param(request: web.Request, name: str, default: int | None = None) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid {name}") from None


def limit_offset(request: web.Request, cap: int, default: int) -> tuple[int, int]:
    """``limit`` in 1..cap (Spotify: 400 "Invalid limit") and ``offset`` >= 0."""
    try:
        limit = int_param(request, "limit", default)
    except ApiError:
        raise ApiError(400, "Invalid limit") from None
    assert limit is not None
    if limit < 1 or limit > cap:
        raise ApiError(400, "Invalid limit")
    offset = int_param(request, "offset", 0)
    assert offset is not None
    if offset < 0:
        raise ApiError(400, "Invalid offset")
    return limit, offset


def find(index: dict[str, int], id_: str) -> int:
    """An index into the catalogue: 400 for a malformed id, 404 for an unknown one."""
    if id_ not in index:
        if not BASE62_ID.fullmatch(id_):
            raise ApiError(400, "Invalid base62 id")
        raise ApiError(404, "Resource not found")
    return index[id_]


async def json_body(request: web.Request) -> Any:
    """The request's JSON body, or None when it has none (400 when it is not JSON)."""
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, "Error parsing JSON.") from None


def query(request: web.Request) -> dict[str, str]:
    return dict(request.query)
