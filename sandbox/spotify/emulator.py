"""aiohttp Spotify emulator: Accounts service, Web API subset and control API."""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import html
import re
import secrets
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .catalog import Album, Catalog, Playlist, User, iso

SIX_MONTHS = 182 * 86400
CODE_TTL = 600
ALL_SCOPES = (
    "user-read-private user-read-email playlist-read-private playlist-read-collaborative "
    "playlist-modify-private playlist-modify-public user-library-read user-library-modify "
    "user-read-playback-state user-modify-playback-state user-read-currently-playing"
)
URI_RE = re.compile(
    r"^spotify:(track|album|artist|playlist|episode|show|audiobook|user):([0-9A-Za-z]+)$"
)
DEV_MODE_MESSAGE = (
    "Check settings on developer.spotify.com/dashboard, the user may not be registered."
)


LOG = web.RequestKey("spotify_sandbox_log", dict)
TOKEN = web.RequestKey("spotify_sandbox_token", object)


class ApiError(Exception):
    def __init__(self, status: int, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason


def api_error(status: int, message: str, reason: str | None = None, **headers: str) -> web.Response:
    err: dict[str, Any] = {"status": status, "message": message}
    if reason:
        err["reason"] = reason
    return web.json_response({"error": err}, status=status, headers=headers or None)


def oauth_error(error: str, description: str | None = None, status: int = 400) -> web.Response:
    body = {"error": error}
    if description:
        body["error_description"] = description
    return web.json_response(body, status=status)


@dataclass
class Grant:
    id: int
    user: str
    client_id: str
    scopes: list[str]
    authorised_at: float
    refreshes: int = 0


@dataclass
class AccessToken:
    user: str | None
    client_id: str
    scopes: set[str]
    expires_at: float


@dataclass
class RefreshToken:
    grant: Grant
    revoked: bool = False


@dataclass
class Code:
    user: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    expires_at: float
    used: bool = False


@dataclass
class Fault:
    id: int
    path: re.Pattern[str]
    method: str | None
    status: int | None
    retry_after: int | None
    reason: str | None
    delay: float
    times: int | None
    grant_type: str | None
    message: str | None
    hits: int = 0

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": self.path.pattern,
            "method": self.method,
            "status": self.status,
            "retry_after": self.retry_after,
            "reason": self.reason,
            "delay": self.delay,
            "times": self.times,
            "grant_type": self.grant_type,
            "hits": self.hits,
        }


@dataclass
class Settings:
    new_releases_available: bool = True
    access_token_lifetime: int = 3600
    rotate_refresh_tokens: str = "alternate"
    allowed_redirect_uris: list[str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class State:
    codes: dict[str, Code] = field(default_factory=dict)
    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    grants: list[Grant] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0
    fault_seq: int = 0


def _int(q: Any, name: str, default: int) -> int:
    raw = q.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid {name}") from None


class SpotifyEmulator:
    """In-process Spotify: ``/authorize``, ``/api/token``, ``/v1/...`` and ``/_sandbox/...``."""

    def __init__(
        self,
        *,
        seed: int = 2026,
        today: dt.date | None = None,
        access_token_lifetime: int = 3600,
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",
    ) -> None:
        self.seed = seed
        self.today = today
        self.client_id = client_id
        self.client_secret = client_secret
        self._initial_lifetime = access_token_lifetime
        self.catalog = Catalog.build(seed, today)
        self._search_cache: dict[tuple[Any, ...], list[int]] = {}
        self._initial_users = set(self.catalog.users)
        self._fresh()
        self._runner: web.AppRunner | None = None
        self.base_url: str | None = None
        self.app = self._make_app()

    # ------------------------------------------------------------------ lifecycle
    def _fresh(self) -> None:
        self.state = State()
        self.settings = Settings(access_token_lifetime=self._initial_lifetime)

    def reset(self) -> None:
        """Forget tokens, faults, the log and all user/playlist changes; keep the catalogue."""
        self.catalog = self.catalog.fresh()
        self._fresh()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        real_port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        shown = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{shown}:{real_port}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_url(self) -> str:
        assert self.base_url, "emulator not started"
        return self.base_url + "/v1/"

    @property
    def accounts_url(self) -> str:
        assert self.base_url, "emulator not started"
        return self.base_url + "/"

    # ------------------------------------------------------------------ app
    def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        r = app.router
        r.add_get("/authorize", self.h_authorize)
        r.add_post("/api/token", self.h_token)
        v = "/v1"
        for p in ("/me", "/me/"):
            r.add_get(v + p, self.h_me)
        r.add_get(v + "/users/{id}", self.h_user)
        r.add_get(v + "/me/playlists", self.h_my_playlists)
        r.add_get(v + "/users/{id}/playlists", self.h_user_playlists)
        r.add_get(v + "/playlists/{id}", self.h_playlist)
        r.add_get(v + "/playlists/{id}/items", self.h_playlist_items)
        r.add_get(v + "/playlists/{id}/tracks", self.h_removed)
        r.add_get(v + "/search", self.h_search)
        r.add_put(v + "/me/library", self.h_library_put)
        r.add_delete(v + "/me/library", self.h_library_delete)
        r.add_get(v + "/me/library/contains", self.h_library_contains)
        r.add_get(v + "/me/tracks", self.h_saved_tracks)
        r.add_put(v + "/me/tracks", self.h_removed)
        r.add_delete(v + "/me/tracks", self.h_removed)
        r.add_post(v + "/me/player/queue", self.h_queue)
        r.add_get(v + "/me/player/currently-playing", self.h_currently_playing)
        r.add_get(v + "/browse/new-releases", self.h_new_releases)
        r.add_get(v + "/artists/{id}/albums", self.h_artist_albums)
        for kind in ("albums", "artists", "tracks"):
            r.add_get(f"{v}/{kind}", self.h_removed)
            r.add_get(f"{v}/{kind}/", self.h_removed)
        r.add_get(v + "/albums/{id}", self.h_album)
        r.add_get(v + "/artists/{id}", self.h_artist)
        r.add_get(v + "/tracks/{id}", self.h_track)
        r.add_get(v + "/recommendations", self.h_removed)
        r.add_get(v + "/audio-features/{id}", self.h_removed)
        r.add_get(v + "/artists/{id}/related-artists", self.h_removed)
        # control API
        s = "/_sandbox"
        r.add_post(s + "/reset", self.c_reset)
        r.add_get(s + "/users", self.c_users)
        r.add_post(s + "/users", self.c_create_user)
        r.add_patch(s + "/users/{id}", self.c_patch_user)
        r.add_get(s + "/users/{id}/library", self.c_user_library)
        r.add_get(s + "/users/{id}/queue", self.c_user_queue)
        r.add_post(s + "/playlists", self.c_create_playlist)
        r.add_post(s + "/playlists/{id}/tracks", self.c_add_tracks)
        r.add_post(s + "/faults", self.c_add_fault)
        r.add_get(s + "/faults", self.c_list_faults)
        r.add_delete(s + "/faults", self.c_clear_faults)
        r.add_post(s + "/settings", self.c_settings)
        r.add_get(s + "/settings", self.c_settings)
        r.add_post(s + "/tokens/revoke", self.c_revoke)
        r.add_post(s + "/tokens/expire", self.c_expire)
        r.add_post(s + "/tokens/age", self.c_age)
        r.add_get(s + "/requests", self.c_requests)
        r.add_delete(s + "/requests", self.c_clear_requests)
        r.add_get(s + "/catalog", self.c_catalog)
        return app

    # ------------------------------------------------------------------ middleware
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith("/_sandbox/"):
            try:
                resp: web.StreamResponse = await handler(request)
                return resp
            except (KeyError, ValueError, TypeError) as exc:
                return web.json_response({"error": f"bad request: {exc!r}"}, status=400)
        self.state.seq += 1
        entry: dict[str, Any] = {
            "seq": self.state.seq,
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "status": None,
            "user": None,
            "at": time.time(),
        }
        request[LOG] = entry
        self.state.log.append(entry)
        try:
            faulted = await self._apply_faults(request)
            if faulted is not None:
                resp = faulted
            else:
                if request.path.startswith("/v1/"):
                    self._authenticate(request)
                resp = await handler(request)
        except ApiError as exc:
            resp = api_error(exc.status, exc.message, exc.reason)
        except web.HTTPException as exc:
            if request.path.startswith("/v1/") and exc.status == 404:
                resp = api_error(404, "Service not found")
            elif request.path.startswith("/v1/") and exc.status == 405:
                resp = api_error(405, "Method not allowed")
            else:
                entry["status"] = exc.status
                raise
        entry["status"] = resp.status
        return resp

    async def _apply_faults(self, request: web.Request) -> web.StreamResponse | None:
        grant_type = None
        if request.path == "/api/token" and request.method == "POST":
            form = await request.post()
            grant_type = str(form.get("grant_type", "")) or None
            request[LOG]["grant_type"] = grant_type
        for f in list(self.state.faults):
            if f.method and f.method.upper() != request.method:
                continue
            if not f.path.search(request.path):
                continue
            if f.grant_type and f.grant_type != grant_type:
                continue
            if f.times is not None and f.hits >= f.times:
                continue
            f.hits += 1
            if f.delay:
                await asyncio.sleep(f.delay)
            if not f.status:
                continue  # slow-only fault
            headers = {}
            if f.retry_after is not None:
                headers["Retry-After"] = str(f.retry_after)
            elif f.status == 429:
                headers["Retry-After"] = "1"
            if request.path.startswith("/v1/"):
                msg = f.message or {
                    429: "API rate limit exceeded"
                    if f.reason != "QUOTA_EXCEEDED"
                    else "Too many requests",
                    500: "Server error",
                    502: "Bad gateway",
                    503: "Service unavailable",
                }.get(f.status, "Sandbox fault")
                return api_error(f.status, msg, f.reason, **headers)
            if request.path == "/api/token":
                body = {"error": "server_error", "error_description": f.message or "Sandbox fault"}
                if f.status == 429:
                    body = {"error": "rate_limited", "error_description": "Too many requests"}
                return web.json_response(body, status=f.status, headers=headers or None)
            return web.Response(status=f.status, text=f.message or "Sandbox fault", headers=headers)
        return None

    def _authenticate(self, request: web.Request) -> None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            raise ApiError(401, "No token provided")
        tok = self.state.access.get(auth[7:].strip())
        if tok is None:
            raise ApiError(401, "Invalid access token")
        request[LOG]["user"] = tok.user or "app"
        if tok.expires_at <= time.time():
            raise ApiError(401, "The access token expired")
        if tok.user is not None:
            user = self.catalog.users.get(tok.user)
            if user is None:
                raise ApiError(401, "Invalid access token")
            if not user.allowlisted:
                raise ApiError(403, DEV_MODE_MESSAGE)
        request[TOKEN] = tok

    # ------------------------------------------------------------------ helpers
    def _user(self, request: web.Request, *scopes: str) -> User:
        tok: AccessToken = request[TOKEN]  # type: ignore[assignment]
        if tok.user is None:
            raise ApiError(401, "Valid user authentication required")
        if scopes and not any(s in tok.scopes for s in scopes):
            raise ApiError(403, "Insufficient client scope")
        return self.catalog.users[tok.user]

    def _base(self, request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    def _limit(self, request: web.Request, cap: int, default: int) -> tuple[int, int]:
        q = request.query
        try:
            limit = _int(q, "limit", default)
        except ApiError:
            raise ApiError(400, "Invalid limit") from None
        if limit < 1 or limit > cap:
            raise ApiError(400, "Invalid limit")
        offset = _int(q, "offset", 0)
        if offset < 0:
            raise ApiError(400, "Invalid offset")
        return limit, offset

    def _page(
        self,
        request: web.Request,
        items: list[Any],
        total: int,
        limit: int,
        offset: int,
        path: str | None = None,
        extra: dict[str, str] | None = None,
        max_offset: int | None = None,
    ) -> dict[str, Any]:
        base = self._base(request) + (path or request.path)
        params = {
            k: v
            for k, v in (extra if extra is not None else request.query).items()
            if k not in ("limit", "offset")
        }

        def url(off: int) -> str:
            return base + "?" + urllib.parse.urlencode({**params, "offset": off, "limit": limit})

        has_next = offset + limit < total and (max_offset is None or offset + limit <= max_offset)
        return {
            "href": url(offset),
            "items": items,
            "limit": limit,
            "next": url(offset + limit) if has_next else None,
            "offset": offset,
            "previous": url(max(0, offset - limit)) if offset > 0 else None,
            "total": total,
        }

    def _ext(self, kind: str, id_: str) -> dict[str, str]:
        return {"spotify": f"https://open.spotify.com/{kind}/{id_}"}

    def _images(
        self, kind: str, id_: str, sizes: tuple[int, ...] = (640, 300, 64)
    ) -> list[dict[str, Any]]:
        return [
            {"url": f"https://i.scdn.co/image/sandbox-{kind}-{id_}-{s}", "height": s, "width": s}
            for s in sizes
        ]

    # --- object renderers
    def r_artist_simple(self, request: web.Request, a: int) -> dict[str, Any]:
        ar = self.catalog.artists[a]
        return {
            "external_urls": self._ext("artist", ar.id),
            "href": f"{self._base(request)}/v1/artists/{ar.id}",
            "id": ar.id,
            "name": ar.name,
            "type": "artist",
            "uri": f"spotify:artist:{ar.id}",
        }

    def r_artist(self, request: web.Request, a: int) -> dict[str, Any]:
        ar = self.catalog.artists[a]
        return {
            **self.r_artist_simple(request, a),
            "followers": {"href": None, "total": ar.followers},
            "genres": [],
            "images": self._images("artist", ar.id),
            "popularity": ar.popularity,
        }

    def r_album_simple(
        self, request: web.Request, al: Album, group: bool = False
    ) -> dict[str, Any]:
        out = {
            "album_type": al.album_type,
            "total_tracks": al.n_tracks,
            "available_markets": [],
            "external_urls": self._ext("album", al.id),
            "href": f"{self._base(request)}/v1/albums/{al.id}",
            "id": al.id,
            "images": self._images("album", al.id),
            "name": al.name,
            "release_date": al.release_date,
            "release_date_precision": al.precision,
            "type": "album",
            "uri": f"spotify:album:{al.id}",
            "artists": [self.r_artist_simple(request, al.artist)],
        }
        if group:
            out["album_group"] = al.album_type
        return out

    def r_track_simple(self, request: web.Request, t: int) -> dict[str, Any]:
        c = self.catalog
        tid = c.track_ids[t]
        return {
            "artists": [self.r_artist_simple(request, a) for a in c.track_artists(t)],
            "available_markets": [],
            "disc_number": 1,
            "duration_ms": c.track_ms[t],
            "explicit": c.track_ms[t] % 5 == 0,
            "external_urls": self._ext("track", tid),
            "href": f"{self._base(request)}/v1/tracks/{tid}",
            "id": tid,
            "is_playable": True,
            "name": c.track_name[t],
            "preview_url": None,
            "track_number": c.track_no[t],
            "type": "track",
            "uri": f"spotify:track:{tid}",
            "is_local": False,
        }

    def r_track(self, request: web.Request, t: int) -> dict[str, Any]:
        c = self.catalog
        al = c.albums[c.track_album[t]]
        return {
            **self.r_track_simple(request, t),
            "album": self.r_album_simple(request, al),
            "external_ids": {"isrc": f"SBX{26}{t:07d}"},
            "popularity": c.track_popularity(t),
        }

    def r_album(self, request: web.Request, al: Album) -> dict[str, Any]:
        tracks = [
            self.r_track_simple(request, t)
            for t in range(al.first_track, al.first_track + al.n_tracks)
        ]
        page = self._page(
            request, tracks, al.n_tracks, 50, 0, path=f"/v1/albums/{al.id}/tracks", extra={}
        )
        return {
            **self.r_album_simple(request, al),
            "tracks": page,
            "copyrights": [{"text": f"(C) {al.released.year} Sandbox Records", "type": "C"}],
            "external_ids": {"upc": f"{al.idx:012d}"},
            "genres": [],
            "label": "Sandbox Records",
            "popularity": al.popularity,
        }

    def r_user_ref(self, request: web.Request, uid: str, with_name: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "external_urls": self._ext("user", uid),
            "href": f"{self._base(request)}/v1/users/{uid}",
            "id": uid,
            "type": "user",
            "uri": f"spotify:user:{uid}",
        }
        if with_name:
            u = self.catalog.users.get(uid)
            out["display_name"] = u.display_name if u else uid
        return out

    def r_playlist_simple(self, request: web.Request, pl: Playlist) -> dict[str, Any]:
        ref = {"href": f"{self._base(request)}/v1/playlists/{pl.id}/items", "total": pl.total}
        return {
            "collaborative": pl.collaborative,
            "description": pl.description,
            "external_urls": self._ext("playlist", pl.id),
            "href": f"{self._base(request)}/v1/playlists/{pl.id}",
            "id": pl.id,
            "images": self._images("playlist", pl.id, (640,)) if pl.total else [],
            "name": pl.name,
            "owner": self.r_user_ref(request, pl.owner),
            "public": pl.public,
            "snapshot_id": pl.snapshot_id(),
            "items": ref,
            "tracks": dict(ref),
            "type": "playlist",
            "uri": f"spotify:playlist:{pl.id}",
        }

    def r_playlist_entries(
        self, request: web.Request, pl: Playlist, limit: int, offset: int
    ) -> dict[str, Any]:
        entries = self.catalog.entries(pl)[offset : offset + limit]
        items = [
            {
                "added_at": iso(added),
                "added_by": self.r_user_ref(request, who, with_name=False),
                "is_local": False,
                "item": self.r_track(request, t),
            }
            for t, added, who in entries
        ]
        return self._page(
            request, items, pl.total, limit, offset, path=f"/v1/playlists/{pl.id}/items", extra={}
        )

    def _can_read_items(self, user: User, pl: Playlist) -> bool:
        return pl.owner == user.id or user.id in pl.collaborators

    def _find(self, index: dict[str, int], id_: str, what: str) -> int:
        if id_ not in index:
            if not re.fullmatch(r"[0-9A-Za-z]{22}", id_):
                raise ApiError(400, "Invalid base62 id")
            raise ApiError(404, "Resource not found")
        return index[id_]

    # ------------------------------------------------------------------ accounts
    def _redirect_allowed(self, uri: str) -> bool:
        try:
            parts = urllib.parse.urlsplit(uri)
        except ValueError:
            return False
        if parts.hostname in (None, "localhost") or not parts.scheme:
            return False
        allowed = self.settings.allowed_redirect_uris
        if allowed is not None:
            return uri in allowed
        if parts.scheme == "https":
            return True
        if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1"):
            try:
                port = parts.port
            except ValueError:
                return False
            return port is not None and parts.path == "/callback"
        return False

    def _page_html(self, title: str, body: str, status: int = 200) -> web.Response:
        doc = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"</head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
        )
        return web.Response(text=doc, status=status, content_type="text/html")

    async def h_authorize(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        if q.get("client_id") != self.client_id:
            return self._page_html("INVALID_CLIENT: Invalid client", "", 400)
        redirect_uri = q.get("redirect_uri", "")
        if not self._redirect_allowed(redirect_uri):
            return self._page_html("INVALID_CLIENT: Invalid redirect URI", "", 400)
        state = q.get("state")

        def back(params: dict[str, str]) -> web.StreamResponse:
            if state is not None:
                params["state"] = state
            sep = "&" if "?" in redirect_uri else "?"
            raise web.HTTPFound(redirect_uri + sep + urllib.parse.urlencode(params))

        if q.get("response_type") != "code":
            return back({"error": "unsupported_response_type"})
        if q.get("sandbox_deny") in ("1", "true", "yes"):
            return back({"error": "access_denied"})
        uid = q.get("sandbox_user")
        if uid:
            if uid not in self.catalog.users:
                return self._page_html("Unknown sandbox user", html.escape(uid), 400)
            request[LOG]["user"] = uid
            code = secrets.token_urlsafe(48)
            self.state.codes[code] = Code(
                user=uid,
                client_id=self.client_id,
                redirect_uri=redirect_uri,
                scopes=q.get("scope", "").split(),
                expires_at=time.time() + CODE_TTL,
            )
            return back({"code": code})
        links = []
        for u in self.catalog.users.values():
            url = request.path_qs + "&" + urllib.parse.urlencode({"sandbox_user": u.id})
            flags = ", ".join(
                f for f, on in (("Premium", u.premium), ("allowlisted", u.allowlisted)) if on
            )
            links.append(
                f"<li><a href='{html.escape(url)}'>{html.escape(u.display_name)}</a>"
                f" ({html.escape(u.id)}; {flags or 'free'})</li>"
            )
        deny = html.escape(request.path_qs + "&sandbox_deny=1")
        scopes = html.escape(q.get("scope", "(none)"))
        body = (
            f"<p>Sandbox app <b>{html.escape(self.client_id)}</b> asks for: {scopes}</p>"
            f"<p>Log in as:</p><ul>{''.join(links)}</ul><p><a href='{deny}'>Cancel (deny)</a></p>"
        )
        return self._page_html("Spotify sandbox: authorise", body)

    def _client_auth(self, request: web.Request, form: Any) -> bool:
        auth = request.headers.get("Authorization", "")
        cid = secret = None
        if auth.startswith("Basic "):
            try:
                cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
        else:
            cid, secret = form.get("client_id"), form.get("client_secret")
        return cid == self.client_id and secret == self.client_secret

    def _issue_access(self, user: str | None, scopes: list[str] | set[str]) -> tuple[str, int]:
        tok = secrets.token_urlsafe(64)
        life = self.settings.access_token_lifetime
        self.state.access[tok] = AccessToken(user, self.client_id, set(scopes), time.time() + life)
        return tok, life

    def _new_refresh(self, grant: Grant) -> str:
        rt = secrets.token_urlsafe(64)
        self.state.refresh[rt] = RefreshToken(grant)
        return rt

    async def h_token(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        if not self._client_auth(request, form):
            return oauth_error("invalid_client", "Invalid client")
        gt = form.get("grant_type")
        log = request[LOG]
        log["grant_type"] = gt
        now = time.time()
        if gt == "authorization_code":
            code = self.state.codes.get(str(form.get("code", "")))
            if code is not None:
                log["user"] = code.user
            if (
                code is None
                or code.used
                or code.expires_at < now
                or code.client_id != self.client_id
                or code.redirect_uri != form.get("redirect_uri")
            ):
                if code is not None:
                    code.used = True
                return oauth_error("invalid_grant", "Invalid authorization code")
            code.used = True
            grant = Grant(len(self.state.grants) + 1, code.user, code.client_id, code.scopes, now)
            self.state.grants.append(grant)
            access, life = self._issue_access(code.user, code.scopes)
            return web.json_response(
                {
                    "access_token": access,
                    "token_type": "Bearer",
                    "expires_in": life,
                    "scope": " ".join(code.scopes),
                    "refresh_token": self._new_refresh(grant),
                }
            )
        if gt == "refresh_token":
            rt = self.state.refresh.get(str(form.get("refresh_token", "")))
            if rt is None or rt.grant.client_id != self.client_id:
                return oauth_error("invalid_grant", "Invalid refresh token")
            grant = rt.grant
            log["user"] = grant.user
            if rt.revoked or now - grant.authorised_at > SIX_MONTHS:
                return oauth_error("invalid_grant", "Refresh token revoked")
            grant.refreshes += 1
            access, life = self._issue_access(grant.user, grant.scopes)
            body: dict[str, Any] = {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": life,
                "scope": " ".join(grant.scopes),
            }
            mode = self.settings.rotate_refresh_tokens
            if mode == "always" or (mode == "alternate" and grant.refreshes % 2 == 1):
                body["refresh_token"] = self._new_refresh(grant)
            return web.json_response(body)
        if gt == "client_credentials":
            log["user"] = "app"
            access, life = self._issue_access(None, [])
            return web.json_response(
                {"access_token": access, "token_type": "Bearer", "expires_in": life, "scope": ""}
            )
        return oauth_error("unsupported_grant_type", f"grant_type {gt!r} is not supported")

    # ------------------------------------------------------------------ web api
    async def h_removed(self, request: web.Request) -> web.StreamResponse:
        raise ApiError(403, "This endpoint is not available for this application")

    async def h_me(self, request: web.Request) -> web.StreamResponse:
        u = self._user(request)
        return web.json_response(
            {
                "id": u.id,
                "account_id": u.account_id,
                "display_name": u.display_name,
                "uri": f"spotify:user:{u.id}",
                "href": f"{self._base(request)}/v1/users/{u.id}",
                "external_urls": self._ext("user", u.id),
                "images": self._images("user", u.id, (300, 64)),
                "followers": {"href": None, "total": u.followers},
                "type": "user",
            }
        )

    async def h_user(self, request: web.Request) -> web.StreamResponse:
        uid = request.match_info["id"]
        u = self.catalog.users.get(uid)
        if u is None:
            raise ApiError(404, "Resource not found")
        return web.json_response(
            {
                **self.r_user_ref(request, uid),
                "images": self._images("user", u.id, (300, 64)),
                "followers": {"href": None, "total": u.followers},
            }
        )

    def _playlists_page(self, request: web.Request, u: User) -> web.Response:
        limit, offset = self._limit(request, 50, 20)
        if offset > 100_000:
            raise ApiError(400, "Invalid offset")
        ids = u.playlists
        items = [
            self.r_playlist_simple(request, self.catalog.playlists[p])
            for p in ids[offset : offset + limit]
        ]
        return web.json_response(self._page(request, items, len(ids), limit, offset))

    async def h_my_playlists(self, request: web.Request) -> web.StreamResponse:
        u = self._user(request, "playlist-read-private", "playlist-read-collaborative")
        return self._playlists_page(request, u)

    async def h_user_playlists(self, request: web.Request) -> web.StreamResponse:
        u = self.catalog.users.get(request.match_info["id"])
        if u is None:
            raise ApiError(404, "Resource not found")
        return self._playlists_page(request, u)

    def _playlist(self, request: web.Request) -> Playlist:
        pid = request.match_info["id"]
        pl = self.catalog.playlists.get(pid)
        if pl is None:
            if not re.fullmatch(r"[0-9A-Za-z]{22}", pid):
                raise ApiError(400, "Invalid base62 id")
            raise ApiError(404, "Resource not found")
        return pl

    async def h_playlist(self, request: web.Request) -> web.StreamResponse:
        pl = self._playlist(request)
        out = self.r_playlist_simple(request, pl)
        out["description"] = pl.description or None
        out["followers"] = {"href": None, "total": pl.followers}
        tok: AccessToken = request[TOKEN]  # type: ignore[assignment]
        user = self.catalog.users.get(tok.user) if tok.user else None
        if user is not None and self._can_read_items(user, pl):
            page = self.r_playlist_entries(request, pl, 50, 0)
            out["items"] = page
            out["tracks"] = dict(page)
        else:
            # contents are only shown to the owner and collaborators (2026 rules)
            out.pop("items")
            out.pop("tracks")
        return web.json_response(out)

    async def h_playlist_items(self, request: web.Request) -> web.StreamResponse:
        pl = self._playlist(request)
        u = self._user(request, "playlist-read-private", "playlist-read-collaborative")
        limit, offset = self._limit(request, 50, 20)
        if not self._can_read_items(u, pl):
            raise ApiError(403, "Forbidden")
        return web.json_response(self.r_playlist_entries(request, pl, limit, offset))

    @staticmethod
    def _parse_query(q: str) -> tuple[dict[str, str], str]:
        fields: dict[str, str] = {}
        free: list[str] = []
        for m in re.finditer(r'(\w+):"([^"]*)"|(\w+):(\S+)|"([^"]*)"|(\S+)', q):
            if m.group(1):
                fields[m.group(1).lower()] = m.group(2).lower()
            elif m.group(3):
                fields[m.group(3).lower()] = m.group(4).lower()
            else:
                free.append((m.group(5) or m.group(6) or "").lower())
        return fields, " ".join(w for w in free if w)

    async def h_search(self, request: web.Request) -> web.StreamResponse:
        q = request.query.get("q", "").strip()
        types = [t for t in request.query.get("type", "").split(",") if t]
        if not q:
            raise ApiError(400, "No search query")
        if not types:
            raise ApiError(400, "Missing parameter type")
        for t in types:
            if t not in ("track", "album", "artist", "playlist", "show", "episode", "audiobook"):
                raise ApiError(400, "Bad search type field")
        limit, offset = self._limit(request, 10, 5)
        if offset > 1000:
            raise ApiError(400, "Invalid offset")
        fields, free = self._parse_query(q)
        is_new = fields.pop("tag", None) == "new"
        out: dict[str, Any] = {}
        for t in types:
            ids = self._search_ids(t, tuple(sorted(fields.items())), free, is_new)
            total = len(ids)
            page = ids[offset : offset + limit]
            if t == "album":
                items = [self.r_album_simple(request, self.catalog.albums[x]) for x in page]
            elif t == "artist":
                items = [self.r_artist(request, x) for x in page]
            elif t == "track":
                items = [self.r_track(request, x) for x in page]
            else:
                items = []
            out[t + "s"] = self._page(request, items, total, limit, offset, max_offset=1000)
        return web.json_response(out)

    def _search_ids(
        self, t: str, field_items: tuple[tuple[str, str], ...], free: str, is_new: bool
    ) -> list[int]:
        """Matching indices, best first; cached, since the music never changes."""
        key = (t, field_items, free, is_new)
        cache = self._search_cache
        if key in cache:
            return cache[key]
        fields = dict(field_items)
        c = self.catalog
        lower = c.search_index()
        artist_lower, album_lower, track_arts = (
            lower["artists"],
            lower["albums"],
            lower["track_artists"],
        )
        ids: list[int] = []
        af, alf, tf = fields.get("artist", ""), fields.get("album", ""), fields.get("track", "")
        year = fields.get("year")
        if t == "album" and (free or fields or is_new):
            pool = c.new_albums() if is_new else c.albums_by_popularity()
            ids = [
                al.idx
                for al in pool
                if (not free or free in album_lower[al.idx] or free in artist_lower[al.artist])
                and alf in album_lower[al.idx]
                and af in artist_lower[al.artist]
                and (not year or year == str(al.released.year))
            ]
        elif t == "artist" and not is_new and (free or af):
            ids = [i for i, name in enumerate(artist_lower) if free in name and af in name]
        elif t == "track" and (free or fields):
            new_cut = c.today - dt.timedelta(days=14)
            for i, name in enumerate(c.track_lower):
                if tf and tf not in name:
                    continue
                arts = track_arts[i]
                if af and af not in arts:
                    continue
                if free and free not in name and free not in arts:
                    continue
                al = c.albums[c.track_album[i]]
                if alf and alf not in album_lower[al.idx]:
                    continue
                if is_new and al.released <= new_cut:
                    continue
                ids.append(i)
            ids.sort(key=lambda i: -c.track_popularity(i))
        if len(cache) > 512:
            cache.clear()
        cache[key] = ids
        return ids

    def _uris(self, request: web.Request) -> list[tuple[str, str]]:
        raw = request.query.get("uris", "")
        uris = [u for u in raw.split(",") if u]
        if not uris:
            raise ApiError(400, "Missing required parameter: uris")
        if len(uris) > 40:
            raise ApiError(400, "Too many ids requested")
        out = []
        for uri in uris:
            m = URI_RE.match(uri)
            if not m:
                raise ApiError(400, f"Invalid uri: {uri}")
            kind, id_ = m.groups()
            if kind == "track" and id_ not in self.catalog.track_index:
                raise ApiError(400, f"Invalid id: {id_}")
            out.append((kind, id_))
        return out

    async def h_library_put(self, request: web.Request) -> web.StreamResponse:
        u = self._user(request, "user-library-modify")
        liked = self.catalog.liked(u)
        have = {t for t, _ in liked}
        now = time.time()
        for kind, id_ in self._uris(request):
            if kind == "track" and id_ not in have:
                liked.insert(0, (id_, now))
                have.add(id_)
        return web.Response(status=200)

    async def h_library_delete(self, request: web.Request) -> web.StreamResponse:
        u = self._user(request, "user-library-modify")
        drop = {id_ for kind, id_ in self._uris(request) if kind == "track"}
        liked = self.catalog.liked(u)
        liked[:] = [x for x in liked if x[0] not in drop]
        return web.Response(status=200)

    async def h_library_contains(self, request: web.Request) -> web.StreamResponse:
        u = self._user(request, "user-library-read")
        have = {t for t, _ in self.catalog.liked(u)}
        return web.json_response(
            [kind == "track" and id_ in have for kind, id_ in self._uris(request)]
        )

    async def h_saved_tracks(self, request: web.Request) -> web.StreamResponse:
        u = self._user(request, "user-library-read")
        limit, offset = self._limit(request, 50, 20)
        liked = self.catalog.liked(u)
        idx = self.catalog.track_index
        items = [
            {"added_at": iso(ts), "track": self.r_track(request, idx[t])}
            for t, ts in liked[offset : offset + limit]
        ]
        return web.json_response(self._page(request, items, len(liked), limit, offset))

    async def h_queue(self, request: web.Request) -> web.StreamResponse:
        u = self._user(request, "user-modify-playback-state")
        uri = request.query.get("uri", "")
        m = URI_RE.match(uri)
        if not m or m.group(1) not in ("track", "episode"):
            raise ApiError(400, "Invalid uri")
        if not u.premium:
            raise ApiError(403, "Player command failed: Premium required", "PREMIUM_REQUIRED")
        if not u.active_device:
            raise ApiError(404, "Player command failed: No active device found", "NO_ACTIVE_DEVICE")
        if m.group(1) == "track" and m.group(2) not in self.catalog.track_index:
            raise ApiError(404, "Resource not found")
        u.queue.append(uri)
        return web.Response(status=204)

    async def h_currently_playing(self, request: web.Request) -> web.StreamResponse:
        u = self._user(request, "user-read-currently-playing", "user-read-playback-state")
        if not u.playing or u.playing not in self.catalog.track_index or not u.active_device:
            return web.Response(status=204)
        t = self.catalog.track_index[u.playing]
        al = self.catalog.albums[self.catalog.track_album[t]]
        return web.json_response(
            {
                "context": {
                    "type": "album",
                    "href": f"{self._base(request)}/v1/albums/{al.id}",
                    "external_urls": self._ext("album", al.id),
                    "uri": f"spotify:album:{al.id}",
                },
                "timestamp": int(time.time() * 1000),
                "progress_ms": min(42_000, self.catalog.track_ms[t] - 1),
                "is_playing": True,
                "item": self.r_track(request, t),
                "currently_playing_type": "track",
                "actions": {"disallows": {"resuming": True}},
            }
        )

    async def h_new_releases(self, request: web.Request) -> web.StreamResponse:
        if not self.settings.new_releases_available:
            raise ApiError(403, "This endpoint is not available for this application")
        limit, offset = self._limit(request, 50, 20)
        albums = self.catalog.new_albums()[:100]
        items = [self.r_album_simple(request, a) for a in albums[offset : offset + limit]]
        return web.json_response({"albums": self._page(request, items, len(albums), limit, offset)})

    async def h_artist_albums(self, request: web.Request) -> web.StreamResponse:
        a = self._find(self.catalog.artist_index, request.match_info["id"], "artist")
        limit, offset = self._limit(request, 10, 5)
        groups_raw = request.query.get("include_groups", "")
        groups = {g for g in groups_raw.split(",") if g} or {
            "album",
            "single",
            "compilation",
            "appears_on",
        }
        if groups - {"album", "single", "compilation", "appears_on"}:
            raise ApiError(400, "Invalid include_groups")
        albums = [
            self.catalog.albums[i]
            for i in self.catalog.albums_by_artist().get(a, [])
            if self.catalog.albums[i].album_type in groups
        ]
        items = [
            self.r_album_simple(request, al, group=True) for al in albums[offset : offset + limit]
        ]
        return web.json_response(self._page(request, items, len(albums), limit, offset))

    async def h_album(self, request: web.Request) -> web.StreamResponse:
        i = self._find(self.catalog.album_index, request.match_info["id"], "album")
        return web.json_response(self.r_album(request, self.catalog.albums[i]))

    async def h_artist(self, request: web.Request) -> web.StreamResponse:
        i = self._find(self.catalog.artist_index, request.match_info["id"], "artist")
        return web.json_response(self.r_artist(request, i))

    async def h_track(self, request: web.Request) -> web.StreamResponse:
        i = self._find(self.catalog.track_index, request.match_info["id"], "track")
        return web.json_response(self.r_track(request, i))

    # ------------------------------------------------------------------ control API
    def _user_info(self, u: User) -> dict[str, Any]:
        return {
            "id": u.id,
            "display_name": u.display_name,
            "account_id": u.account_id,
            "premium": u.premium,
            "allowlisted": u.allowlisted,
            "active_device": u.active_device,
            "playing": u.playing,
            "playlists": len(u.playlists),
            "owned_playlists": sum(
                1 for p in u.playlists if self.catalog.playlists[p].owner == u.id
            ),
            "liked": len(u._liked) if u._liked is not None else u.liked_count,
            "queue": list(u.queue),
        }

    async def c_reset(self, request: web.Request) -> web.StreamResponse:
        self.reset()
        return web.json_response({"ok": True})

    async def c_users(self, request: web.Request) -> web.StreamResponse:
        return web.json_response([self._user_info(u) for u in self.catalog.users.values()])

    async def c_create_user(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        uid = str(body["id"])
        if uid in self.catalog.users:
            return web.json_response({"error": f"user {uid!r} exists"}, status=409)
        u = self.catalog.add_user(
            uid,
            body.get("display_name"),
            premium=bool(body.get("premium", True)),
            allowlisted=bool(body.get("allowlisted", True)),
            active_device=bool(body.get("active_device", True)),
            playing=body.get("playing"),
            playlists=int(body.get("playlists", 0)),
            liked=int(body.get("liked", 0)),
        )
        return web.json_response(self._user_info(u), status=201)

    async def c_patch_user(self, request: web.Request) -> web.StreamResponse:
        u = self.catalog.users.get(request.match_info["id"])
        if u is None:
            return web.json_response({"error": "no such user"}, status=404)
        body = await request.json()
        for key in ("display_name", "premium", "allowlisted", "active_device", "playing"):
            if key in body:
                setattr(u, key, body[key])
        return web.json_response(self._user_info(u))

    async def c_user_library(self, request: web.Request) -> web.StreamResponse:
        u = self.catalog.users.get(request.match_info["id"])
        if u is None:
            return web.json_response({"error": "no such user"}, status=404)
        return web.json_response({"user": u.id, "tracks": [t for t, _ in self.catalog.liked(u)]})

    async def c_user_queue(self, request: web.Request) -> web.StreamResponse:
        u = self.catalog.users.get(request.match_info["id"])
        if u is None:
            return web.json_response({"error": "no such user"}, status=404)
        return web.json_response({"user": u.id, "queue": list(u.queue)})

    def _pl_info(self, pl: Playlist) -> dict[str, Any]:
        return {
            "id": pl.id,
            "owner": pl.owner,
            "name": pl.name,
            "total": pl.total,
            "collaborative": pl.collaborative,
            "collaborators": sorted(pl.collaborators),
            "snapshot_id": pl.snapshot_id(),
            "uri": f"spotify:playlist:{pl.id}",
        }

    async def c_create_playlist(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        owner = str(body["owner"])
        if owner not in self.catalog.users:
            return web.json_response({"error": "no such user"}, status=404)
        pl = self.catalog.add_playlist(
            owner,
            str(body.get("name", "Sandbox playlist")),
            int(body.get("tracks", 0)),
            collaborative=bool(body.get("collaborative", False)),
            collaborators=list(body.get("collaborators", [])),
            followed_by=list(body.get("followed_by", [])),
        )
        return web.json_response(self._pl_info(pl), status=201)

    async def c_add_tracks(self, request: web.Request) -> web.StreamResponse:
        pl = self.catalog.playlists.get(request.match_info["id"])
        if pl is None:
            return web.json_response({"error": "no such playlist"}, status=404)
        body = await request.json()
        self.catalog.add_tracks(pl, int(body.get("count", 1)))
        return web.json_response(self._pl_info(pl))

    async def c_add_fault(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.state.fault_seq += 1
        f = Fault(
            id=self.state.fault_seq,
            path=re.compile(body.get("path", ".*")),
            method=body.get("method"),
            status=body.get("status"),
            retry_after=body.get("retry_after"),
            reason=body.get("reason"),
            delay=float(body.get("delay", 0) or 0),
            times=body.get("times"),
            grant_type=body.get("grant_type"),
            message=body.get("message"),
        )
        self.state.faults.append(f)
        return web.json_response(f.describe(), status=201)

    async def c_list_faults(self, request: web.Request) -> web.StreamResponse:
        return web.json_response([f.describe() for f in self.state.faults])

    async def c_clear_faults(self, request: web.Request) -> web.StreamResponse:
        self.state.faults.clear()
        return web.json_response({"ok": True})

    async def c_settings(self, request: web.Request) -> web.StreamResponse:
        if request.method == "POST":
            body = await request.json()
            for key, value in body.items():
                if not hasattr(self.settings, key):
                    return web.json_response({"error": f"unknown setting {key!r}"}, status=400)
                if key == "rotate_refresh_tokens" and value not in ("always", "never", "alternate"):
                    return web.json_response({"error": "rotate_refresh_tokens"}, status=400)
                setattr(self.settings, key, value)
        return web.json_response(self.settings.as_dict())

    async def _user_body(self, request: web.Request) -> tuple[str, dict[str, Any]]:
        body = await request.json()
        return str(body["user"]), body

    async def c_revoke(self, request: web.Request) -> web.StreamResponse:
        uid, _ = await self._user_body(request)
        n = 0
        for rt in self.state.refresh.values():
            if rt.grant.user == uid and not rt.revoked:
                rt.revoked = True
                n += 1
        return web.json_response({"revoked": n})

    async def c_expire(self, request: web.Request) -> web.StreamResponse:
        uid, _ = await self._user_body(request)
        n = 0
        past = time.time() - 1
        for tok in self.state.access.values():
            if tok.user == uid and tok.expires_at > past:
                tok.expires_at = past
                n += 1
        return web.json_response({"expired": n})

    async def c_age(self, request: web.Request) -> web.StreamResponse:
        uid, body = await self._user_body(request)
        days = float(body["days"])
        n = 0
        for g in self.state.grants:
            if g.user == uid:
                g.authorised_at -= days * 86400
                n += 1
        return web.json_response({"aged": n})

    async def c_requests(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        path = re.compile(q["path"]) if q.get("path") else None
        since = int(q.get("since", 0) or 0)
        user = q.get("user")
        out = [
            e
            for e in self.state.log
            if e["seq"] > since
            and (path is None or path.search(e["path"]))
            and (user is None or e["user"] == user)
        ]
        return web.json_response(out)

    async def c_clear_requests(self, request: web.Request) -> web.StreamResponse:
        self.state.log.clear()
        return web.json_response({"ok": True})

    async def c_catalog(self, request: web.Request) -> web.StreamResponse:
        c = self.catalog
        users = {}
        for u in c.users.values():
            users[u.id] = {
                "playlists": [self._pl_info(c.playlists[p]) for p in u.playlists[:15]],
                "playlist_count": len(u.playlists),
                "liked": len(u._liked) if u._liked is not None else u.liked_count,
            }
        new = c.new_albums()
        return web.json_response(
            {
                **c.summary(),
                "client_id": self.client_id,
                "preset_users": sorted(self._initial_users),
                "users": users,
                "sample_artists": [c.artists[i].id for i in (0, 1, 2, 10, 100, 2999)],
                "sample_albums": [a.id for a in c.albums[:5]],
                "sample_new_albums": [a.id for a in new[:5]],
                "sample_tracks": [c.track_ids[i] for i in (0, 1, 2, 100, 1000)],
            }
        )


async def serve(host: str = "127.0.0.1", port: int = 8089, **opts: Any) -> None:
    """Run an emulator until cancelled (used by ``python -m sandbox spotify``)."""
    emu = SpotifyEmulator(**opts)
    url = await emu.start(host, port)
    print(f"Spotify sandbox on {url} (api {emu.api_url}, accounts {emu.accounts_url})", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emu.stop()
