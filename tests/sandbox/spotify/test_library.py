"""The library: likes through /me/library, liked songs through /me/tracks."""

from __future__ import annotations

from sandbox.spotify import SpotifyControl, SpotifyEmulator

from .clients import call, login, raises


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
    assert await call(sp.current_user_saved_tracks_contains, new) == [True, True]
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


async def test_the_old_library_endpoints_are_closed(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    _, sp, _ = await login(emu, ctl, "alice")
    track = (await ctl.catalog())["sample_tracks"][0]
    for fn in (sp._put, sp._delete):
        err = await raises(fn, f"me/tracks?ids={track}")
        assert err.http_status == 403
    artists = (await ctl.catalog())["sample_artists"]
    err = await raises(sp.user_follow_artists, artists[:1])  # PUT /me/library?uris=artist
    assert err.http_status == 400 and "Unsupported URI type" in err.msg
    err = await raises(sp._put, "me/following?type=artist&ids=" + artists[0])
    assert err.http_status == 403  # apps can no longer follow artists for a user


async def test_contains_answers_for_tracks_and_followed_artists(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    _, sp, _ = await login(emu, ctl, "alice", scope="user-library-read")
    followed = await ctl.followed_artists("alice")
    other = next(a for a in (await ctl.catalog())["sample_artists"] if a not in followed)
    liked = (await ctl.library("alice"))[0]
    answer = await call(sp.current_user_following_artists, [followed[0], other])
    assert answer == [True, False]
    assert await call(sp.current_user_saved_tracks_contains, [liked]) == [True]
