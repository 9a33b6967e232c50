"""The user's profile: ``GET /me``, and other users' public profiles."""

from __future__ import annotations

from aiohttp import web

from ..errors import ApiError
from ..web_api import catalog, current_user, removed_in_development_mode, render

routes = web.RouteTableDef()


@routes.get("/v1/me")
@routes.get("/v1/me/")
async def me(request: web.Request) -> web.StreamResponse:
    """No ``product``, ``country`` or ``email`` any more; ``account_id`` since 2026-05."""
    return web.json_response(render(request).me(current_user(request)))


@routes.get("/v1/users/{id}")
async def user_profile(request: web.Request) -> web.StreamResponse:
    removed_in_development_mode(request)
    u = catalog(request).users.get(request.match_info["id"])
    if u is None:
        raise ApiError(404, "Resource not found")
    return web.json_response(render(request).public_user(u))
