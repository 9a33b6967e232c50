"""Artists: ``GET /artists/{id}`` and its discography, ``GET /artists/{id}/albums``.

The discography comes group by group (album, single, compilation, appears on), newest
first within each group, as Spotify lists it: with ``limit`` <= 10 (2026), a new single
of an artist with many albums is not on the first page of ``include_groups=album,single``.
"""

from __future__ import annotations

from aiohttp import web

from ..errors import ApiError
from ..music import GROUP_ORDER
from ..web_api import catalog, find, limit_offset, query, render

routes = web.RouteTableDef()


@routes.get("/v1/artists/{id}")
async def artist(request: web.Request) -> web.StreamResponse:
    music = catalog(request).music
    return web.json_response(
        render(request).artist(find(music.artist_index, request.match_info["id"]))
    )


@routes.get("/v1/artists/{id}/albums")
async def artist_albums(request: web.Request) -> web.StreamResponse:
    music = catalog(request).music
    a = find(music.artist_index, request.match_info["id"])
    limit, offset = limit_offset(request, 10, 5)
    groups = {g for g in request.query.get("include_groups", "").split(",") if g}
    if groups - set(GROUP_ORDER):
        raise ApiError(400, "Invalid include_groups")
    releases = [(al, g) for al, g in music.discography(a) if not groups or g in groups]
    out = render(request)
    items = [
        out.album_simple(music.albums[al], group=g) for al, g in releases[offset : offset + limit]
    ]
    return web.json_response(
        out.page(items, len(releases), limit, offset, request.path, query(request))
    )
