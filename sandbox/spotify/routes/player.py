"""The player: what is playing (``/me/player``, ``currently-playing``), devices, recently
played, and adding to the queue.

``currently-playing`` answers 204 when nothing plays, when no device is active and during
a private session (Spotify withholds it); an advertisement has ``item: null``; an episode
is only described to clients that ask ``additional_types=episode``. Progress does not
advance on its own: it is what the control API set.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from ..errors import ApiError
from ..music import Episode
from ..users import User
from ..web_api import URI, catalog, current_user, int_param, limit_offset, query, render

routes = web.RouteTableDef()


def _wants_episodes(request: web.Request) -> bool:
    return "episode" in request.query.get("additional_types", "").split(",")


def _active(u: User) -> bool:
    return u.active_device and u.device is not None


@routes.get("/v1/me/player/currently-playing")
async def currently_playing(request: web.Request) -> web.StreamResponse:
    u = current_user(request, "user-read-currently-playing", "user-read-playback-state")
    pb = u.playback
    if not _active(u) or pb is None or pb.private_session or pb.item is None:
        return web.Response(status=204)
    if pb.item != "ad" and catalog(request).resolve(pb.item) is None:
        return web.Response(status=204)
    return web.json_response(render(request).playing(pb, _wants_episodes(request)))


@routes.get("/v1/me/player")
async def playback_state(request: web.Request) -> web.StreamResponse:
    u = current_user(request, "user-read-playback-state")
    if not _active(u):
        return web.Response(status=204)
    assert u.device is not None
    out = render(request)
    pb = u.playback
    body: dict[str, Any] = {
        "device": out.device(u.device, pb),
        "repeat_state": pb.repeat if pb else "off",
        "shuffle_state": pb.shuffle if pb else False,
    }
    if pb is None or pb.item is None or pb.private_session:
        body.update(
            {
                "context": None,
                "timestamp": pb.timestamp_ms if pb else int(time.time() * 1000),
                "progress_ms": None,
                "is_playing": bool(pb and pb.private_session and pb.is_playing),
                "item": None,
                "currently_playing_type": "unknown",
                "actions": {"disallows": {"pausing": True}},
            }
        )
    else:
        body.update(out.playing(pb, _wants_episodes(request)))
    return web.json_response(body)


@routes.get("/v1/me/player/devices")
async def devices(request: web.Request) -> web.StreamResponse:
    u = current_user(request, "user-read-playback-state")
    if not _active(u):
        return web.json_response({"devices": []})
    assert u.device is not None
    return web.json_response({"devices": [render(request).device(u.device, u.playback)]})


@routes.get("/v1/me/player/recently-played")
async def recently_played(request: web.Request) -> web.StreamResponse:
    """The last 50 plays at most, newest first, paged with ``before``/``after`` cursors
    (milliseconds). With ``after``, the page holds the plays just after the cursor."""
    u = current_user(request, "user-read-recently-played")
    limit, _ = limit_offset(request, 50, 20)
    before, after = int_param(request, "before"), int_param(request, "after")
    if before is not None and after is not None:
        raise ApiError(400, "Only one of before and after may be given")
    if (before is not None and before < 0) or (after is not None and after < 0):
        raise ApiError(400, "Invalid cursor")
    window = catalog(request).recent_window(u)
    if after is not None:
        newer = [p for p in window if p.played_at_ms > after]
        chosen = newer[-limit:]
        more, follow = len(newer) > limit, "after"
    else:
        older = [p for p in window if before is None or p.played_at_ms < before]
        chosen = older[:limit]
        more, follow = len(older) > limit, "before"
    out = render(request)
    cursors = (
        {"after": str(chosen[0].played_at_ms), "before": str(chosen[-1].played_at_ms)}
        if chosen
        else None
    )
    next_url = None
    if more and cursors:
        next_url = out.url(request.path, {follow: cursors[follow], "limit": limit})
    return web.json_response(
        {
            "href": out.url(request.path, query(request)),
            "items": [out.play(p) for p in chosen],
            "limit": limit,
            "next": next_url,
            "cursors": cursors,
        }
    )


@routes.post("/v1/me/player/queue")
async def add_to_queue(request: web.Request) -> web.StreamResponse:
    u = current_user(request, "user-modify-playback-state")
    uri = request.query.get("uri", "")
    m = URI.match(uri)
    if not m or m.group(1) not in ("track", "episode"):
        raise ApiError(400, "Invalid uri")
    if not u.premium:
        raise ApiError(403, "Player command failed: Premium required", "PREMIUM_REQUIRED")
    if not u.active_device:
        raise ApiError(404, "Player command failed: No active device found", "NO_ACTIVE_DEVICE")
    item = catalog(request).resolve(uri)
    if item is None or (m.group(1) == "episode" and not isinstance(item, Episode)):
        raise ApiError(404, "Resource not found")
    u.queue.append(uri)
    return web.Response(status=204)
