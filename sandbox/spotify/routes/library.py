"""The user's library: ``PUT``/``DELETE /me/library`` (likes), ``/me/library/contains``,
``GET /me/tracks`` (liked songs, newest first)."""

from __future__ import annotations

import time

from aiohttp import web

from ..errors import ApiError
from ..music import iso
from ..web_api import URI, catalog, current_user, limit_offset, query, render

MAX_URIS = 40
# what PUT/DELETE take (no artists: apps can no longer follow artists for a user);
# /contains also answers for artists (whether the user follows them)
SAVABLE = ("track", "album", "episode", "show", "audiobook", "user", "playlist")

routes = web.RouteTableDef()


def _uris(request: web.Request, kinds: tuple[str, ...] = SAVABLE) -> list[tuple[str, str]]:
    uris = [u for u in request.query.get("uris", "").split(",") if u]
    if not uris:
        raise ApiError(400, "Missing required parameter: uris")
    if len(uris) > MAX_URIS:
        raise ApiError(400, "Too many ids requested")
    tracks = catalog(request).music.track_index
    out = []
    for uri in uris:
        m = URI.match(uri)
        if not m:
            raise ApiError(400, f"Invalid uri: {uri}")
        kind, id_ = m.groups()
        if kind not in kinds:
            raise ApiError(400, f"Unsupported URI type: {uri}")
        if kind == "track" and id_ not in tracks:
            raise ApiError(400, f"Invalid id: {id_}")
        out.append((kind, id_))
    return out


@routes.put("/v1/me/library")
async def save(request: web.Request) -> web.StreamResponse:
    """Track URIs go to liked songs; other savable kinds are accepted and ignored; artist
    URIs are refused (apps can no longer follow artists for a user)."""
    u = current_user(request, "user-library-modify")
    liked = catalog(request).liked(u)
    have = {t for t, _ in liked}
    now = time.time()
    for kind, id_ in _uris(request):
        if kind == "track" and id_ not in have:
            liked.insert(0, (id_, now))
            have.add(id_)
    return web.Response(status=200)


@routes.delete("/v1/me/library")
async def remove(request: web.Request) -> web.StreamResponse:
    u = current_user(request, "user-library-modify")
    drop = {id_ for kind, id_ in _uris(request) if kind == "track"}
    liked = catalog(request).liked(u)
    liked[:] = [x for x in liked if x[0] not in drop]
    return web.Response(status=200)


@routes.get("/v1/me/library/contains")
async def contains(request: web.Request) -> web.StreamResponse:
    u = current_user(request, "user-library-read", "user-follow-read")
    cat = catalog(request)
    have = {t for t, _ in cat.liked(u)}
    artists = cat.music.artists
    followed = {artists[a].id for a in u.following}
    return web.json_response(
        [
            (kind == "track" and id_ in have) or (kind == "artist" and id_ in followed)
            for kind, id_ in _uris(request, (*SAVABLE, "artist"))
        ]
    )


@routes.get("/v1/me/tracks")
async def liked_songs(request: web.Request) -> web.StreamResponse:
    u = current_user(request, "user-library-read")
    limit, offset = limit_offset(request, 50, 20)
    cat = catalog(request)
    liked = cat.liked(u)
    out = render(request)
    index = cat.music.track_index
    items = [
        {"added_at": iso(ts), "track": out.track(index[t])}
        for t, ts in liked[offset : offset + limit]
    ]
    return web.json_response(
        out.page(items, len(liked), limit, offset, request.path, query(request))
    )
