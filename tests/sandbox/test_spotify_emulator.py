"""The Spotify emulator, driven through the real spotipy 2.26 client (as the bot builds it)."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
import requests
import spotipy
import yaml
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.exceptions import SpotifyException, SpotifyOauthError
from spotipy.oauth2 import SpotifyClientCredentials, SpotifyOAuth

from sandbox.spotify import SpotifyControl, SpotifyControlError, SpotifyEmulator
from sandbox.spotify.catalog import Catalog

TODAY = dt.date(2026, 11, 20)
CLIENT_ID, CLIENT_SECRET = "sandbox-client", "sandbox-secret"
REDIRECT = "http://127.0.0.1:8765/callback"
SCOPES = (
    "user-read-private playlist-read-private playlist-read-collaborative user-library-read "
    "user-library-modify user-modify-playback-state user-read-currently-playing"
)


def _find_spec() -> Path | None:
    """Spotify's spec: in `shared/` beside the clone (as CI and developers have it)."""
    for parent in Path(__file__).resolve().parents:
        for candidate in (parent / "shared" / "specs", parent / "specs"):
            if (candidate / "spotify" / "openapi.yml").is_file():
                return candidate / "spotify" / "openapi.yml"
    fallback = Path("/work/shared/specs/spotify/openapi.yml")
    return fallback if fallback.is_file() else None


SPEC = _find_spec()


@pytest.fixture
async def emu() -> AsyncIterator[SpotifyEmulator]:
    e = SpotifyEmulator(today=TODAY)
    await e.start()
    yield e
    await e.stop()


@pytest.fixture
async def ctl(emu: SpotifyEmulator) -> AsyncIterator[SpotifyControl]:
    async with SpotifyControl(emu.base_url or "") as c:
        yield c


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


def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return asyncio.to_thread(fn, *args, **kwargs)


async def raises(fn: Any, *args: Any, **kwargs: Any) -> SpotifyException:
    with pytest.raises(SpotifyException) as info:
        await call(fn, *args, **kwargs)
    return info.value


# ---------------------------------------------------------------------------- OAuth


async def test_authorization_code_flow(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    oauth = make_oauth(emu)
    url = oauth.get_authorize_url(state="s3cret")
    location = await ctl.authorize(url, "alice")
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT
    q = parse_qs(parts.query)
    assert q["state"] == ["s3cret"] and q["code"][0]
    await call(oauth.get_access_token, q["code"][0], as_dict=False, check_cache=False)
    token = oauth.cache_handler.get_cached_token()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600
    assert token["refresh_token"]
    sp = make_sp(emu, oauth)
    me = await call(sp.me)
    assert me["id"] == "alice" and me["account_id"] and me["display_name"] == "Alice"
    assert "product" not in me and "country" not in me and "email" not in me

    # the code is single-use
    with pytest.raises(SpotifyOauthError) as info:
        await call(make_oauth(emu).get_access_token, q["code"][0], as_dict=False, check_cache=False)
    assert info.value.error == "invalid_grant"
    assert info.value.error_description == "Invalid authorization code"

    # bound to the redirect_uri
    loc2 = await ctl.authorize(url, "alice")
    other = make_oauth(emu, redirect="http://127.0.0.1:9999/callback")
    with pytest.raises(SpotifyOauthError) as info:
        await call(
            other.get_access_token,
            oauth.parse_response_code(loc2),
            as_dict=False,
            check_cache=False,
        )
    assert info.value.error == "invalid_grant"

    # denial
    denied = await ctl.authorize(url, "alice", deny=True)
    assert parse_qs(urlsplit(denied).query) == {"error": ["access_denied"], "state": ["s3cret"]}

    # the request log saw it all
    log = await ctl.requests(path="^/api/token$")
    assert [e["grant_type"] for e in log] == ["authorization_code"] * 3
    assert [e["status"] for e in log] == [200, 400, 400]
    assert log[0]["user"] == "alice"


async def test_authorize_page_and_redirect_rules(emu: SpotifyEmulator) -> None:
    async with aiohttp.ClientSession() as s:
        url = make_oauth(emu).get_authorize_url(state="x")
        async with s.get(url, allow_redirects=False) as r:
            page = await r.text()
            assert r.status == 200 and "sandbox_user=alice" in page and "p237" in page
        for bad in ("http://localhost:8765/callback", "http://example.com/callback"):
            async with s.get(
                make_oauth(emu, redirect=bad).get_authorize_url(), allow_redirects=False
            ) as r:
                assert r.status == 400
        async with s.get(
            make_oauth(emu, redirect="https://bot.example.org/spotify/cb").get_authorize_url()
            + "&sandbox_user=bob",
            allow_redirects=False,
        ) as r:
            assert r.status == 302
            assert r.headers["Location"].startswith("https://bot.example.org/spotify/cb?code=")
        async with s.get(
            url.replace(CLIENT_ID, "someone-else") + "&sandbox_user=bob", allow_redirects=False
        ) as r:
            assert r.status == 400
        # a bad client secret on the token endpoint
        async with s.post(
            emu.accounts_url + "api/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": aiohttp.encode_basic_auth(CLIENT_ID, "wrong")},
        ) as r:
            assert r.status == 400 and (await r.json())["error"] == "invalid_client"
        # client authentication in the form body works too
        async with s.post(
            emu.accounts_url + "api/token",
            data={
                "grant_type": "client_credentials",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            },
        ) as r:
            assert r.status == 200 and "refresh_token" not in await r.json()


async def test_allowed_redirect_uris_setting(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    await ctl.settings(allowed_redirect_uris=[REDIRECT])
    assert (await ctl.authorize(make_oauth(emu).get_authorize_url(), "bob")).startswith(REDIRECT)
    other = make_oauth(emu, redirect="http://127.0.0.1:1234/callback").get_authorize_url()
    with pytest.raises(SpotifyControlError) as info:
        await ctl.authorize(other, "bob")
    assert info.value.status == 400


async def test_expired_access_token_is_401(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    _, sp, _ = await login(emu, ctl, "alice")
    assert (await call(sp.me))["id"] == "alice"
    assert await ctl.expire_tokens("alice") >= 1
    err = await raises(sp.me)
    assert err.http_status == 401 and "The access token expired" in err.msg
    bogus = make_sp(emu, None)
    bogus.set_auth("not-a-token")
    err = await raises(bogus.me)
    assert err.http_status == 401 and "Invalid access token" in err.msg


async def test_access_token_lifetime_setting(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    await ctl.settings(access_token_lifetime=1)
    _, sp, token = await login(emu, ctl, "alice")
    assert token["expires_in"] == 1
    sp.auth_manager = None
    sp.set_auth(token["access_token"])
    await asyncio.sleep(1.1)
    err = await raises(sp.me)
    assert err.http_status == 401 and "expired" in err.msg


async def raw_refresh(emu: SpotifyEmulator, rt: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as s,
        s.post(
            emu.accounts_url + "api/token",
            data={"grant_type": "refresh_token", "refresh_token": rt},
            headers={"Authorization": aiohttp.encode_basic_auth(CLIENT_ID, CLIENT_SECRET)},
        ) as r,
    ):
        return await r.json()


async def test_refresh_with_and_without_new_refresh_token(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    oauth, _, token = await login(emu, ctl, "alice")
    rt = token["refresh_token"]
    await ctl.settings(rotate_refresh_tokens="always")
    t1 = await call(oauth.refresh_access_token, rt)
    assert t1["refresh_token"] != rt and t1["access_token"] != token["access_token"]
    await ctl.settings(rotate_refresh_tokens="never")
    raw = await raw_refresh(emu, rt)
    assert "refresh_token" not in raw and raw["scope"] == SCOPES
    t2 = await call(oauth.refresh_access_token, rt)  # spotipy keeps the old one
    assert t2["refresh_token"] == rt
    # the new access token works, old refresh tokens stay valid
    sp = make_sp(emu, None)
    sp.set_auth(t2["access_token"])
    assert (await call(sp.me))["id"] == "alice"
    await call(oauth.refresh_access_token, t1["refresh_token"])
    await ctl.settings(rotate_refresh_tokens="alternate")
    got = ["refresh_token" in await raw_refresh(emu, rt) for _ in range(4)]
    assert sorted(got) == [False, False, True, True]


async def test_refresh_after_expiry_through_spotipy(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    await ctl.settings(access_token_lifetime=30)  # below spotipy's 60 s margin: always refreshes
    _, sp, _ = await login(emu, ctl, "alice")
    assert (await call(sp.me))["id"] == "alice"
    log = await ctl.requests(path="^/api/token$")
    kinds = [e["grant_type"] for e in log]
    assert kinds[0] == "authorization_code" and set(kinds[1:]) == {"refresh_token"}


@pytest.mark.parametrize("how", ["revoke", "age"])
async def test_invalid_grant_after_revoke_or_six_months(
    emu: SpotifyEmulator, ctl: SpotifyControl, how: str
) -> None:
    oauth, _, token = await login(emu, ctl, "alice")
    await call(oauth.refresh_access_token, token["refresh_token"])
    if how == "revoke":
        assert await ctl.revoke_tokens("alice") >= 1
    else:
        await ctl.age_authorization("alice", 150)
        await call(oauth.refresh_access_token, token["refresh_token"])  # still fine at 5 months
        await ctl.age_authorization("alice", 40)
    with pytest.raises(SpotifyOauthError) as info:
        await call(oauth.refresh_access_token, token["refresh_token"])
    assert info.value.error == "invalid_grant"
    assert info.value.error_description == "Refresh token revoked"


async def test_outsider_gets_403_everywhere(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    _, sp, _ = await login(emu, ctl, "outsider")
    for fn in (sp.me, sp.current_user_playlists, sp.current_user_saved_tracks):
        err = await raises(fn)
        assert err.http_status == 403


# ---------------------------------------------------------------------------- playlists


@pytest.mark.parametrize("n", [0, 1, 49, 50, 51])
async def test_paging_my_playlists(emu: SpotifyEmulator, ctl: SpotifyControl, n: int) -> None:
    _, sp, _ = await login(emu, ctl, f"p{n}")
    page = await call(sp.current_user_playlists, limit=50)
    pages, seen = 1, list(page["items"])
    assert page["total"] == n
    while page["next"]:
        assert page["next"].startswith(emu.api_url + "me/playlists?")
        page = await call(sp.next, page)
        pages += 1
        seen.extend(page["items"])
    assert pages == max(1, math.ceil(n / 50))
    assert len(seen) == n == len({p["id"] for p in seen})
    for p in seen:
        assert p["owner"]["id"] == f"p{n}" and p["snapshot_id"]
        assert p["items"]["total"] == p["tracks"]["total"]


async def test_playlist_items_rules_and_big_playlist(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    _, sp, _ = await login(emu, ctl, "alice")
    pls = await call(sp.current_user_playlists)
    assert pls["total"] == 12
    by_name = {p["name"]: p for p in pls["items"]}
    # not owned, not a collaborator -> 403
    err = await raises(sp.playlist_items, by_name["Dave's Picks"]["id"])
    assert err.http_status == 403
    # collaborator on someone else's playlist -> allowed
    shared = await call(sp.playlist_items, by_name["Shared with Carol"]["id"])
    assert shared["total"] == 120 and shared["items"][0]["item"]["uri"].startswith("spotify:track:")
    assert set(shared["items"][0]) >= {"added_at", "added_by", "is_local", "item"}
    assert by_name["Road Trip"]["collaborative"] is True
    # 10,000 tracks, generated lazily, skewed artist spread
    big = by_name["Ten Thousand"]
    assert big["items"]["total"] == 10_000
    last = await call(sp.playlist_items, big["id"], offset=9_950)
    assert len(last["items"]) == 50 and last["next"] is None
    err = await raises(sp.playlist_items, big["id"], limit=51)
    assert err.http_status == 400 and "Invalid limit" in err.msg
    # Fifty / Fifty-One: one page vs two
    p50 = await call(sp.playlist_items, by_name["Fifty"]["id"])
    p51 = await call(sp.playlist_items, by_name["Fifty-One"]["id"])
    assert p50["next"] is None and p51["next"] and len((await call(sp.next, p51))["items"]) == 1
    empty = await call(sp.playlist_items, by_name["Empty"]["id"])
    assert empty["total"] == 0 and empty["items"] == []


async def test_snapshot_changes_when_modified(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    _, sp, _ = await login(emu, ctl, "alice")
    created = await ctl.create_playlist("alice", "Fresh", tracks=3)
    before = await call(sp.playlist, created["id"])
    assert before["snapshot_id"] == created["snapshot_id"] and before["items"]["total"] == 3
    after_ctl = await ctl.add_tracks(created["id"], 2)
    after = await call(sp.playlist, created["id"])
    assert after["snapshot_id"] != before["snapshot_id"] == created["snapshot_id"]
    assert after["snapshot_id"] == after_ctl["snapshot_id"] and after["items"]["total"] == 5
    first = await call(sp.current_user_playlists, limit=50)
    assert created["id"] in {p["id"] for p in first["items"]}


async def test_limit_over_cap_is_400(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    _, sp, _ = await login(emu, ctl, "alice")
    err = await raises(sp.current_user_playlists, limit=51)
    assert err.http_status == 400 and "Invalid limit" in err.msg
    err = await raises(sp.search, "heart", limit=11)
    assert err.http_status == 400
    err = await raises(sp.current_user_saved_tracks, limit=51)
    assert err.http_status == 400


# ---------------------------------------------------------------------------- catalogue


async def test_client_credentials_search_and_lookups(emu: SpotifyEmulator) -> None:
    sp = app_sp(emu)
    res = await call(sp.search, "heart", limit=10, type="track,album,artist")
    tracks = res["tracks"]
    assert 0 < len(tracks["items"]) <= 10 and tracks["total"] > 10
    assert all(
        "heart" in t["name"].lower() or any("heart" in a["name"].lower() for a in t["artists"])
        for t in tracks["items"]
    )
    nxt = await call(sp.next, tracks)
    assert nxt["tracks"]["offset"] == 10
    default = await call(sp._get, "search", q="heart", type="track")
    assert default["tracks"]["limit"] == 5
    err = await raises(sp.search, "heart", offset=1001)
    assert err.http_status == 400

    t = tracks["items"][0]
    assert (await call(sp.track, t["id"]))["id"] == t["id"]
    album = await call(sp.album, t["album"]["id"])
    assert album["total_tracks"] == len(album["tracks"]["items"])
    artist = await call(sp.artist, t["artists"][0]["id"])
    assert artist["name"] == t["artists"][0]["name"]
    albums = await call(sp.artist_albums, artist["id"], include_groups="album,single", limit=10)
    assert albums["items"] and {a["album_group"] for a in albums["items"]} <= {"album", "single"}
    err = await raises(sp.artist_albums, artist["id"], limit=20)
    assert err.http_status == 400
    err = await raises(sp.tracks, [t["id"]])
    assert err.http_status in (403, 404)
    err = await raises(sp.track, "0" * 22)
    assert err.http_status == 404
    # user-only endpoints refuse an app token
    err = await raises(sp.me)
    assert err.http_status == 401


async def test_tag_new_and_new_releases(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    sp = app_sp(emu)
    res = await call(sp.search, "tag:new", type="album", limit=10)
    albums = res["albums"]
    assert albums["total"] > 100 and len(albums["items"]) == 10
    dates = [a["release_date"] for a in albums["items"]]
    assert dates == sorted(dates, reverse=True)
    cutoff = (TODAY - dt.timedelta(days=14)).isoformat()
    page, n = albums, 0
    while page and n < 5:
        for a in page["items"]:
            assert a["release_date"][:10] >= cutoff[: len(a["release_date"])]
        page = (await call(sp.next, page))["albums"] if page["next"] else None
        n += 1

    nr = await call(sp.new_releases, limit=50)
    assert len(nr["albums"]["items"]) == 50
    await ctl.settings(new_releases_available=False)
    err = await raises(sp.new_releases)
    assert err.http_status == 403
    err = await raises(sp.new_releases, limit=51)
    assert err.http_status == 403


async def test_catalogue_is_deterministic_and_fast() -> None:
    start = time.perf_counter()
    a = Catalog(2026, TODAY)
    assert time.perf_counter() - start < 2.0  # target < 1 s; slack for loaded CI machines
    b = Catalog(2026, TODAY)
    c = Catalog(7, TODAY)
    assert a.track_ids[:50] == b.track_ids[:50] and a.track_ids[:50] != c.track_ids[:50]
    assert [x.name for x in a.artists[:20]] == [x.name for x in b.artists[:20]]
    assert all(len(i) == 22 and i.isalnum() for i in a.track_ids[:1000])
    assert len(a.artists) >= 3000 and len(a.albums) >= 6000
    pl = next(p for p in a.playlists.values() if p.total == 10_000)
    counts: dict[int, int] = {}
    for t, _, _ in a.entries(pl):
        art = a.albums[a.track_album[t]].artist
        counts[art] = counts.get(art, 0) + 1
    ranked = sorted(counts.values(), reverse=True)
    assert ranked[0] > 500 and sum(1 for v in ranked if v == 1) > 100
    assert a.entries(pl) == b.entries(next(p for p in b.playlists.values() if p.total == 10_000))


# ---------------------------------------------------------------------------- library & player


async def test_library_put_delete_get(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    _, sp, _ = await login(emu, ctl, "alice")
    saved = await call(sp.current_user_saved_tracks, limit=50)
    assert saved["total"] == 300 and "track" in saved["items"][0]
    cat = await ctl.catalog()
    new = [t for t in cat["sample_tracks"] if t not in await ctl.library("alice")][:2]
    await call(sp.current_user_saved_tracks_add, new)
    saved = await call(sp.current_user_saved_tracks, limit=2)
    assert saved["total"] == 302 and {i["track"]["id"] for i in saved["items"]} == set(new)
    assert set(new) <= set(await ctl.library("alice"))
    await call(sp.current_user_saved_tracks_delete, new[:1])
    assert new[0] not in await ctl.library("alice")
    err = await raises(sp.current_user_saved_tracks_add, cat["sample_tracks"][:1] * 41)
    assert err.http_status == 400
    # paging the big library
    _, sp2, _ = await login(emu, ctl, "likes2000")
    page = await call(sp2.current_user_saved_tracks, limit=50)
    pages = 1
    while page["next"]:
        page = await call(sp2.next, page)
        pages += 1
    assert pages == 40
    # scope is enforced
    _, sp3, _ = await login(emu, ctl, "alice", scope="user-read-private")
    err = await raises(sp3.current_user_saved_tracks_add, new)
    assert err.http_status == 403 and "Insufficient client scope" in err.msg


async def test_queue_premium_and_device(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    track = (await ctl.catalog())["sample_tracks"][3]
    _, alice, _ = await login(emu, ctl, "alice")
    assert await call(alice.add_to_queue, f"spotify:track:{track}") is None
    assert await ctl.queue("alice") == [f"spotify:track:{track}"]
    _, bob, _ = await login(emu, ctl, "bob")
    err = await raises(bob.add_to_queue, track)
    assert err.http_status == 403 and err.reason == "PREMIUM_REQUIRED"
    _, carol, _ = await login(emu, ctl, "carol")  # Premium, no active device
    err = await raises(carol.add_to_queue, track)
    assert err.http_status == 404 and err.reason == "NO_ACTIVE_DEVICE"
    await ctl.update_user("carol", active_device=True)
    await call(carol.add_to_queue, track)
    assert await ctl.queue("carol") == [f"spotify:track:{track}"]


async def test_currently_playing(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    _, alice, _ = await login(emu, ctl, "alice")
    now = await call(alice.current_user_playing_track)
    assert now["is_playing"] and now["item"]["type"] == "track"
    _, bob, _ = await login(emu, ctl, "bob")
    assert await call(bob.current_user_playing_track) is None
    log = await ctl.requests(path="currently-playing", user="bob")
    assert [e["status"] for e in log] == [204]
    await ctl.update_user("alice", playing=None)
    assert await call(alice.current_user_playing_track) is None


# ---------------------------------------------------------------------------- faults & control


async def test_429_fault_fails_fast_with_retry_after(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    sp = app_sp(emu)
    await ctl.add_fault(
        r"^/v1/search$", status=429, retry_after=3600, reason="QUOTA_EXCEEDED", times=1
    )
    start = time.perf_counter()
    err = await raises(sp.search, "heart")
    assert time.perf_counter() - start < 2
    assert err.http_status == 429 and err.headers["Retry-After"] == "3600"
    assert err.reason == "QUOTA_EXCEEDED"
    assert (await call(sp.search, "heart"))["tracks"]["items"]  # times=1: gone now
    await ctl.add_fault("/v1/albums/", status=429, retry_after=7)
    err = await raises(sp.album, (await ctl.catalog())["sample_albums"][0])
    assert err.headers["Retry-After"] == "7" and err.reason is None
    await ctl.add_fault("^/v1/artists/", method="GET", status=503)
    err = await raises(sp.artist, (await ctl.catalog())["sample_artists"][0])
    assert err.http_status == 503
    await ctl.clear_faults()
    await ctl.add_fault("/api/token", status=503, grant_type="refresh_token", times=1)
    oauth, _, token = await login(emu, ctl, "alice")  # authorization_code is unaffected
    with pytest.raises(SpotifyOauthError) as info:
        await call(oauth.refresh_access_token, token["refresh_token"])
    assert info.value.error == "server_error"
    await call(oauth.refresh_access_token, token["refresh_token"])
    await ctl.add_fault("^/v1/me/?$", delay=0.3, times=1)
    start = time.perf_counter()
    await call(make_sp(emu, oauth).me)
    assert time.perf_counter() - start >= 0.3


async def test_control_users_and_reset(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    cat = await ctl.catalog()
    assert {"alice", "bob", "p0", "p237", "likes2000", "outsider"} <= set(cat["preset_users"])
    assert cat["users"]["p237"]["playlist_count"] == 237
    u = await ctl.create_user("zed", premium=False, playlists=3, liked=5)
    assert u["playlists"] == 3 and u["liked"] == 5
    _, sp, _ = await login(emu, ctl, "zed")
    assert (await call(sp.current_user_playlists))["total"] == 3
    assert (await call(sp.current_user_saved_tracks))["total"] == 5
    await ctl.update_user("zed", allowlisted=False)
    assert (await raises(sp.me)).http_status == 403
    seq = (await ctl.requests())[-1]["seq"]
    await call(app_sp(emu).search, "moon")
    since = await ctl.requests(since=seq)
    assert [e["path"] for e in since] == ["/api/token", "/v1/search"]
    assert since[1]["user"] == "app" and since[0]["grant_type"] == "client_credentials"
    await ctl.reset()
    assert "zed" not in {x["id"] for x in await ctl.users()}
    assert await ctl.requests() == []
    assert (await raises(sp.me)).http_status == 401  # tokens forgotten


# ---------------------------------------------------------------------------- schema


class SchemaChecker:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def response_schema(
        self, path: str, method: str = "get", status: str = "200"
    ) -> dict[str, Any]:
        resp = self.resolve(self.spec["paths"][path][method]["responses"][status])
        return resp["content"]["application/json"]["schema"]

    def check(self, value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
        schema = self.resolve(schema)
        errors: list[str] = []
        if value is None:
            if schema.get("nullable") or not schema:
                return []
            # lenient: Spotify itself sends null for many fields the spec does not mark nullable
            return []
        for sub in schema.get("allOf", []):
            errors += self.check(value, sub, where)
        if "oneOf" in schema:
            opts = [self.check(value, s, where) for s in schema["oneOf"]]
            if all(opts):
                errors += min(opts, key=len)
        typ = schema.get("type")
        checks = {
            "object": lambda v: isinstance(v, dict),
            "array": lambda v: isinstance(v, list),
            "string": lambda v: isinstance(v, str),
            "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "boolean": lambda v: isinstance(v, bool),
        }
        if typ in checks and not checks[typ](value):
            return [*errors, f"{where}: expected {typ}, got {type(value).__name__}"]
        if "enum" in schema and isinstance(value, str) and value not in schema["enum"]:
            errors.append(f"{where}: {value!r} not in {schema['enum']}")
        if isinstance(value, dict):
            for req in schema.get("required", []):
                if req not in value:
                    errors.append(f"{where}: missing required {req!r}")
            for key, sub in schema.get("properties", {}).items():
                if key in value:
                    errors += self.check(value[key], sub, f"{where}.{key}")
        if isinstance(value, list) and "items" in schema:
            for i, item in enumerate(value[:5]):
                errors += self.check(item, schema["items"], f"{where}[{i}]")
        return errors


async def test_responses_match_openapi_schemas(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    if SPEC is None:
        pytest.skip(
            "Spotify's OpenAPI spec (shared/specs/spotify/openapi.yml) is not beside the clone"
        )
    spec = yaml.safe_load(SPEC.read_text())
    checker = SchemaChecker(spec)
    _, sp, _ = await login(emu, ctl, "alice")
    app = app_sp(emu)
    pls = await call(sp.current_user_playlists)
    own = next(p for p in pls["items"] if p["name"] == "Workout")
    followed = next(p for p in pls["items"] if p["name"] == "Dave's Picks")
    cat = await ctl.catalog()
    track = (await call(app.search, "heart", type="track"))["tracks"]["items"][0]
    cases: list[tuple[str, Any]] = [
        ("/me", await call(sp.me)),
        ("/me/playlists", pls),
        ("/users/{user_id}/playlists", await call(sp.user_playlists, "carol")),
        ("/playlists/{playlist_id}", await call(sp.playlist, own["id"])),
        ("/playlists/{playlist_id}", await call(sp.playlist, followed["id"])),
        ("/playlists/{playlist_id}/items", await call(sp.playlist_items, own["id"])),
        ("/search", await call(app.search, "heart", type="track,album,artist")),
        ("/search", await call(app.search, "tag:new", type="album")),
        ("/me/tracks", await call(sp.current_user_saved_tracks)),
        ("/me/player/currently-playing", await call(sp.current_user_playing_track)),
        ("/browse/new-releases", await call(app.new_releases)),
        (
            "/artists/{id}/albums",
            await call(
                app.artist_albums, cat["sample_artists"][0], include_groups="album,single", limit=10
            ),
        ),
        ("/albums/{id}", await call(app.album, track["album"]["id"])),
        ("/artists/{id}", await call(app.artist, track["artists"][0]["id"])),
        ("/tracks/{id}", await call(app.track, track["id"])),
    ]
    problems: dict[str, list[str]] = {}
    for path, body in cases:
        errs = checker.check(body, checker.response_schema(path))
        if errs:
            problems[path] = errs[:10]
    assert not problems, problems
    # error bodies follow the ErrorObject shape too
    err_schema = checker.response_schema("/me", status="401")
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer nope"}) as s:
        async with s.get(emu.api_url + "me") as r:
            assert r.status == 401 and not checker.check(await r.json(), err_schema)
        sp.auth_manager = None
        sp.set_auth("nope")
        err = await raises(sp.current_user_playlists, limit=99)
        assert err.http_status == 401
