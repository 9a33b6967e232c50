"""``GET /me/top/artists`` and ``/me/top/tracks``: ranked, per time range."""

from __future__ import annotations

from aiohttp import web

from ..errors import ApiError
from ..users import TIME_RANGES
from ..web_api import current_user, limit_offset, query, render

routes = web.RouteTableDef()


@routes.get("/v1/me/top/artists")
async def top_artists(request: web.Request) -> web.StreamResponse:
    return _top(request, "artists")


@routes.get("/v1/me/top/tracks")
async def top_tracks(request: web.Request) -> web.StreamResponse:
    return _top(request, "tracks")


def _top(request: web.Request, kind: str) -> web.Response:
    user = current_user(request, "user-top-read")
    time_range = request.query.get("time_range") or "medium_term"
    if time_range not in TIME_RANGES:
        raise ApiError(400, "Invalid time range")
    limit, offset = limit_offset(request, 50, 20)
    out = render(request)
    if kind == "artists":
        ranked = user.top_artists.get(time_range, [])
        items = [out.artist(a) for a in ranked[offset : offset + limit]]
    else:
        ranked = user.top_tracks.get(time_range, [])
        items = [out.track(t) for t in ranked[offset : offset + limit]]
    return web.json_response(
        out.page(items, len(ranked), limit, offset, request.path, query(request))
    )
