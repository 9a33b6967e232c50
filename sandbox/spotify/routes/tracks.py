"""Tracks: ``GET /tracks/{id}``."""

from __future__ import annotations

from aiohttp import web

from ..web_api import catalog, find, render

routes = web.RouteTableDef()


@routes.get("/v1/tracks/{id}")
async def track(request: web.Request) -> web.StreamResponse:
    music = catalog(request).music
    return web.json_response(
        render(request).track(find(music.track_index, request.match_info["id"]))
    )
