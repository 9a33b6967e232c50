"""Endpoints Spotify removed for apps (``deprecated: true`` in its spec): always 403.

Batch look-ups, ``/playlists/{id}/tracks`` (use ``/items``), the type-specific library
endpoints (use ``/me/library``), following artists or playlists for a user,
recommendations, related artists, top tracks of an artist, audio features and analysis,
browse categories and featured playlists, markets.
"""

from __future__ import annotations

from aiohttp import web

from ..errors import NOT_AVAILABLE, ApiError

REMOVED: tuple[tuple[str, str], ...] = (
    *((m, "/v1/playlists/{id}/tracks") for m in ("GET", "POST", "PUT", "DELETE")),
    *(("GET", f"/v1/{kind}") for kind in ("albums", "artists", "tracks", "shows", "episodes")),
    *(("GET", f"/v1/{kind}/") for kind in ("albums", "artists", "tracks")),
    ("GET", "/v1/audiobooks"),
    ("GET", "/v1/chapters"),
    *((m, "/v1/me/tracks") for m in ("PUT", "DELETE")),
    ("GET", "/v1/me/tracks/contains"),
    *((m, "/v1/me/albums") for m in ("PUT", "DELETE")),
    ("GET", "/v1/me/albums/contains"),
    *(
        (m, f"/v1/me/{kind}")
        for kind in ("episodes", "shows", "audiobooks")
        for m in ("PUT", "DELETE")
    ),
    *(("GET", f"/v1/me/{kind}/contains") for kind in ("episodes", "shows", "audiobooks")),
    *((m, "/v1/me/following") for m in ("PUT", "DELETE")),
    ("GET", "/v1/me/following/contains"),
    *((m, "/v1/playlists/{id}/followers") for m in ("PUT", "DELETE")),
    ("GET", "/v1/playlists/{id}/followers/contains"),
    ("GET", "/v1/artists/{id}/top-tracks"),
    ("GET", "/v1/artists/{id}/related-artists"),
    ("GET", "/v1/recommendations"),
    ("GET", "/v1/recommendations/available-genre-seeds"),
    ("GET", "/v1/audio-features"),
    ("GET", "/v1/audio-features/{id}"),
    ("GET", "/v1/audio-analysis/{id}"),
    ("GET", "/v1/browse/featured-playlists"),
    ("GET", "/v1/browse/categories"),
    ("GET", "/v1/browse/categories/{category_id}"),
    ("GET", "/v1/browse/categories/{category_id}/playlists"),
    ("GET", "/v1/markets"),
)

routes = web.RouteTableDef()


async def removed(request: web.Request) -> web.StreamResponse:
    raise ApiError(403, NOT_AVAILABLE)


for _method, _path in REMOVED:
    routes.route(_method, _path)(removed)
