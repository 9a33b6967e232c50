"""The control API (``/_sandbox/...``, JSON) that tests, benchmarks and the demo drive.

Set up users and what they follow, play and own; add releases; inject faults; change
settings; read back what the bot wrote and the request log. See README.md for each route.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any, NoReturn

from aiohttp import web

from .music import Album
from .state import EmulatorState
from .users import TIME_RANGES, Device, Play, Playback, Playlist, User
from .web_api import state

routes = web.RouteTableDef()
S = "/_sandbox"


def _fail(status: int, message: str) -> NoReturn:
    body = json.dumps({"error": message})
    if status == 404:
        raise web.HTTPNotFound(text=body, content_type="application/json")
    if status == 409:
        raise web.HTTPConflict(text=body, content_type="application/json")
    raise web.HTTPBadRequest(text=body, content_type="application/json")


def _user(request: web.Request) -> User:
    u = state(request).catalog.users.get(request.match_info["id"])
    if u is None:
        _fail(404, f"no such user {request.match_info['id']!r}")
    return u


def _playlist(request: web.Request) -> Playlist:
    pl = state(request).catalog.playlists.get(request.match_info["id"])
    if pl is None:
        _fail(404, f"no such playlist {request.match_info['id']!r}")
    return pl


async def _body(request: web.Request) -> dict[str, Any]:
    body = await request.json()
    if not isinstance(body, dict):
        _fail(400, "the body must be a JSON object")
    return body


def _artist(st: EmulatorState, artist_id: str) -> int:
    idx = st.catalog.music.artist_index.get(artist_id)
    if idx is None:
        _fail(404, f"no such artist {artist_id!r}")
    return idx


def _track(st: EmulatorState, track_id: str) -> int:
    idx = st.catalog.music.track_index.get(track_id.removeprefix("spotify:track:"))
    if idx is None:
        _fail(404, f"no such track {track_id!r}")
    return idx


def _ms(value: Any) -> int:
    """Milliseconds since the epoch, from a number of ms or an ISO 8601 string."""
    if isinstance(value, int | float):
        return int(value)
    moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


# ---------------------------------------------------------------------- descriptions


def user_info(st: EmulatorState, u: User) -> dict[str, Any]:
    playlists = st.catalog.playlists
    return {
        "id": u.id,
        "display_name": u.display_name,
        "account_id": u.account_id,
        "premium": u.premium,
        "allowlisted": u.allowlisted,
        "active_device": u.active_device,
        "playing": u.playing,
        "playback": playback_info(u),
        "playlists": len(u.playlists),
        "owned_playlists": sum(1 for p in u.playlists if playlists[p].owner == u.id),
        "liked": len(u._liked) if u._liked is not None else u.liked_count,
        "following": len(u.following),
        "recently_played": len(u.recent),
        "queue": list(u.queue),
    }


def playback_info(u: User) -> dict[str, Any] | None:
    pb = u.playback
    if pb is None:
        return None
    return {
        "item": pb.item,
        "is_playing": pb.is_playing,
        "progress_ms": pb.progress_ms,
        "private_session": pb.private_session,
        "context": pb.context,
        "device": u.device.name if u.device else None,
    }


def playlist_info(st: EmulatorState, pl: Playlist, items: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": pl.id,
        "owner": pl.owner,
        "name": pl.name,
        "description": pl.description,
        "public": pl.public,
        "total": pl.total,
        "collaborative": pl.collaborative,
        "collaborators": sorted(pl.collaborators),
        "snapshot_id": pl.snapshot_id(),
        "uri": f"spotify:playlist:{pl.id}",
    }
    if items:
        cat = st.catalog
        out["items"] = [cat.item_uri(item) for item, _, _ in cat.entries(pl)]
    return out


def album_info(st: EmulatorState, al: Album) -> dict[str, Any]:
    m = st.catalog.music
    return {
        "id": al.id,
        "uri": f"spotify:album:{al.id}",
        "name": al.name,
        "album_type": al.album_type,
        "artists": [m.artists[a].id for a in al.artists],
        "release_date": al.release_date,
        "tracks": [m.track_ids[t] for t in m.album_tracks(al)],
    }


# ---------------------------------------------------------------------- state


@routes.post(S + "/reset")
async def reset(request: web.Request) -> web.StreamResponse:
    state(request).reset()
    return web.json_response({"ok": True})


@routes.get(S + "/catalog")
async def catalog_summary(request: web.Request) -> web.StreamResponse:
    st = state(request)
    c, m = st.catalog, st.catalog.music
    users = {
        u.id: {
            "playlists": [playlist_info(st, c.playlists[p]) for p in u.playlists[:15]],
            "playlist_count": len(u.playlists),
            "liked": len(u._liked) if u._liked is not None else u.liked_count,
        }
        for u in c.users.values()
    }
    new = m.new_albums()
    collaborations = [a.id for a in m.new_albums_by_relevance() if len(a.artists) > 1][:5]
    return web.json_response(
        {
            **c.summary(),
            "client_id": st.client_id,
            "development_mode": st.settings.development_mode,
            "preset_users": list(c.preset_users),
            "users": users,
            "sample_artists": [m.artists[i].id for i in (0, 1, 2, 10, 100, 2999)],
            "sample_albums": [a.id for a in m.albums[:5]],
            "sample_new_albums": [a.id for a in new[:5]],
            "sample_collaborations": collaborations,
            "sample_tracks": [m.track_ids[i] for i in (0, 1, 2, 100, 1000)],
            "sample_episodes": [e.id for e in m.episodes[:3]],
        }
    )


# ---------------------------------------------------------------------- users


@routes.get(S + "/users")
async def list_users(request: web.Request) -> web.StreamResponse:
    st = state(request)
    return web.json_response([user_info(st, u) for u in st.catalog.users.values()])


@routes.post(S + "/users")
async def create_user(request: web.Request) -> web.StreamResponse:
    st = state(request)
    body = await _body(request)
    uid = str(body["id"])
    if uid in st.catalog.users:
        _fail(409, f"user {uid!r} exists")
    playing = body.get("playing")
    u = st.catalog.add_user(
        uid,
        body.get("display_name"),
        premium=bool(body.get("premium", True)),
        allowlisted=bool(body.get("allowlisted", True)),
        active_device=bool(body.get("active_device", True)),
        playing=st.catalog.music.track_ids[_track(st, playing)] if playing else None,
        playlists=int(body.get("playlists", 0)),
        liked=int(body.get("liked", 0)),
        following=int(body.get("following", 0)),
        top=int(body.get("top", 0)),
        recently_played=int(body.get("recently_played", 0)),
    )
    return web.json_response(user_info(st, u), status=201)


@routes.patch(S + "/users/{id}")
async def update_user(request: web.Request) -> web.StreamResponse:
    st = state(request)
    u = _user(request)
    body = await _body(request)
    for key in ("display_name", "premium", "allowlisted", "active_device"):
        if key in body:
            setattr(u, key, body[key])
    if "playing" in body:
        track = body["playing"]
        u.playback = (
            Playback(
                f"spotify:track:{st.catalog.music.track_ids[_track(st, track)]}",
                timestamp_ms=int(time.time() * 1000),
            )
            if track
            else None
        )
    return web.json_response(user_info(st, u))


@routes.get(S + "/users/{id}/library")
async def user_library(request: web.Request) -> web.StreamResponse:
    u = _user(request)
    liked = state(request).catalog.liked(u)
    return web.json_response({"user": u.id, "tracks": [t for t, _ in liked]})


@routes.get(S + "/users/{id}/queue")
async def user_queue(request: web.Request) -> web.StreamResponse:
    u = _user(request)
    return web.json_response({"user": u.id, "queue": list(u.queue)})


@routes.get(S + "/users/{id}/playlists")
async def user_playlists(request: web.Request) -> web.StreamResponse:
    """Every playlist in the user's list, in order, with its items as URIs."""
    st = state(request)
    u = _user(request)
    playlists = st.catalog.playlists
    return web.json_response(
        {"user": u.id, "playlists": [playlist_info(st, playlists[p], True) for p in u.playlists]}
    )


@routes.get(S + "/users/{id}/following")
@routes.put(S + "/users/{id}/following")
async def following(request: web.Request) -> web.StreamResponse:
    st = state(request)
    u = _user(request)
    if request.method == "PUT":
        body = await _body(request)
        u.following = list(dict.fromkeys(_artist(st, a) for a in body["artists"]))
    artists = st.catalog.music.artists
    return web.json_response({"user": u.id, "artists": [artists[a].id for a in u.following]})


@routes.get(S + "/users/{id}/top")
async def top(request: web.Request) -> web.StreamResponse:
    st = state(request)
    u = _user(request)
    m = st.catalog.music
    return web.json_response(
        {
            "user": u.id,
            "artists": {
                r: [m.artists[a].id for a in u.top_artists.get(r, [])] for r in TIME_RANGES
            },
            "tracks": {r: [m.track_ids[t] for t in u.top_tracks.get(r, [])] for r in TIME_RANGES},
        }
    )


@routes.put(S + "/users/{id}/top/{type}")
async def set_top(request: web.Request) -> web.StreamResponse:
    st = state(request)
    u = _user(request)
    body = await _body(request)
    time_range = body.get("time_range", "medium_term")
    if time_range not in TIME_RANGES:
        _fail(400, f"time_range must be one of {TIME_RANGES}")
    kind = request.match_info["type"]
    if kind == "artists":
        u.top_artists[time_range] = list(dict.fromkeys(_artist(st, a) for a in body["ids"]))
    elif kind == "tracks":
        u.top_tracks[time_range] = list(dict.fromkeys(_track(st, t) for t in body["ids"]))
    else:
        _fail(404, "type must be artists or tracks")
    return await top(request)


def _play(st: EmulatorState, raw: Any, default_ms: int) -> Play:
    if isinstance(raw, str):
        return Play(_track(st, raw), default_ms)
    played = raw.get("played_at")
    return Play(
        _track(st, raw["track"]),
        _ms(played) if played is not None else default_ms,
        raw.get("context"),
    )


def _plays(st: EmulatorState, u: User) -> list[dict[str, Any]]:
    m = st.catalog.music
    return [
        {"track": m.track_ids[p.track], "played_at": p.played_at_ms, "context": p.context}
        for p in u.recent
    ]


@routes.get(S + "/users/{id}/recently-played")
@routes.put(S + "/users/{id}/recently-played")
@routes.post(S + "/users/{id}/recently-played")
async def recently_played(request: web.Request) -> web.StreamResponse:
    """PUT ``{plays: [track id | {track, played_at?, context?}]}`` replaces the history
    (plays without ``played_at`` are spaced 4 minutes apart, newest first, ending now);
    POST ``{track, played_at?, context?}`` adds one play (now, by default)."""
    st = state(request)
    u = _user(request)
    now = int(time.time() * 1000)
    if request.method == "PUT":
        body = await _body(request)
        plays = [_play(st, raw, now - 240_000 * i) for i, raw in enumerate(body["plays"])]
        st.catalog.set_recent(u, plays)
    elif request.method == "POST":
        st.catalog.set_recent(u, [_play(st, await _body(request), now), *u.recent])
    return web.json_response({"user": u.id, "plays": _plays(st, u)})


@routes.put(S + "/users/{id}/playback")
async def set_playback(request: web.Request) -> web.StreamResponse:
    """``{item: track id | "spotify:track:…" | "spotify:episode:…" | "ad" | null,
    is_playing?, progress_ms?, private_session?, context?, shuffle?, repeat?,
    device?: {name, type, volume_percent, supports_volume} | null}``."""
    st = state(request)
    u = _user(request)
    body = await _body(request)
    item = body.get("item")
    if item is not None and item != "ad":
        item = str(item)
        if not item.startswith("spotify:"):
            item = f"spotify:track:{item}"
        if st.catalog.resolve(item) is None:
            _fail(404, f"no such track or episode {item!r}")
    if "device" in body and body["device"] is None:
        u.active_device = False
    else:
        u.active_device = True
        spec = body.get("device") or {}
        assert u.device is not None
        u.device = Device(
            u.device.id,
            str(spec.get("name", u.device.name)),
            str(spec.get("type", u.device.type)),
            spec.get("volume_percent", u.device.volume_percent),
            bool(spec.get("supports_volume", u.device.supports_volume)),
        )
    u.playback = Playback(
        item,
        is_playing=bool(body.get("is_playing", True)),
        progress_ms=int(body.get("progress_ms", 42_000)),
        private_session=bool(body.get("private_session", False)),
        context=body.get("context"),
        shuffle=bool(body.get("shuffle", False)),
        repeat=str(body.get("repeat", "off")),
        timestamp_ms=int(time.time() * 1000),
    )
    return web.json_response(user_info(st, u))


# ---------------------------------------------------------------------- playlists


@routes.post(S + "/playlists")
async def create_playlist(request: web.Request) -> web.StreamResponse:
    st = state(request)
    body = await _body(request)
    owner = str(body["owner"])
    if owner not in st.catalog.users:
        _fail(404, f"no such user {owner!r}")
    pl = st.catalog.add_playlist(
        owner,
        str(body.get("name", "Sandbox playlist")),
        int(body.get("tracks", 0)),
        collaborative=bool(body.get("collaborative", False)),
        collaborators=list(body.get("collaborators", [])),
        followed_by=list(body.get("followed_by", [])),
        description=str(body.get("description", "")),
    )
    return web.json_response(playlist_info(st, pl), status=201)


@routes.get(S + "/playlists/{id}")
async def playlist(request: web.Request) -> web.StreamResponse:
    st = state(request)
    return web.json_response(playlist_info(st, _playlist(request), items=True))


@routes.patch(S + "/playlists/{id}")
async def edit_playlist(request: web.Request) -> web.StreamResponse:
    """Change ``name``, ``description``, ``public``, ``collaborative`` or the ``items``
    (URIs) as the owner would in Spotify's app: a new snapshot."""
    st = state(request)
    pl = _playlist(request)
    body = await _body(request)
    for key in ("name", "description", "public", "collaborative"):
        if key in body:
            setattr(pl, key, body[key])
    if "items" in body:
        items = []
        for uri in body["items"]:
            item = st.catalog.resolve(uri)
            if item is None:
                _fail(404, f"no such track or episode {uri!r}")
            items.append(item)
        st.catalog.replace_items(pl, items, pl.owner, time.time())
    else:
        pl.edited()
    return web.json_response(playlist_info(st, pl, items=True))


@routes.post(S + "/playlists/{id}/tracks")
async def add_tracks(request: web.Request) -> web.StreamResponse:
    st = state(request)
    pl = _playlist(request)
    body = await _body(request)
    st.catalog.add_tracks(pl, int(body.get("count", 1)))
    return web.json_response(playlist_info(st, pl))


# ---------------------------------------------------------------------- releases


@routes.post(S + "/artists/{id}/releases")
async def add_release(request: web.Request) -> web.StreamResponse:
    """A release appearing now: ``{name?, album_type?: single, tracks?: 1, release_date?:
    today, precision?: day, artists?: [more artist ids], popularity?, track_names?}``."""
    st = state(request)
    main = _artist(st, request.match_info["id"])
    body = await _body(request)
    album_type = body.get("album_type", "single")
    if album_type not in ("album", "single", "compilation"):
        _fail(400, "album_type must be album, single or compilation")
    released = body.get("release_date")
    album = st.catalog.add_release(
        [main, *(_artist(st, a) for a in body.get("artists", []))],
        name=body.get("name"),
        album_type=album_type,
        tracks=int(body.get("tracks", 1)),
        released=dt.date.fromisoformat(released) if released else None,
        precision=str(body.get("precision", "day")),
        popularity=body.get("popularity"),
        track_names=body.get("track_names"),
    )
    st.music_changed()
    return web.json_response(album_info(st, album), status=201)


# ---------------------------------------------------------------------- faults & settings


@routes.post(S + "/faults")
async def add_fault(request: web.Request) -> web.StreamResponse:
    fault = state(request).faults.add(await _body(request))
    return web.json_response(fault.describe(), status=201)


@routes.get(S + "/faults")
async def list_faults(request: web.Request) -> web.StreamResponse:
    return web.json_response([f.describe() for f in state(request).faults.active])


@routes.delete(S + "/faults")
async def clear_faults(request: web.Request) -> web.StreamResponse:
    state(request).faults.active.clear()
    return web.json_response({"ok": True})


@routes.get(S + "/settings")
@routes.post(S + "/settings")
async def settings(request: web.Request) -> web.StreamResponse:
    st = state(request)
    if request.method == "POST":
        problem = st.settings.update(await _body(request))
        if problem:
            _fail(400, problem)
    return web.json_response(st.settings.as_dict())


# ---------------------------------------------------------------------- tokens


async def _for_user(request: web.Request) -> tuple[str, dict[str, Any]]:
    body = await _body(request)
    return str(body["user"]), body


@routes.post(S + "/tokens/revoke")
async def revoke(request: web.Request) -> web.StreamResponse:
    uid, _ = await _for_user(request)
    n = 0
    for rt in state(request).tokens.refresh.values():
        if rt.grant.user == uid and not rt.revoked:
            rt.revoked = True
            n += 1
    return web.json_response({"revoked": n})


@routes.post(S + "/tokens/expire")
async def expire(request: web.Request) -> web.StreamResponse:
    uid, _ = await _for_user(request)
    n = 0
    past = time.time() - 1
    for tok in state(request).tokens.access.values():
        if tok.user == uid and tok.expires_at > past:
            tok.expires_at = past
            n += 1
    return web.json_response({"expired": n})


@routes.post(S + "/tokens/age")
async def age(request: web.Request) -> web.StreamResponse:
    uid, body = await _for_user(request)
    days = float(body["days"])
    n = 0
    for grant in state(request).tokens.grants:
        if grant.user == uid:
            grant.authorised_at -= days * 86400
            n += 1
    return web.json_response({"aged": n})


# ---------------------------------------------------------------------- request log


def _logged(request: web.Request) -> list[dict[str, Any]]:
    q = request.query
    return state(request).log.find(
        path=q.get("path") or None, since=int(q.get("since", 0) or 0), user=q.get("user")
    )


@routes.get(S + "/requests")
async def requests_log(request: web.Request) -> web.StreamResponse:
    return web.json_response(_logged(request))


@routes.get(S + "/requests/counts")
async def request_counts(request: web.Request) -> web.StreamResponse:
    return web.json_response(state(request).log.counts(_logged(request)))


@routes.delete(S + "/requests")
async def clear_requests(request: web.Request) -> web.StreamResponse:
    state(request).log.entries.clear()
    return web.json_response({"ok": True})
