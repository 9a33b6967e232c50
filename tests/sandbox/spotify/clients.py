"""spotipy 2.26 clients built as the bot builds them, pointed at a Spotify emulator."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import aiohttp
import pytest
import requests
import spotipy
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.exceptions import SpotifyException
from spotipy.oauth2 import SpotifyClientCredentials, SpotifyOAuth

from sandbox.spotify import SpotifyControl, SpotifyEmulator

TODAY = dt.date(2026, 11, 20)
CLIENT_ID, CLIENT_SECRET = "sandbox-client", "sandbox-secret"
REDIRECT = "http://127.0.0.1:8765/callback"
SCOPES = (
    "user-read-private playlist-read-private playlist-read-collaborative user-library-read "
    "user-library-modify user-modify-playback-state user-read-currently-playing"
)
# everything the release radar and the listening commands ask for, too
ALL_SCOPES = (
    f"{SCOPES} user-follow-read user-top-read user-read-recently-played "
    "user-read-playback-state playlist-modify-private playlist-modify-public"
)


def make_oauth(emu: SpotifyEmulator, scope: str = SCOPES, redirect: str = REDIRECT) -> SpotifyOAuth:
    oauth = SpotifyOAuth(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri=redirect,
        scope=scope,
        cache_handler=MemoryCacheHandler(),
        requests_session=requests.Session(),
        open_browser=False,
        requests_timeout=5,
    )
    oauth.OAUTH_TOKEN_URL = emu.accounts_url + "api/token"
    oauth.OAUTH_AUTHORIZE_URL = emu.accounts_url + "authorize"
    return oauth


def make_sp(emu: SpotifyEmulator, auth_manager: Any) -> spotipy.Spotify:
    sp = spotipy.Spotify(
        auth_manager=auth_manager,
        requests_session=requests.Session(),
        retries=0,
        status_retries=0,
        requests_timeout=5,
    )
    sp.prefix = emu.api_url
    return sp


def app_sp(emu: SpotifyEmulator) -> spotipy.Spotify:
    cc = SpotifyClientCredentials(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        cache_handler=MemoryCacheHandler(),
        requests_session=requests.Session(),
    )
    cc.OAUTH_TOKEN_URL = emu.accounts_url + "api/token"
    return make_sp(emu, cc)


async def login(
    emu: SpotifyEmulator, ctl: SpotifyControl, user: str, scope: str = SCOPES
) -> tuple[SpotifyOAuth, spotipy.Spotify, dict[str, Any]]:
    oauth = make_oauth(emu, scope)
    location = await ctl.authorize(oauth.get_authorize_url(state=f"st-{user}"), user)
    code = oauth.parse_response_code(location)
    await asyncio.to_thread(oauth.get_access_token, code, as_dict=False, check_cache=False)
    token = oauth.cache_handler.get_cached_token()
    return oauth, make_sp(emu, oauth), token


async def user_sp(
    emu: SpotifyEmulator, ctl: SpotifyControl, user: str, scope: str = ALL_SCOPES
) -> spotipy.Spotify:
    return (await login(emu, ctl, user, scope))[1]


def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return asyncio.to_thread(fn, *args, **kwargs)


async def raises(fn: Any, *args: Any, **kwargs: Any) -> SpotifyException:
    with pytest.raises(SpotifyException) as info:
        await call(fn, *args, **kwargs)
    return info.value


async def raw(
    emu: SpotifyEmulator,
    sp: spotipy.Spotify,
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    json: Any = None,
) -> tuple[int, Any]:
    """A Web API call outside spotipy (to see statuses and bodies as they are)."""
    token = (await asyncio.to_thread(sp._auth_headers))["Authorization"]  # may fetch a token
    async with (
        aiohttp.ClientSession(headers={"Authorization": token}) as s,
        s.request(method, emu.api_url + path.lstrip("/"), params=params, json=json) as r,
    ):
        body = await r.json(content_type=None) if r.status != 204 else None
        return r.status, body
