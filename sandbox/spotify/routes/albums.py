"""Albums: ``GET /albums/{id}`` and ``GET /albums/{id}/tracks``."""

from __future__ import annotations

from aiohttp import web

from ..web_api import catalog, find, limit_offset, render

routes = web.RouteTableDef()


@routes.get("/v1/albums/{id}")
async def album(request: web.Request) -> web.StreamResponse:
    music = catalog(request).music
    al = music.albums[find(music.album_index, request.match_info["id"])]
    return web.json_response(render(request).album(al))


@routes.get("/v1/albums/{id}/tracks")
@routes.get("/v1/albums/{id}/tracks/")  # spotipy asks with the slash
async def album_tracks(request: web.Request) -> web.StreamResponse:
    music = catalog(request).music
    al = music.albums[find(music.album_index, request.match_info["id"])]
    limit, offset = limit_offset(request, 50, 20)
    return web.json_response(render(request).album_tracks(al, limit, offset))
