"""Every answer is shaped as Spotify's OpenAPI spec says, and no endpoint the spec marks
deprecated answers anything but a refusal."""

from __future__ import annotations

from typing import Any

import aiohttp

from sandbox.spotify import SpotifyControl, SpotifyEmulator
from sandbox.spotify.routes import removed

from .clients import app_sp, call, raw, user_sp
from .openapi import SchemaChecker, template

# Deprecated in the spec, refused in development mode, served to extended-quota apps.
DEVELOPMENT_MODE_ONLY = {
    ("GET", "/browse/new-releases"),
    ("GET", "/users/{}"),
    ("GET", "/users/{}/playlists"),
    ("POST", "/users/{}/playlists"),
}


def served_routes(emu: SpotifyEmulator) -> list[tuple[str, str, Any]]:
    found = []
    for route in emu.app.router.routes():
        resource = route.resource
        if resource is None or route.method == "HEAD":
            continue
        path = resource.canonical
        if path.startswith("/v1/"):
            found.append((route.method, path, route.handler))
    return found


async def test_no_deprecated_endpoint_is_served(
    emu: SpotifyEmulator, checker: SchemaChecker
) -> None:
    served = served_routes(emu)
    assert len(served) > 60
    for method, path, handler in served:
        op = checker.operation(path.rstrip("/"), method)
        key = (method, template(path.rstrip("/")))
        if handler is removed.removed:
            assert op is None or op.get("deprecated"), f"{method} {path} refused but not deprecated"
        elif key in DEVELOPMENT_MODE_ONLY:
            assert op is not None and op.get("deprecated"), key
        else:
            assert op is not None, f"{method} {path} is not in Spotify's spec"
            assert not op.get("deprecated"), f"{method} {path} is deprecated in the spec"


async def test_development_mode_refuses_what_the_spec_deprecates(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    sp = await user_sp(emu, ctl, "alice")
    for method, path in sorted(DEVELOPMENT_MODE_ONLY):
        status, body = await raw(emu, sp, method, path.replace("{}", "alice"), json={"name": "x"})
        assert status == 403 and body["error"]["status"] == 403, (method, path)


async def test_responses_match_openapi_schemas(
    emu: SpotifyEmulator, ctl: SpotifyControl, checker: SchemaChecker
) -> None:
    alice = await user_sp(emu, ctl, "alice")
    messy = await user_sp(emu, ctl, "messy")
    app = app_sp(emu)
    catalog = await ctl.catalog()
    pls = await call(alice.current_user_playlists)
    by_name = {p["name"]: p for p in pls["items"]}
    odd = next(p for p in await ctl.user_playlists("messy") if p["name"] == "Everything Odd")
    track = (await call(app.search, "heart", type="track"))["tracks"]["items"][0]
    artist = catalog["sample_artists"][1]
    made = await call(alice.current_user_playlist_create, "Spec", public=False)
    uris = (await ctl.playlist(by_name["Fifty"]["id"]))["items"][:3]
    added = await raw(emu, alice, "POST", f"playlists/{made['id']}/items", json={"uris": uris})
    replaced = await raw(emu, alice, "PUT", f"playlists/{made['id']}/items", json={"uris": uris})
    removed_items = await raw(
        emu, alice, "DELETE", f"playlists/{made['id']}/items", json={"items": [{"uri": uris[0]}]}
    )
    assert added[0] == 201 and replaced[0] == 200 and removed_items[0] == 200
    podcast = await user_sp(emu, ctl, "podcast")
    ads = await user_sp(emu, ctl, "ads")
    incognito = await user_sp(emu, ctl, "incognito")
    cases: list[tuple[str, str, str, Any]] = [
        ("get", "/me", "200", await call(alice.me)),
        ("get", "/me/playlists", "200", pls),
        ("get", "/me/playlists", "200", await call(messy.current_user_playlists, limit=50)),
        ("get", "/playlists/{playlist_id}", "200", await call(alice.playlist, by_name["Workout"]["id"])),
        ("get", "/playlists/{playlist_id}", "200", await call(alice.playlist, by_name["Dave's Picks"]["id"])),
        ("get", "/playlists/{playlist_id}", "200", await call(messy.playlist, odd["id"])),
        ("get", "/playlists/{playlist_id}/items", "200", await call(messy.playlist_items, odd["id"])),
        ("get", "/playlists/{playlist_id}/items", "200", await call(alice.playlist_items, by_name["Workout"]["id"], offset=150)),
        ("post", "/me/playlists", "201", made),
        ("post", "/playlists/{playlist_id}/items", "201", added[1]),
        ("put", "/playlists/{playlist_id}/items", "200", replaced[1]),
        ("delete", "/playlists/{playlist_id}/items", "200", removed_items[1]),
        ("get", "/search", "200", await call(app.search, "heart", type="track,album,artist")),
        ("get", "/search", "200", await call(app.search, "tag:new", type="album")),
        ("get", "/me/tracks", "200", await call(alice.current_user_saved_tracks)),
        ("get", "/me/player/currently-playing", "200", await call(alice.currently_playing)),
        ("get", "/me/player/currently-playing", "200", await call(ads.currently_playing)),
        ("get", "/me/player/currently-playing", "200", await call(podcast.currently_playing, additional_types="episode")),
        ("get", "/me/player", "200", await call(alice.current_playback)),
        ("get", "/me/player", "200", await call(incognito.current_playback)),
        ("get", "/me/player", "200", await call(podcast.current_playback, additional_types="episode")),
        ("get", "/me/player/devices", "200", await call(alice.devices)),
        ("get", "/me/player/recently-played", "200", await call(alice.current_user_recently_played)),
        ("get", "/me/following", "200", await call(alice.current_user_followed_artists, limit=50)),
        ("get", "/me/top/artists", "200", await call(alice.current_user_top_artists, time_range="short_term")),
        ("get", "/me/top/tracks", "200", await call(alice.current_user_top_tracks, limit=50)),
        ("get", "/artists/{id}/albums", "200", await call(app.artist_albums, artist, include_groups="album,single,compilation,appears_on", limit=10)),
        ("get", "/albums/{id}", "200", await call(app.album, catalog["sample_collaborations"][0])),
        ("get", "/albums/{id}/tracks", "200", await call(app.album_tracks, track["album"]["id"], limit=5)),
        ("get", "/artists/{id}", "200", await call(app.artist, artist)),
        ("get", "/tracks/{id}", "200", await call(app.track, track["id"])),
    ]  # fmt: skip
    await ctl.settings(development_mode=False)
    cases += [
        ("get", "/browse/new-releases", "200", await call(app.new_releases)),
        ("get", "/users/{user_id}/playlists", "200", await call(alice.user_playlists, "carol")),
    ]
    problems: dict[str, list[str]] = {}
    for method, path, status, body in cases:
        errs = checker.problems(path, body, method, status)
        if errs:
            problems[f"{method.upper()} {path}"] = errs[:10]
    assert not problems, problems


async def test_error_bodies_follow_the_error_object(
    emu: SpotifyEmulator, ctl: SpotifyControl, checker: SchemaChecker
) -> None:
    err_schema = checker.response_schema("/me", status="401")
    forbidden = checker.response_schema("/me/top/artists", status="403")
    async with (
        aiohttp.ClientSession(headers={"Authorization": "Bearer nope"}) as s,
        s.get(emu.api_url + "me") as r,
    ):
        assert r.status == 401 and not checker.check(await r.json(), err_schema)
    no_scope = await user_sp(emu, ctl, "alice", scope="user-read-private")
    status, body = await raw(emu, no_scope, "GET", "me/top/artists")
    assert status == 403 and not checker.check(body, forbidden)
    status, body = await raw(emu, app_sp(emu), "GET", "search", params={"q": "a", "type": "track", "offset": 991, "limit": 10})  # fmt: skip
    assert status == 400 and not checker.check(body, err_schema)
