"""What a user follows and listens to most: /me/following (cursors) and /me/top."""

from __future__ import annotations

import pytest

from sandbox.spotify import SpotifyControl, SpotifyEmulator

from .clients import call, raises, raw, user_sp


async def test_cursor_paging_visits_every_followed_artist_once(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    sp = await user_sp(emu, ctl, "carol")
    page = (await call(sp.current_user_followed_artists, limit=50))["artists"]
    assert page["total"] == 120 and page["cursors"]["after"] == page["items"][-1]["id"]
    seen, pages = list(page["items"]), 1
    while page["next"]:
        assert "after=" in page["next"]
        page = (await call(sp.next, page))["artists"]
        seen += page["items"]
        pages += 1
    ids = [a["id"] for a in seen]
    assert pages == 3 and len(ids) == len(set(ids)) == 120
    assert page["cursors"]["after"] is None and page["next"] is None
    assert set(ids) == set(await ctl.followed_artists("carol"))
    # `after` may be any id: the page starts after it
    middle = sorted(ids)[59]
    after = (await call(sp.current_user_followed_artists, limit=5, after=middle))["artists"]
    assert [a["id"] for a in after["items"]] == sorted(ids)[60:65]


async def test_following_rules(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    no_scope = await user_sp(emu, ctl, "alice", scope="user-read-private user-top-read")
    err = await raises(no_scope.current_user_followed_artists)
    assert err.http_status == 403 and "scope" in err.msg.lower()
    sp = await user_sp(emu, ctl, "alice")
    assert (await raises(sp.current_user_followed_artists, limit=51)).http_status == 400
    for params in ({}, {"type": "user"}, {"type": "artist", "after": "not an id"}):
        status, body = await raw(emu, sp, "GET", "me/following", params=params)
        assert status == 400 and body["error"]["status"] == 400
    dave = await user_sp(emu, ctl, "dave")
    empty = (await call(dave.current_user_followed_artists))["artists"]
    assert empty["items"] == [] and empty["total"] == 0 and empty["next"] is None
    artists = (await ctl.catalog())["sample_artists"][:3]
    assert await ctl.set_followed_artists("dave", artists) == artists
    now = (await call(dave.current_user_followed_artists))["artists"]
    assert sorted(a["id"] for a in now["items"]) == sorted(artists)


async def test_a_token_without_user_top_read_is_refused(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    sp = await user_sp(emu, ctl, "alice", scope="user-read-private user-follow-read")
    for fn in (sp.current_user_top_artists, sp.current_user_top_tracks):
        err = await raises(fn)
        assert err.http_status == 403 and err.msg.endswith("Insufficient client scope")


async def test_time_ranges_give_different_overlapping_lists(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    sp = await user_sp(emu, ctl, "alice")
    for fn in (sp.current_user_top_artists, sp.current_user_top_tracks):
        ranked = {
            r: [x["id"] for x in (await call(fn, limit=50, time_range=r))["items"]]
            for r in ("short_term", "medium_term", "long_term")
        }
        assert all(len(ids) == 50 == len(set(ids)) for ids in ranked.values())
        short, medium, long = ranked["short_term"], ranked["medium_term"], ranked["long_term"]
        assert short != medium != long != short
        assert set(short) & set(medium) and set(medium) & set(long)
        default = [x["id"] for x in (await call(fn, limit=50, time_range=None))["items"]]
        assert default == medium
        second = await call(fn, limit=10, offset=10, time_range="long_term")
        assert [x["id"] for x in second["items"]] == long[10:20] and second["total"] == 50
    top = (await call(sp.current_user_top_tracks, limit=1))["items"][0]
    assert top["type"] == "track" and top["album"]["type"] == "album"


@pytest.mark.parametrize(
    ("params", "status"),
    [({"time_range": "forever"}, 400), ({"limit": 51}, 400), ({"limit": 0}, 400)],
)
async def test_top_items_refuse_bad_parameters(
    emu: SpotifyEmulator, ctl: SpotifyControl, params: dict[str, object], status: int
) -> None:
    sp = await user_sp(emu, ctl, "alice")
    got, body = await raw(emu, sp, "GET", "me/top/artists", params=params)
    assert got == status and body["error"]["message"]


async def test_top_lists_set_through_the_control_api(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    sp = await user_sp(emu, ctl, "bob")
    assert (await call(sp.current_user_top_artists))["total"] == 0  # a new account
    artists = (await ctl.catalog())["sample_artists"][:2]
    tracks = (await ctl.catalog())["sample_tracks"][:3]
    await ctl.set_top("bob", "artists", artists, time_range="short_term")
    await ctl.set_top("bob", "tracks", tracks)
    got = await call(sp.current_user_top_artists, time_range="short_term")
    assert [a["id"] for a in got["items"]] == artists
    assert [t["id"] for t in (await call(sp.current_user_top_tracks))["items"]] == tracks
    assert (await ctl.top("bob"))["tracks"]["medium_term"] == tracks
