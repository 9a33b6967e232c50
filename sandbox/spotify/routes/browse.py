"""``GET /browse/new-releases``: closed to development-mode apps (every app created since
February 2026); an extended-quota app still gets the newest 100 releases."""

from __future__ import annotations

from aiohttp import web

from ..web_api import catalog, limit_offset, query, removed_in_development_mode, render

routes = web.RouteTableDef()


@routes.get("/v1/browse/new-releases")
async def new_releases(request: web.Request) -> web.StreamResponse:
    removed_in_development_mode(request)
    limit, offset = limit_offset(request, 50, 20)
    albums = catalog(request).music.new_albums()[:100]
    out = render(request)
    items = [out.album_simple(a) for a in albums[offset : offset + limit]]
    return web.json_response(
        {"albums": out.page(items, len(albums), limit, offset, request.path, query(request))}
    )
