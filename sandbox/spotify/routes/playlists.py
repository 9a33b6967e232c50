"""Playlists: listing, reading, creating, and editing items (add, replace, reorder, remove).

2026 rules: contents (``/items``, ``items`` in a playlist) are shown only to the owner and
collaborators; writes go to ``/playlists/{id}/items`` (``/tracks`` is closed), at most 100
URIs a request, by the owner or a collaborator of a collaborative playlist. Every edit
gives the playlist a new ``snapshot_id``.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from ..errors import ApiError
from ..users import MAX_PLAYLIST_ITEMS, Playlist, PlaylistItem, User
from ..web_api import (
    BASE62_ID,
    catalog,
    current_user,
    json_body,
    limit_offset,
    query,
    removed_in_development_mode,
    render,
    token_user,
)

MAX_URIS = 100
READ_SCOPES = ("playlist-read-private", "playlist-read-collaborative")

routes = web.RouteTableDef()


def _playlists_page(request: web.Request, u: User) -> web.Response:
    limit, offset = limit_offset(request, 50, 20)
    if offset > 100_000:
        raise ApiError(400, "Invalid offset")
    playlists = catalog(request).playlists
    out = render(request)
    items = [out.playlist_simple(playlists[p]) for p in u.playlists[offset : offset + limit]]
    return web.json_response(
        out.page(items, len(u.playlists), limit, offset, request.path, query(request))
    )


@routes.get("/v1/me/playlists")
async def my_playlists(request: web.Request) -> web.StreamResponse:
    return _playlists_page(request, current_user(request, *READ_SCOPES))


@routes.get("/v1/users/{id}/playlists")
async def user_playlists(request: web.Request) -> web.StreamResponse:
    removed_in_development_mode(request)
    u = catalog(request).users.get(request.match_info["id"])
    if u is None:
        raise ApiError(404, "Resource not found")
    return _playlists_page(request, u)


def _playlist(request: web.Request) -> Playlist:
    pid = request.match_info["id"]
    pl = catalog(request).playlists.get(pid)
    if pl is None:
        if not BASE62_ID.fullmatch(pid):
            raise ApiError(400, "Invalid base62 id")
        raise ApiError(404, "Resource not found")
    return pl


@routes.get("/v1/playlists/{id}")
async def playlist(request: web.Request) -> web.StreamResponse:
    pl = _playlist(request)
    reader = token_user(request)
    readable = reader is not None and pl.can_read_items(reader)
    return web.json_response(render(request).playlist(pl, with_items=readable))


@routes.get("/v1/playlists/{id}/items")
async def playlist_items(request: web.Request) -> web.StreamResponse:
    pl = _playlist(request)
    u = current_user(request, *READ_SCOPES)
    limit, offset = limit_offset(request, 50, 20)
    if not pl.can_read_items(u):
        raise ApiError(403, "Forbidden")
    return web.json_response(render(request).playlist_entries(pl, limit, offset))


# ---------------------------------------------------------------------- creating


async def _create(request: web.Request, u: User) -> web.StreamResponse:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "Missing required field: name")
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError(400, "Missing required field: name")
    public = body.get("public", True)
    collaborative = body.get("collaborative", False)
    description = body.get("description") or ""
    if not isinstance(public, bool) or not isinstance(collaborative, bool):
        raise ApiError(400, "public and collaborative must be booleans")
    if not isinstance(description, str):
        raise ApiError(400, "description must be a string")
    if collaborative and public:
        raise ApiError(400, "Collaborative playlists can only be private.")
    if collaborative:
        current_user(request, "playlist-modify-private")
        current_user(request, "playlist-modify-public")
    else:
        current_user(request, "playlist-modify-public" if public else "playlist-modify-private")
    pl = catalog(request).add_playlist(
        u.id,
        name,
        0,
        collaborative=collaborative,
        public=public,
        description=description,
        first=True,
    )
    return web.json_response(render(request).playlist(pl, with_items=True), status=201)


@routes.post("/v1/me/playlists")
async def create_playlist(request: web.Request) -> web.StreamResponse:
    return await _create(request, current_user(request))


@routes.post("/v1/users/{id}/playlists")
async def create_playlist_for_user(request: web.Request) -> web.StreamResponse:
    removed_in_development_mode(request)
    u = current_user(request)
    if request.match_info["id"] != u.id:
        raise ApiError(403, "You cannot create a playlist for another user")
    return await _create(request, u)


# ---------------------------------------------------------------------- editing


def _editable(request: web.Request, pl: Playlist, action: str) -> User:
    """The token's user, with the scope this playlist needs and the right to edit it."""
    u = current_user(request, "playlist-modify-public" if pl.public else "playlist-modify-private")
    if not pl.can_edit(u):
        raise ApiError(403, f"You cannot {action} a playlist you don't own.")
    return u


def _uris(request: web.Request, body: Any) -> list[str] | None:
    """The URIs of a write: ``?uris=`` wins over the body (a list, or ``{"uris": [...]}``)."""
    raw = request.query.get("uris")
    if raw is not None:
        return [u.strip() for u in raw.split(",") if u.strip()]
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and "uris" in body:
        uris = body["uris"]
        if not isinstance(uris, list):
            raise ApiError(400, "uris must be a list")
        return uris
    return None


def _items(request: web.Request, uris: list[Any]) -> list[PlaylistItem]:
    if len(uris) > MAX_URIS:
        raise ApiError(400, f"You can add a maximum of {MAX_URIS} tracks per request.")
    cat = catalog(request)
    items: list[PlaylistItem] = []
    for uri in uris:
        if not isinstance(uri, str):
            raise ApiError(400, f"Invalid track uri: {uri!r}")
        kind, _, id_ = uri.removeprefix("spotify:").partition(":")
        if not uri.startswith("spotify:") or kind not in ("track", "episode"):
            raise ApiError(400, f"Invalid track uri: {uri}")
        if not BASE62_ID.fullmatch(id_):
            raise ApiError(400, "Invalid base62 id")
        item = cat.resolve(uri)
        if item is None:
            raise ApiError(400, "Payload contains a non-existing ID")
        items.append(item)
    return items


def _int(body: dict[str, Any], key: str, default: int | None = None) -> int:
    value = body.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ApiError(400, f"Missing or invalid {key}")
    return value


def _check_snapshot(pl: Playlist, body: Any) -> None:
    snapshot = body.get("snapshot_id") if isinstance(body, dict) else None
    if snapshot is not None and not (isinstance(snapshot, str) and pl.had_snapshot(snapshot)):
        raise ApiError(400, "Invalid snapshot id")


def _snapshot(pl: Playlist, status: int = 200) -> web.Response:
    return web.json_response({"snapshot_id": pl.snapshot_id()}, status=status)


@routes.post("/v1/playlists/{id}/items")
async def add_items(request: web.Request) -> web.StreamResponse:
    pl = _playlist(request)
    u = _editable(request, pl, "add tracks to")
    body = await json_body(request)
    uris = _uris(request, body)
    if not uris:
        raise ApiError(400, "Missing required field: uris")
    items = _items(request, uris)
    position: Any = request.query.get("position")
    if position is None and isinstance(body, dict):
        position = body.get("position")
    if position is not None:
        try:
            position = int(position)
        except (TypeError, ValueError):
            raise ApiError(400, "Invalid position") from None
        if not 0 <= position <= pl.total:
            raise ApiError(400, "Index out of bounds")
    if pl.total + len(items) > MAX_PLAYLIST_ITEMS:
        raise ApiError(400, f"Playlist size limit reached ({MAX_PLAYLIST_ITEMS} items)")
    catalog(request).insert_items(pl, items, position, u.id, time.time())
    return _snapshot(pl, status=201)


@routes.put("/v1/playlists/{id}/items")
async def replace_or_reorder_items(request: web.Request) -> web.StreamResponse:
    pl = _playlist(request)
    u = _editable(request, pl, "change")
    body = await json_body(request)
    cat = catalog(request)
    uris = _uris(request, body)
    if uris is not None:
        cat.replace_items(pl, _items(request, uris), u.id, time.time())
        return _snapshot(pl)
    if not isinstance(body, dict) or "range_start" not in body or "insert_before" not in body:
        raise ApiError(400, "Missing uris, or range_start and insert_before")
    _check_snapshot(pl, body)
    start = _int(body, "range_start")
    before = _int(body, "insert_before")
    length = _int(body, "range_length", 1)
    if not (0 <= start < pl.total and 0 <= before <= pl.total and length >= 1):
        raise ApiError(400, "Index out of bounds")
    if start + length > pl.total:
        raise ApiError(400, "Index out of bounds")
    cat.reorder_items(pl, start, length, before)
    return _snapshot(pl)


@routes.delete("/v1/playlists/{id}/items")
async def remove_items(request: web.Request) -> web.StreamResponse:
    pl = _playlist(request)
    _editable(request, pl, "remove tracks from")
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("items"), list) or not body["items"]:
        raise ApiError(400, "Missing required field: items")
    entries = body["items"]
    if len(entries) > MAX_URIS:
        raise ApiError(400, f"You can remove a maximum of {MAX_URIS} tracks per request.")
    _check_snapshot(pl, body)
    wanted: dict[str, list[int] | None] = {}
    for entry in entries:
        uri = entry.get("uri") if isinstance(entry, dict) else None
        if not isinstance(uri, str):
            raise ApiError(400, "Invalid track uri")
        _items(request, [uri])
        positions = entry.get("positions")
        if positions is None:
            wanted[uri] = None
        elif isinstance(positions, list) and all(isinstance(p, int) for p in positions):
            if any(not 0 <= p < pl.total for p in positions):
                raise ApiError(400, "Index out of bounds")
            known = wanted.get(uri, [])
            wanted[uri] = None if known is None else [*known, *positions]
        else:
            raise ApiError(400, "Invalid positions")
    catalog(request).remove_items(pl, wanted)
    return _snapshot(pl)


@routes.put("/v1/playlists/{id}")
async def change_details(request: web.Request) -> web.StreamResponse:
    pl = _playlist(request)
    u = current_user(request, "playlist-modify-public" if pl.public else "playlist-modify-private")
    if pl.owner != u.id:
        raise ApiError(403, "You cannot change details of a playlist you don't own.")
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "Missing playlist details")
    name, description = body.get("name"), body.get("description")
    public, collaborative = body.get("public", pl.public), body.get("collaborative")
    if name is not None and (not isinstance(name, str) or not name):
        raise ApiError(400, "Invalid name")
    if description is not None and not isinstance(description, str):
        raise ApiError(400, "Invalid description")
    if public is not None and not isinstance(public, bool):
        raise ApiError(400, "Invalid public")
    if collaborative is not None and not isinstance(collaborative, bool):
        raise ApiError(400, "Invalid collaborative")
    if collaborative and public:
        raise ApiError(400, "Collaborative playlists can only be private.")
    if name is not None:
        pl.name = name
    if description is not None:
        pl.description = description
    if public is not None:
        pl.public = public
    if collaborative is not None:
        pl.collaborative = collaborative
    pl.edited()
    return web.Response(status=200)
