"""The release radar's endpoints as the spec has them: open (none deprecated), scoped, capped,
and refused the way Spotify refuses (its error shape, `Retry-After`, `QUOTA_EXCEEDED`)."""

from __future__ import annotations

from typing import Any

from sandbox.spotify import SpotifyControl, SpotifyEmulator

from .clients import app_sp, call, raises, raw, user_sp

RADAR = {
    ("/me/following", "get"),
    ("/me/top/{type}", "get"),
    ("/artists/{id}/albums", "get"),
    ("/me/playlists", "post"),
    ("/playlists/{playlist_id}/items", "put"),
}


def test_every_endpoint_the_radar_uses_is_open_in_the_spec(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    for path, method in RADAR:
        if path == "/me/top/{type}" and path not in paths:
            path = next(p for p in paths if p.startswith("/me/top/"))
        operation = paths[path][method]
        assert not operation.get("deprecated"), f"{method.upper()} {path} is deprecated"
    assert paths["/me/following"]["put"].get("deprecated")  # following for a user is gone


async def test_user_endpoints_refuse_the_app_token_and_a_missing_scope(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    app = app_sp(emu)
    for path in ("me/following?type=artist", "me/top/artists"):
        status, body = await raw(emu, app, "GET", path)
        assert status == 401 and body["error"]["message"] == "Valid user authentication required"
    reader = await user_sp(emu, ctl, "alice", scope="user-read-private playlist-read-private")
    for fn in (reader.current_user_followed_artists, reader.current_user_top_artists):
        err = await raises(fn)
        assert err.http_status == 403 and err.msg.endswith("Insufficient client scope")
    err = await raises(reader.current_user_playlist_create, "Encore Radar", public=False)
    assert err.http_status == 403


async def test_caps_and_time_ranges_are_checked(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    sp = await user_sp(emu, ctl, "alice")
    assert (await raises(sp.current_user_followed_artists, limit=51)).http_status == 400
    assert (await raises(sp.current_user_top_artists, time_range="forever")).http_status == 400
    for time_range in ("short_term", "medium_term", "long_term"):
        page = await call(sp.current_user_top_artists, limit=50, time_range=time_range)
        assert len(page["items"]) == 50
    artist = (await ctl.catalog())["sample_artists"][0]
    status, body = await raw(
        emu, app_sp(emu), "GET", f"artists/{artist}/albums", params={"limit": 11}
    )
    assert status == 400 and body == {"error": {"status": 400, "message": "Invalid limit"}}


async def test_a_quota_fault_answers_429_with_retry_after_and_the_reason(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    artist = (await ctl.catalog())["sample_artists"][0]
    await ctl.add_fault(
        r"^/v1/artists/[^/]+/albums$", status=429, retry_after=120, reason="QUOTA_EXCEEDED", times=1
    )
    err = await raises(app_sp(emu).artist_albums, artist, limit=10)
    assert err.http_status == 429 and err.reason == "QUOTA_EXCEEDED"
    assert err.headers["Retry-After"] == "120"
    page = await call(app_sp(emu).artist_albums, artist, limit=10)  # one time only
    assert len(page["items"]) == 10
