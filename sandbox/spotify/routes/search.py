"""``GET /search``: case-insensitive substring search over names, as Spotify's 2026 rules say.

``limit`` <= 10 (default 5); Spotify refuses ``offset + limit > 1000`` (its spec's
``offset <= 1000`` is looser); ``tag:new`` (albums of the last 14 days) comes in relevance
order (popularity), not newest first. Works with an app token.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from aiohttp import web

from ..errors import ApiError
from ..music import NEW_DAYS, Music
from ..web_api import limit_offset, query, render, state

WINDOW = 1000
TYPES = ("track", "album", "artist", "playlist", "show", "episode", "audiobook")

routes = web.RouteTableDef()


FIELDS = ("artist", "album", "track", "year", "tag", "genre", "isrc", "upc")


def parse_query(q: str) -> tuple[dict[str, str], list[str]]:
    """``artist:"a b" year:2026 free "a phrase"`` -> the field filters and the free terms
    (lower-cased; a quoted phrase is one term; ``x:y`` is a filter only for Spotify's
    field names, so names holding ``https://`` or ``"Title":`` stay searchable)."""
    fields: dict[str, str] = {}
    free: list[str] = []
    for m in re.finditer(r'(\w+):"([^"]*)"|(\w+):(\S+)|"([^"]*)"|(\S+)', q):
        if m.group(1) and m.group(1).lower() in FIELDS:
            fields[m.group(1).lower()] = m.group(2).lower()
        elif m.group(3) and m.group(3).lower() in FIELDS:
            fields[m.group(3).lower()] = m.group(4).lower()
        elif m.group(5) is not None:
            free.append(m.group(5).lower())
        else:
            free.append(m.group(0).lower())
    return fields, [term for term in free if term]


@routes.get("/v1/search")
async def search(request: web.Request) -> web.StreamResponse:
    q = request.query.get("q", "").strip()
    types = [t for t in request.query.get("type", "").split(",") if t]
    if not q:
        raise ApiError(400, "No search query")
    if not types:
        raise ApiError(400, "Missing parameter type")
    if any(t not in TYPES for t in types):
        raise ApiError(400, "Bad search type field")
    limit, offset = limit_offset(request, 10, 5)
    strict = state(request).settings.search_window == "spotify"
    if offset > WINDOW:
        raise ApiError(400, "Invalid offset")
    if strict and offset + limit > WINDOW:
        raise ApiError(400, "Bad request.")
    fields, free = parse_query(q)
    is_new = fields.pop("tag", None) == "new"
    st = state(request)
    out = render(request)
    music = st.catalog.music
    body: dict[str, Any] = {}
    for t in types:
        key = (t, tuple(sorted(fields.items())), tuple(free), is_new)
        ids = st.search_cache.get(key)
        if ids is None:
            ids = matching(music, t, fields, free, is_new)
            if len(st.search_cache) > 512:
                st.search_cache.clear()
            st.search_cache[key] = ids
        chosen = ids[offset : offset + limit]
        if t == "album":
            items = [out.album_simple(music.albums[x]) for x in chosen]
        elif t == "artist":
            items = [out.artist(x) for x in chosen]
        elif t == "track":
            items = [out.track(x) for x in chosen]
        else:
            items = []
        body[t + "s"] = out.page(
            items,
            len(ids),
            limit,
            offset,
            request.path,
            query(request),
            window=WINDOW if strict else WINDOW + limit,
        )
    return web.json_response(body)


def matching(
    music: Music, t: str, fields: dict[str, str], free: list[str], is_new: bool
) -> list[int]:
    """Matching indices, best first: names holding the whole free text come first, then
    those holding every term; each group most popular first."""
    index = music.search_index()
    artist_lower, album_lower = index["artists"], index["albums"]
    album_artists, track_artists = index["album_artists"], index["track_artists"]
    af, alf, tf = fields.get("artist", ""), fields.get("album", ""), fields.get("track", "")
    year = fields.get("year")
    phrase = " ".join(free)

    def rank(found: list[tuple[int, bool]]) -> list[int]:
        return [i for i, whole in found if whole] + [i for i, whole in found if not whole]

    def holds(*texts: str) -> tuple[bool, bool]:
        """(every term is in one of the texts, the whole phrase is in one of them)."""
        if not free:
            return True, True
        every = all(any(term in text for text in texts) for term in free)
        return every, every and any(phrase in text for text in texts)

    if t == "album" and (free or fields or is_new):
        pool = music.new_albums_by_relevance() if is_new else music.albums_by_popularity()
        found = []
        for al in pool:
            if alf not in album_lower[al.idx] or af not in album_artists[al.idx]:
                continue
            if year and year != str(al.released.year):
                continue
            every, whole = holds(album_lower[al.idx], album_artists[al.idx])
            if every:
                found.append((al.idx, whole))
        return rank(found)
    if t == "artist" and not is_new and (free or af):
        found = []
        for i, name in enumerate(artist_lower):
            if af not in name:
                continue
            every, whole = holds(name)
            if every:
                found.append((i, whole))
        return rank(found)
    if t == "track" and (free or fields):
        new_cut = music.today - dt.timedelta(days=NEW_DAYS)
        found = []
        for i, name in enumerate(music.track_lower):
            if tf and tf not in name:
                continue
            arts = track_artists[i]
            if af and af not in arts:
                continue
            every, whole = holds(name, arts)
            if not every:
                continue
            al = music.albums[music.track_album[i]]
            if alf and alf not in album_lower[al.idx]:
                continue
            if is_new and al.released <= new_cut:
                continue
            if year and year != str(al.released.year):
                continue
            found.append((i, whole))
        found.sort(key=lambda x: -music.track_popularity(x[0]))
        return rank(found)
    return []
