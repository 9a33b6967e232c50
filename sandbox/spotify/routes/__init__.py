"""The Web API, one router per resource (each module's ``routes``), plus the Accounts service."""

from __future__ import annotations

from aiohttp import web

from . import (
    accounts,
    albums,
    artists,
    browse,
    following,
    library,
    me,
    player,
    playlists,
    removed,
    search,
    top,
    tracks,
)

ROUTERS: tuple[web.RouteTableDef, ...] = (
    accounts.routes,
    me.routes,
    following.routes,
    top.routes,
    playlists.routes,
    search.routes,
    library.routes,
    player.routes,
    browse.routes,
    artists.routes,
    albums.routes,
    tracks.routes,
    removed.routes,
)
