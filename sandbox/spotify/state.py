"""Everything one emulator remembers: its catalogue, tokens, settings, faults and request log.

Handlers reach it as ``request.app[STATE]``; ``reset()`` forgets everything but the music.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass, field, fields
from typing import Any

from aiohttp import web

from .catalog import Catalog
from .faults import Faults
from .music import Profile

ROTATIONS = ("always", "never", "alternate")
# "spotify": search refuses offset + limit > 1000, as Spotify does; "spec": only
# offset > 1000, as its OpenAPI spec says (the first sandbox's rule).
SEARCH_WINDOWS = ("spotify", "spec")


@dataclass
class Grant:
    """One user's consent to the app (what a refresh token refreshes)."""

    id: int
    user: str
    client_id: str
    scopes: list[str]
    authorised_at: float
    refreshes: int = 0


@dataclass
class AccessToken:
    user: str | None  # None: a client-credentials (app) token
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
    code_challenge: str | None = None  # PKCE (S256): the token request must send its verifier


@dataclass
class Tokens:
    codes: dict[str, Code] = field(default_factory=dict)
    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    grants: list[Grant] = field(default_factory=list)


@dataclass
class Settings:
    """What the control API's ``/_sandbox/settings`` changes at run time."""

    development_mode: bool = True
    search_window: str = "spotify"
    access_token_lifetime: int = 3600
    rotate_refresh_tokens: str = "alternate"
    allowed_redirect_uris: list[str] | None = None

    @property
    def new_releases_available(self) -> bool:
        """``/browse/new-releases`` answers only for apps out of development mode."""
        return not self.development_mode

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["new_releases_available"] = self.new_releases_available
        return out

    def update(self, changes: dict[str, Any]) -> str | None:
        """Apply the changes; the first problem found, if any (then nothing changed)."""
        known = {f.name for f in fields(self)} | {"new_releases_available"}
        for key, value in changes.items():
            if key not in known:
                return f"unknown setting {key!r}"
            if key == "rotate_refresh_tokens" and value not in ROTATIONS:
                return f"rotate_refresh_tokens must be one of {ROTATIONS}"
            if key == "search_window" and value not in SEARCH_WINDOWS:
                return f"search_window must be one of {SEARCH_WINDOWS}"
        for key, value in changes.items():
            if key == "new_releases_available":
                self.development_mode = not value
            else:
                setattr(self, key, value)
        return None


@dataclass
class RequestLog:
    """Every non-control request: method, path, route, query, status and whose token."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0

    def record(self, request: web.Request) -> dict[str, Any]:
        self.seq += 1
        entry: dict[str, Any] = {
            "seq": self.seq,
            "method": request.method,
            "path": request.path,
            "endpoint": None,
            "query": dict(request.query),
            "status": None,
            "user": None,
            "at": time.time(),
        }
        self.entries.append(entry)
        return entry

    def find(
        self, *, path: str | None = None, since: int = 0, user: str | None = None
    ) -> list[dict[str, Any]]:
        pattern = re.compile(path) if path else None
        return [
            e
            for e in self.entries
            if e["seq"] > since
            and (pattern is None or pattern.search(e["path"]))
            and (user is None or e["user"] == user)
        ]

    def counts(self, entries: list[dict[str, Any]]) -> dict[str, int]:
        """Calls per endpoint (``"GET /v1/artists/{id}/albums"``), most called first."""
        counted: dict[str, int] = {}
        for e in entries:
            key = f"{e['method']} {e['endpoint'] or e['path']}"
            counted[key] = counted.get(key, 0) + 1
        return dict(sorted(counted.items(), key=lambda kv: (-kv[1], kv[0])))


class EmulatorState:
    def __init__(
        self,
        *,
        seed: int,
        today: dt.date | None,
        profile: Profile,
        client_id: str,
        client_secret: str,
        development_mode: bool,
        search_window: str,
        access_token_lifetime: int,
        artists: int,
    ) -> None:
        self.seed = seed
        self.today = today
        self.profile: Profile = profile
        self.client_id = client_id
        self.client_secret = client_secret
        if search_window not in SEARCH_WINDOWS:
            raise ValueError(f"search_window must be one of {SEARCH_WINDOWS}")
        self._initial = Settings(
            development_mode=development_mode,
            search_window=search_window,
            access_token_lifetime=access_token_lifetime,
        )
        self.catalog = Catalog(seed, today, profile, artists=artists)
        self.search_cache: dict[tuple[Any, ...], list[int]] = {}
        self._forget()

    def _forget(self) -> None:
        self.tokens = Tokens()
        self.faults = Faults()
        self.log = RequestLog()
        self.settings = Settings(
            **{f.name: getattr(self._initial, f.name) for f in fields(Settings)}
        )

    def reset(self) -> None:
        """Forget tokens, faults, the log, settings and every change to users, playlists and
        releases; keep the (shared) music."""
        self.catalog = self.catalog.fresh()
        self.search_cache.clear()
        self._forget()

    def music_changed(self) -> None:
        """A release was added: cached search results are stale."""
        self.search_cache.clear()


STATE = web.AppKey("spotify_state", EmulatorState)
LOG_ENTRY = web.RequestKey("spotify_log_entry", dict)
TOKEN = web.RequestKey("spotify_token", AccessToken)
