"""Spotify's Web API as blocking calls over the standard library's `http.client`, one client
per Spotify thread (bot.spotify.gateway runs them).

Encore called these endpoints through spotipy 2.26 until issue 19. Importing spotipy imports
redis (for its cache handlers, which Encore never used), requests, urllib3 and
charset_normalizer: about 11 MiB of every gateway's memory for what is one HTTPS request per
call. The methods here keep spotipy's names, arguments, paths and query parameters for the
calls Encore makes, so the call sites (`lambda sp: sp.search(...)`) read as before; errors
are `SpotifyHTTPError` (status, Spotify's message and reason, the headers for `Retry-After`)
and `SpotifyUnreachable` (no answer: refused, reset, timed out, bad TLS).

What is deliberately not carried over from requests: proxies and CA bundles read from the
environment (`HTTPS_PROXY`, `REQUESTS_CA_BUNDLE`), which only these calls ever honoured (the
Accounts service, Discord and the rest of Encore go through aiohttp without them), and
~/.netrc, which requests would have sent instead of the bearer token. TLS is verified
against the system's store, as for every other HTTPS call Encore makes (`SSL_CERT_FILE`
applies to all of them).
"""

from __future__ import annotations

import http.client
import json
import re
import select
import ssl
import zlib
from collections.abc import Iterable, Mapping
from email.message import Message
from functools import cache
from typing import Any
from urllib.parse import urlencode, urlsplit

from bot import __version__

_URI = re.compile(
    r"^spotify:(?:(?P<type>track|artist|album|playlist|show|episode|audiobook):"
    r"(?P<id>[0-9A-Za-z]+)|user:(?P<username>[0-9A-Za-z]+):playlist:(?P<playlistid>[0-9A-Za-z]+))$"
)
_URL = re.compile(
    r"^(http[s]?:\/\/)?open.spotify.com\/(intl-\w\w\/)?(?P<type>track|artist|album|playlist|"
    r"show|episode|user|audiobook)\/(?P<id>[0-9A-Za-z]+)(\?.*)?$"
)
_BASE62 = re.compile(r"^[0-9A-Za-z]+$")
_USER_AGENT = f"Encore/{__version__}"


class SpotifyHTTPError(Exception):
    """Spotify answered with an HTTP error (or the request was refused before it was sent,
    with status 400, as spotipy did for an id that is not one)."""

    def __init__(
        self,
        http_status: int,
        message: str | None,
        reason: str | None = None,
        headers: Mapping[str, str] | Message | None = None,
    ) -> None:
        self.http_status = http_status
        self.message = message or ""
        self.reason = reason
        # the answer's headers (`Retry-After`), looked up without regard to case
        self.headers: Mapping[str, str] | Message = headers if headers is not None else {}
        super().__init__(http_status, self.message, reason)

    def __str__(self) -> str:
        return f"http status: {self.http_status} - {self.message}, reason: {self.reason}"


class SpotifyUnreachable(Exception):
    """No answer from Spotify: the connection was refused, reset or timed out, or TLS failed."""


@cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every thread's connections (the system's CA store is loaded once)."""
    return ssl.create_default_context()


class WebAPI:
    """One connection's worth of Web API calls: not thread-safe, one per thread."""

    def __init__(self, prefix: str, *, timeout: float, tls: ssl.SSLContext | None = None) -> None:
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"
        self._timeout = timeout
        self._tls = tls
        self._token: str | None = None
        self._connections: dict[tuple[str, str, int], http.client.HTTPConnection] = {}

    def set_auth(self, token: str) -> None:
        self._token = token

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    # -- the wire ------------------------------------------------------------------------

    def _connection(self, scheme: str, host: str, port: int) -> http.client.HTTPConnection:
        key = (scheme, host, port)
        connection = self._connections.get(key)
        if connection is not None and connection.sock is not None and _dropped(connection.sock):
            connection.close()  # the server closed it while it idled: open a new one
        if connection is None:
            if scheme == "https":
                connection = http.client.HTTPSConnection(
                    host, port, timeout=self._timeout, context=self._tls or _tls()
                )
            else:
                connection = http.client.HTTPConnection(host, port, timeout=self._timeout)
            self._connections[key] = connection
        return connection

    def _call(
        self,
        method: str,
        url: str,
        payload: object = None,
        params: Mapping[str, object] | None = None,
    ) -> Any:
        """One request; the answer's JSON (None for an empty or non-JSON body), as spotipy's
        `_internal_call` returned it."""
        if not url.startswith("http"):
            url = self.prefix + url
        query = urlencode([(k, v) for k, v in (params or {}).items() if v is not None])
        if query:
            url += ("&" if "?" in url else "?") + query
        parts = urlsplit(url)
        scheme = parts.scheme or "https"
        port = parts.port or (443 if scheme == "https" else 80)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {
            "Content-Type": "application/json",
            "Accept-Encoding": "gzip, deflate",
            "User-Agent": _USER_AGENT,
        }
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        body = json.dumps(payload).encode() if payload else None
        connection = self._connection(scheme, parts.hostname or "", port)
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise SpotifyUnreachable(type(error).__name__) from None
        if response.getheader("Content-Encoding", "").lower() in ("gzip", "deflate"):
            try:
                data = zlib.decompress(data, 47)  # gzip or zlib, told apart by its header
            except zlib.error:
                raise SpotifyUnreachable("undecodable answer") from None
        status = response.status
        if status >= 400:
            message, reason = _error_of(data)
            raise SpotifyHTTPError(status, message, reason, response.headers)
        try:
            return json.loads(data) if data else None
        except ValueError:
            return None

    def _get(self, url: str, **params: object) -> Any:
        return self._call("GET", url, None, params)

    def _post(self, url: str, payload: object = None, **params: object) -> Any:
        return self._call("POST", url, payload, params)

    def _put(self, url: str, payload: object = None, **params: object) -> Any:
        return self._call("PUT", url, payload, params)

    def _delete(self, url: str, payload: object = None, **params: object) -> Any:
        return self._call("DELETE", url, payload, params)

    # -- the calls Encore makes (spotipy 2.26's names, arguments, paths and parameters) -----

    def next(self, result: Mapping[str, Any]) -> Any:
        """The page after `result` (a paging object), or None after the last."""
        return self._get(result["next"]) if result.get("next") else None

    def me(self) -> Any:
        return self._get("me/")

    def track(self, track_id: str, market: str | None = None) -> Any:
        return self._get("tracks/" + _id("track", track_id), market=market)

    def album(self, album_id: str, market: str | None = None) -> Any:
        return self._get("albums/" + _id("album", album_id), market=market)

    def album_tracks(
        self, album_id: str, limit: int = 50, offset: int = 0, market: str | None = None
    ) -> Any:
        path = "albums/" + _id("album", album_id) + "/tracks/"
        return self._get(path, limit=limit, offset=offset, market=market)

    def artist(self, artist_id: str) -> Any:
        return self._get("artists/" + _id("artist", artist_id))

    def artist_albums(
        self,
        artist_id: str,
        include_groups: str | None = None,
        country: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> Any:
        return self._get(
            "artists/" + _id("artist", artist_id) + "/albums",
            include_groups=include_groups,
            country=country,
            limit=limit,
            offset=offset,
        )

    def search(
        self,
        q: str,
        limit: int = 10,
        offset: int = 0,
        type: str = "track",
        market: str | None = None,
    ) -> Any:
        return self._get("search", q=q, limit=limit, offset=offset, type=type, market=market)

    def new_releases(self, country: str | None = None, limit: int = 20, offset: int = 0) -> Any:
        return self._get("browse/new-releases", country=country, limit=limit, offset=offset)

    def playlist(
        self,
        playlist_id: str,
        fields: str | None = None,
        market: str | None = None,
        additional_types: Iterable[str] = ("track",),
    ) -> Any:
        return self._get(
            f"playlists/{_id('playlist', playlist_id)}",
            fields=fields,
            market=market,
            additional_types=",".join(additional_types),
        )

    def playlist_items(
        self,
        playlist_id: str,
        fields: str | None = None,
        limit: int = 50,
        offset: int = 0,
        market: str | None = None,
        additional_types: Iterable[str] = ("track", "episode"),
    ) -> Any:
        return self._get(
            f"playlists/{_id('playlist', playlist_id)}/items",
            limit=limit,
            offset=offset,
            fields=fields,
            market=market,
            additional_types=",".join(additional_types),
        )

    def playlist_replace_items(self, playlist_id: str, items: Iterable[str]) -> Any:
        uris = [_uri("track", item) for item in items]
        return self._put(f"playlists/{_id('playlist', playlist_id)}/items", {"uris": uris})

    def playlist_add_items(
        self, playlist_id: str, items: Iterable[str], position: int | None = None
    ) -> Any:
        uris = [_uri("track", item) for item in items]
        return self._post(
            f"playlists/{_id('playlist', playlist_id)}/items", uris, position=position
        )

    def current_user_playlists(self, limit: int = 50, offset: int = 0) -> Any:
        return self._get("me/playlists", limit=limit, offset=offset)

    def current_user_playlist_create(
        self, name: str, public: bool = True, collaborative: bool = False, description: str = ""
    ) -> Any:
        return self._post(
            "me/playlists",
            {
                "name": name,
                "public": public,
                "collaborative": collaborative,
                "description": description,
            },
        )

    def current_user_saved_tracks(
        self, limit: int = 20, offset: int = 0, market: str | None = None
    ) -> Any:
        return self._get("me/tracks", limit=limit, offset=offset, market=market)

    def current_user_saved_tracks_add(self, tracks: Iterable[str] = ()) -> Any:
        return self.save_to_library(_uri("track", t) for t in tracks)

    def current_user_saved_tracks_delete(self, tracks: Iterable[str] = ()) -> Any:
        return self._delete("me/library", uris=",".join(_uri("track", t) for t in tracks))

    def save_to_library(self, uris: Iterable[str]) -> Any:
        """`PUT /me/library?uris=`: any item URIs as they are (tracks, albums, episodes)."""
        return self._put("me/library", uris=",".join(uris))

    def current_user_followed_artists(self, limit: int = 20, after: str | None = None) -> Any:
        return self._get("me/following", type="artist", limit=limit, after=after)

    def current_user_top_artists(
        self, limit: int = 20, offset: int = 0, time_range: str = "medium_term"
    ) -> Any:
        return self._get("me/top/artists", time_range=time_range, limit=limit, offset=offset)

    def current_user_top_tracks(
        self, limit: int = 20, offset: int = 0, time_range: str = "medium_term"
    ) -> Any:
        return self._get("me/top/tracks", time_range=time_range, limit=limit, offset=offset)

    def current_user_recently_played(
        self, limit: int = 50, after: int | None = None, before: int | None = None
    ) -> Any:
        return self._get("me/player/recently-played", limit=limit, after=after, before=before)

    def current_playback(
        self, market: str | None = None, additional_types: str | None = None
    ) -> Any:
        return self._get("me/player", market=market, additional_types=additional_types)

    def currently_playing(
        self, market: str | None = None, additional_types: str | None = None
    ) -> Any:
        return self._get(
            "me/player/currently-playing", market=market, additional_types=additional_types
        )

    def add_to_queue(self, uri: str, device_id: str | None = None) -> Any:
        return self._post("me/player/queue", uri=_uri("track", uri), device_id=device_id)


def _id(kind: str, value: str) -> str:
    """The bare id in a Spotify URI, open.spotify.com link or id; 400 (as spotipy raised, and
    Spotify would answer) for anything else."""
    found = _URI.search(value)
    if found is not None:
        if found["type"] != kind:
            raise SpotifyHTTPError(400, "Unexpected Spotify URI type.")
        return str(found["id"])
    found = _URL.search(value)
    if found is not None:
        if found["type"] != kind:
            raise SpotifyHTTPError(400, "Unexpected Spotify URL type.")
        return str(found["id"])
    if _BASE62.search(value) is not None:
        return value
    raise SpotifyHTTPError(400, "Unsupported URL / URI.")


def _uri(kind: str, value: str) -> str:
    return value if _URI.search(value) is not None else f"spotify:{kind}:{_id(kind, value)}"


def _error_of(data: bytes) -> tuple[str | None, str | None]:
    """Spotify's error message and reason from an error body (`{"error": {"message",
    "reason"}}`), or the body's text when it is not that."""
    try:
        body = json.loads(data)
    except ValueError:
        return data.decode(errors="replace") or None, None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = error.get("message")
        reason = error.get("reason")
        return (str(message) if message is not None else None), (
            str(reason) if reason is not None else None
        )
    if isinstance(error, str):
        return error, None
    return data.decode(errors="replace") or None, None


def _dropped(sock: Any) -> bool:
    """An idle kept-alive connection the server has closed (readable means EOF or junk)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
