"""The control API: faults, users, settings, the request log, resets, and the defaults."""

from __future__ import annotations

import time

import pytest
from spotipy.oauth2 import SpotifyOauthError

from sandbox.spotify import SpotifyControl, SpotifyControlError, SpotifyEmulator
from sandbox.spotify.emulator import defaults

from .clients import app_sp, call, login, make_sp, raises, user_sp


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


async def test_a_raw_body_fault_answers_html_or_garbage_as_it_is(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    _, sp, _ = await login(emu, ctl, "alice")
    await ctl.add_fault("^/v1/me/?$", status=200, body="<html>Just a moment...</html>", times=1)
    assert await call(sp.me) is None  # spotipy reads a 200 that is not JSON as nothing
    await ctl.add_fault(
        "^/v1/me/?$", status=200, body='{"id": 7}', content_type="application/json", times=1
    )
    assert await call(sp.me) == {"id": 7}
    await ctl.add_fault("^/v1/me/?$", status=502, body="<html>Bad gateway</html>", times=1)
    err = await raises(sp.me)
    assert err.http_status == 502
    assert (await call(sp.me))["id"] == "alice"


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


async def test_the_request_log_counts_calls_per_endpoint_and_user(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    alice = await user_sp(emu, ctl, "alice")
    app = app_sp(emu)
    artists = (await ctl.catalog())["sample_artists"]
    await ctl.clear_requests()
    for artist in artists[:3]:
        await call(app.artist_albums, artist, include_groups="single", limit=10)
    await call(alice.current_user_followed_artists, limit=50)
    await call(alice.current_user_top_artists, time_range="short_term")
    log = await ctl.requests(path="^/v1/")
    assert [e["endpoint"] for e in log[:3]] == ["/v1/artists/{id}/albums"] * 3
    assert log[0]["query"] == {"include_groups": "single", "limit": "10", "offset": "0"}
    assert [e["user"] for e in log] == ["app"] * 3 + ["alice"] * 2
    counts = await ctl.request_counts(path="^/v1/")
    assert counts == {
        "GET /v1/artists/{id}/albums": 3,
        "GET /v1/me/following": 1,
        "GET /v1/me/top/artists": 1,
    }
    assert await ctl.request_counts(user="alice") == {
        "GET /v1/me/following": 1,
        "GET /v1/me/top/artists": 1,
    }


async def test_created_users_can_follow_rank_and_play(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    created = await ctl.create_user("fan", following=150, top=20, recently_played=30)
    assert created["following"] == 150 and created["recently_played"] == 30
    sp = await user_sp(emu, ctl, "fan")
    assert (await call(sp.current_user_followed_artists))["artists"]["total"] == 150
    assert (await call(sp.current_user_top_tracks, time_range="long_term"))["total"] == 20
    assert len((await call(sp.current_user_recently_played, limit=50))["items"]) == 30
    again = await ctl.followed_artists("fan")
    await ctl.reset()
    await ctl.create_user("fan", following=150)
    assert await ctl.followed_artists("fan") == again  # deterministic from the seed
    with pytest.raises(SpotifyControlError) as info:
        await ctl.create_user("fan")
    assert info.value.status == 409
    with pytest.raises(SpotifyControlError) as info:
        await ctl.set_followed_artists("fan", ["0" * 22])
    assert info.value.status == 404


async def test_settings_are_checked(ctl: SpotifyControl) -> None:
    for bad in ({"rotate_refresh_tokens": "sometimes"}, {"nope": 1}, {"search_window": "big"}):
        with pytest.raises(SpotifyControlError) as info:
            await ctl.settings(**bad)
        assert info.value.status == 400
    now = await ctl.settings(development_mode=False, search_window="spec")
    assert now["development_mode"] is False and now["new_releases_available"] is True
    await ctl.reset()
    assert (await ctl.settings())["development_mode"] is True  # back to the emulator's option


def test_the_defaults_and_their_environment_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SANDBOX_SPOTIFY", raising=False)
    plain = defaults()
    assert set(plain) == {"catalogue", "development_mode", "search_window"}
    monkeypatch.setenv("SANDBOX_SPOTIFY", "strict")
    assert defaults() == {
        "catalogue": "messy",
        "development_mode": True,
        "search_window": "spotify",
    }
    monkeypatch.setenv("SANDBOX_SPOTIFY", "catalogue=tidy, development_mode=false")
    assert defaults()["catalogue"] == "tidy" and defaults()["development_mode"] is False
    assert defaults()["search_window"] == plain["search_window"]
    monkeypatch.setenv("SANDBOX_SPOTIFY", "colour=blue")
    with pytest.raises(ValueError, match="SANDBOX_SPOTIFY"):
        defaults()
    monkeypatch.setenv("SANDBOX_SPOTIFY", "strict")
    emu = SpotifyEmulator(catalogue="tidy")  # an explicit option beats the environment
    assert emu.catalog.profile == "tidy" and emu.settings.development_mode is True
