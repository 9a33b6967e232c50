"""Artists' releases, as a release radar reads them, and releases appearing on cue."""

from __future__ import annotations

from typing import Any

import spotipy

from sandbox.spotify import SpotifyControl, SpotifyEmulator

from .clients import TODAY, app_sp, call, raises


async def discography(sp: spotipy.Spotify, artist: str, groups: str) -> list[dict[str, Any]]:
    page = await call(sp.artist_albums, artist, include_groups=groups, limit=10)
    found = list(page["items"])
    while page["next"]:
        page = await call(sp.next, page)
        found += page["items"]
    return found


async def test_releases_come_group_by_group_newest_first(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    sp = app_sp(emu)
    artist = (await ctl.catalog())["sample_artists"][1]
    releases = await discography(sp, artist, "album,single,compilation,appears_on")
    groups = [a["album_group"] for a in releases]
    order = ["album", "single", "compilation", "appears_on"]
    assert groups == sorted(groups, key=order.index) and set(groups) == set(order)
    for group in order:
        days = [a["release_date"] for a in releases if a["album_group"] == group]
        days = [d for d in days if len(d) == 10]
        assert days == sorted(days, reverse=True)
    # each listed release credits the artist, or (appears on) has a track featuring them
    for album in releases:
        credited = artist in {a["id"] for a in album["artists"]}
        assert credited == (album["album_group"] != "appears_on")
    singles = await discography(sp, artist, "single")
    assert {a["album_group"] for a in singles} == {"single"}
    assert [a["id"] for a in singles] == [a["id"] for a in releases if a["album_group"] == "single"]


async def test_artist_albums_limits(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    sp = app_sp(emu)
    artist = (await ctl.catalog())["sample_artists"][0]
    assert (await raises(sp.artist_albums, artist, limit=11)).http_status == 400
    assert (await raises(sp.artist_albums, artist)).http_status == 400  # spotipy asks for 20
    default = await call(sp._get, f"artists/{artist}/albums")
    assert default["limit"] == 5 and len(default["items"]) == 5
    err = await raises(sp.artist_albums, artist, include_groups="album,ep", limit=10)
    assert err.http_status == 400
    with_market = await call(sp.artist_albums, artist, country="DE", limit=10)
    assert len(with_market["items"]) == 10
    assert (await raises(sp.artist_albums, "0" * 22, limit=10)).http_status == 404


async def test_a_collaboration_is_listed_for_each_credited_artist(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    sp = app_sp(emu)
    album_id = (await ctl.catalog())["sample_collaborations"][0]
    album = await call(sp.album, album_id)
    assert 2 <= len(album["artists"]) <= 6
    for artist in album["artists"]:
        group = album["album_type"]
        found = await discography(sp, artist["id"], group)
        assert album_id in {a["id"] for a in found}


async def test_a_release_appears_when_the_control_api_adds_it(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    sp = app_sp(emu)
    catalog = await ctl.catalog()
    artist, guest = catalog["sample_artists"][2], catalog["sample_artists"][4]
    before = await call(sp.artist_albums, artist, include_groups="single", limit=10)
    added = await ctl.add_release(
        artist,
        name="**Brand** new @everyone",
        tracks=2,
        with_artists=[guest],
        track_names=["First", "Second"],
    )
    assert added["release_date"] == TODAY.isoformat() and len(added["tracks"]) == 2
    after = await call(sp.artist_albums, artist, include_groups="single", limit=10)
    assert after["items"][0]["id"] == added["id"] and after["total"] == before["total"] + 1
    assert added["id"] in {a["id"] for a in await discography(sp, guest, "single")}
    album = await call(sp.album, added["id"])
    assert [t["name"] for t in album["tracks"]["items"]] == ["First", "Second"]
    assert [a["id"] for a in album["artists"]] == [artist, guest]
    track = await call(sp.track, added["tracks"][0])
    assert track["album"]["id"] == added["id"]
    found = await call(sp.search, '"**brand** new"', type="album", limit=10)
    assert added["id"] in {a["id"] for a in found["albums"]["items"]}
    assert added["id"] in {
        a["id"] for a in (await call(sp.search, "tag:new brand", type="album"))["albums"]["items"]
    }
    # an old release is in the discography but not in tag:new
    old = await ctl.add_release(
        artist, name="Vault Find", album_type="album", release_date="2001-05-04"
    )
    assert old["id"] not in {
        a["id"]
        for a in (await call(sp.search, "tag:new vault find", type="album"))["albums"]["items"]
    }
    assert old["id"] in {a["id"] for a in await discography(sp, artist, "album")}
    # other emulators and a reset do not see them
    await ctl.reset()
    assert (await raises(sp.album, added["id"])).http_status in (401, 404)
