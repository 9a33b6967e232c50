"""Search as Spotify does it in 2026: 10 a page, a 1,000-result window, tag:new by relevance."""

from __future__ import annotations

import datetime as dt

from sandbox.spotify import SpotifyControl, SpotifyEmulator

from .clients import TODAY, app_sp, call, raises
from .conftest import strict_emulator


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

    t = tracks["items"][0]
    assert (await call(sp.track, t["id"]))["id"] == t["id"]
    album = await call(sp.album, t["album"]["id"])
    assert album["total_tracks"] == len(album["tracks"]["items"])
    album_tracks = await call(sp.album_tracks, album["id"], limit=1)
    assert album_tracks["total"] == album["total_tracks"]
    artist = await call(sp.artist, t["artists"][0]["id"])
    assert artist["name"] == t["artists"][0]["name"]
    err = await raises(sp.tracks, [t["id"]])
    assert err.http_status == 403
    err = await raises(sp.track, "0" * 22)
    assert err.http_status == 404
    err = await raises(sp.track, "not-an-id")
    assert err.http_status == 400
    # user-only endpoints refuse an app token
    err = await raises(sp.me)
    assert err.http_status == 401


async def test_offset_plus_limit_over_1000_is_refused(emu: SpotifyEmulator) -> None:
    sp = app_sp(emu)
    assert (await call(sp.search, "a", limit=10, offset=990))["tracks"]["offset"] == 990
    err = await raises(sp.search, "a", limit=10, offset=991)  # 1,001
    assert err.http_status == 400 and err.msg.endswith("Bad request.")
    err = await raises(sp.search, "a", limit=1, offset=1000)
    assert err.http_status == 400
    err = await raises(sp.search, "a", limit=5, offset=1001)
    assert err.http_status == 400
    # next never leads past the window
    last = (await call(sp.search, "a", limit=10, offset=980))["tracks"]
    assert last["total"] > 1000 and last["next"] is not None
    end = (await call(sp.next, last))["tracks"]
    assert end["offset"] == 990 and end["next"] is None


async def test_the_looser_spec_window_is_one_option_away() -> None:
    emu = strict_emulator(search_window="spec")
    await emu.start()
    try:
        sp = app_sp(emu)
        page = (await call(sp.search, "a", limit=10, offset=1000))["tracks"]
        assert page["offset"] == 1000 and page["next"] is None
        assert (await raises(sp.search, "a", limit=10, offset=1001)).http_status == 400
    finally:
        await emu.stop()


async def test_tag_new_comes_in_relevance_order_not_newest_first(emu: SpotifyEmulator) -> None:
    sp = app_sp(emu)
    page = (await call(sp.search, "tag:new", type="album", limit=10))["albums"]
    assert page["total"] > 100 and len(page["items"]) == 10
    seen = []
    for _ in range(10):
        seen += page["items"]
        page = (await call(sp.next, page))["albums"]
    cutoff = (TODAY - dt.timedelta(days=14)).isoformat()
    assert all(a["release_date"][:10] >= cutoff[: len(a["release_date"])] for a in seen)
    dates = [a["release_date"] for a in seen]
    assert dates != sorted(dates, reverse=True)  # not newest first...
    popularity = [(await call(sp.album, a["id"]))["popularity"] for a in seen[:20]]
    assert popularity == sorted(popularity, reverse=True)  # ...but most popular first


async def test_names_full_of_punctuation_are_found_by_their_own_words(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    sp = app_sp(emu)
    first = (await ctl.catalog())["sample_tracks"][0]
    name = (await call(sp.track, first))["name"]
    assert len(name) >= 200 and '"' in name
    found = await call(sp.search, name, type="track", limit=10)
    assert first in [t["id"] for t in found["tracks"]["items"]]
    # a masked link or a "word:" inside a name is text, not a search filter
    link = (await ctl.catalog())["sample_tracks"][3]
    link_name = (await call(sp.track, link))["name"]
    assert "https://" in link_name
    found = await call(sp.search, link_name, type="track", limit=10)
    assert link in [t["id"] for t in found["tracks"]["items"]]
    # filters still work
    artist = (await call(sp.track, first))["artists"][0]["name"]
    by_artist = await call(sp.search, f'artist:"{artist}"', type="album", limit=10)
    assert by_artist["albums"]["items"] and all(
        any(a["name"] == artist for a in al["artists"]) for al in by_artist["albums"]["items"]
    )


async def test_new_releases_answer_403_in_development_mode_unless_switched_on(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    sp = app_sp(emu)
    err = await raises(sp.new_releases)
    assert err.http_status == 403
    settings = await ctl.settings(development_mode=False)
    assert settings["new_releases_available"] is True
    nr = await call(sp.new_releases, limit=50)
    assert len(nr["albums"]["items"]) == 50
    dates = [a["release_date"] for a in nr["albums"]["items"] if len(a["release_date"]) == 10]
    assert dates == sorted(dates, reverse=True)  # newest first
    assert (await raises(sp.new_releases, limit=51)).http_status == 400
    await ctl.settings(new_releases_available=False)  # the older name of the same switch
    assert (await raises(sp.new_releases)).http_status == 403
    assert (await ctl.catalog())["development_mode"] is True
