"""``GET /me/following?type=artist``: the artists a user follows, paged by cursor.

Artists come in id order; ``after`` is the last id of the previous page (any id works:
the page starts after it). Following artists for a user is no longer possible for apps.
"""

from __future__ import annotations

import bisect

from aiohttp import web

from ..errors import ApiError
from ..web_api import BASE62_ID, catalog, current_user, limit_offset, query, render

routes = web.RouteTableDef()


@routes.get("/v1/me/following")
async def followed_artists(request: web.Request) -> web.StreamResponse:
    user = current_user(request, "user-follow-read")
    kind = request.query.get("type")
    if not kind:
        raise ApiError(400, "Missing parameter type")
    if kind != "artist":
        raise ApiError(400, "Invalid type: only artist is supported")
    limit, _ = limit_offset(request, 50, 20)
    after = request.query.get("after")
    if after is not None and not BASE62_ID.fullmatch(after):
        raise ApiError(400, "Invalid after")
    artists = catalog(request).music.artists
    ordered = sorted(user.following, key=lambda a: artists[a].id)
    ids = [artists[a].id for a in ordered]
    start = bisect.bisect_right(ids, after) if after else 0
    chosen = ordered[start : start + limit]
    more = start + limit < len(ordered)
    cursor = ids[start + len(chosen) - 1] if more and chosen else None
    out = render(request)
    return web.json_response(
        {
            "artists": {
                "href": out.url(request.path, query(request)),
                "items": [out.artist(a) for a in chosen],
                "limit": limit,
                "next": out.url(request.path, {"type": "artist", "after": cursor, "limit": limit})
                if cursor
                else None,
                "cursors": {"after": cursor},
                "total": len(ordered),
            }
        }
    )
