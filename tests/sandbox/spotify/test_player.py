"""The player: now playing in every state, playback and devices, recent plays, the queue."""

from __future__ import annotations

import datetime as dt

from sandbox.spotify import SpotifyControl, SpotifyEmulator

from .clients import call, login, raises, raw, user_sp


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


async def test_now_playing_a_track_with_progress_and_context(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    alice = await user_sp(emu, ctl, "alice")
    now = await call(alice.currently_playing)
    assert now["is_playing"] and now["currently_playing_type"] == "track"
    assert now["item"]["type"] == "track" and now["progress_ms"] == 42_000
    assert now["context"]["type"] == "album" and isinstance(now["timestamp"], int)
    assert "device" not in now
    await ctl.set_playback("alice", now["item"]["id"], is_playing=False, progress_ms=10**9)
    paused = await call(alice.currently_playing)
    assert paused["is_playing"] is False
    assert paused["progress_ms"] == paused["item"]["duration_ms"] - 1


async def test_nothing_playing_no_device_and_a_private_session_answer_204(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    for user in ("bob", "incognito"):
        sp = await user_sp(emu, ctl, user)
        assert await call(sp.currently_playing) is None
    log = await ctl.requests(path="currently-playing")
    assert [e["status"] for e in log] == [204, 204]
    # during a private session, /me/player shows the device and withholds the item
    incognito = await user_sp(emu, ctl, "incognito")
    state = await call(incognito.current_playback)
    assert state["device"]["is_private_session"] is True and state["item"] is None
    alice = await user_sp(emu, ctl, "alice")
    await ctl.update_user("alice", playing=None)
    assert await call(alice.currently_playing) is None
    await ctl.set_playback("alice", (await ctl.catalog())["sample_tracks"][0], no_device=True)
    assert await call(alice.currently_playing) is None
    assert await call(alice.current_playback) is None  # 204: no active device


async def test_an_advertisement_has_no_item(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    sp = await user_sp(emu, ctl, "ads")
    now = await call(sp.currently_playing)
    assert now["currently_playing_type"] == "ad" and now["item"] is None
    assert now["context"] is None and now["actions"]["disallows"]["skipping_next"] is True


async def test_an_episode_is_described_only_to_clients_that_ask(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    sp = await user_sp(emu, ctl, "podcast")
    plain = await call(sp.currently_playing)
    assert plain["currently_playing_type"] == "episode" and plain["item"] is None
    asked = await call(sp.currently_playing, additional_types="episode")
    assert asked["item"]["type"] == "episode" and asked["item"]["show"]["type"] == "show"
    assert asked["context"]["type"] == "show"
    # spotipy's older helper asks for tracks only
    assert (await call(sp.current_user_playing_track))["item"] is None


async def test_playback_state_and_devices(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    sp = await user_sp(emu, ctl, "alice")
    state = await call(sp.current_playback)
    device = state["device"]
    assert device["name"] == "Alice's MacBook Pro" and device["is_active"] is True
    assert len(device["id"]) == 40 and device["is_private_session"] is False
    assert state["repeat_state"] == "off" and state["shuffle_state"] is False
    assert state["item"]["type"] == "track"
    devices = await call(sp.devices)
    assert [d["id"] for d in devices["devices"]] == [device["id"]]
    await ctl.set_playback("alice", None, device={"name": "**Kitchen** <@123>", "type": "Speaker"})
    state = await call(sp.current_playback)
    assert state["device"]["name"] == "**Kitchen** <@123>" and state["item"] is None
    assert await call(sp.currently_playing) is None
    bob = await user_sp(emu, ctl, "bob")
    assert (await call(bob.devices))["devices"] == []


async def test_player_reads_need_their_scopes(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    sp = await user_sp(emu, ctl, "alice", scope="user-read-currently-playing")
    assert (await call(sp.currently_playing))["item"]
    for fn in (sp.current_playback, sp.devices, sp.current_user_recently_played):
        err = await raises(fn)
        assert err.http_status == 403 and "Insufficient client scope" in err.msg


async def test_recently_played_serves_the_last_50_by_cursor(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    sp = await user_sp(emu, ctl, "alice")
    assert len(await ctl.recently_played("alice")) == 70  # Spotify remembers only 50
    page = await call(sp.current_user_recently_played, limit=20)
    seen = list(page["items"])
    while page["next"]:
        assert "before=" in page["next"]
        page = await call(sp.next, page)
        seen += page["items"]
    assert len(seen) == 50
    played = [p["played_at"] for p in seen]
    assert played == sorted(played, reverse=True) and len(set(played)) == 50
    moment = dt.datetime.fromisoformat(played[0].replace("Z", "+00:00"))
    assert played[0].endswith("Z") and "." in played[0] and moment.tzinfo is not None
    first = await call(sp.current_user_recently_played, limit=3)
    assert first["cursors"]["after"] == str(int(moment.timestamp() * 1000))
    assert {p["track"]["type"] for p in seen} == {"track"}
    # after: what was played since
    track = (await ctl.catalog())["sample_tracks"][2]
    await ctl.add_play("alice", track)
    newer = await call(sp.current_user_recently_played, after=first["cursors"]["after"])
    assert [p["track"]["id"] for p in newer["items"]] == [track]
    assert (await raises(sp.current_user_recently_played, after=1, before=2)).http_status == 400
    assert (await raises(sp.current_user_recently_played, limit=51)).http_status == 400


async def test_recently_played_with_none_one_or_a_set_history(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    bob = await user_sp(emu, ctl, "bob")
    empty = await call(bob.current_user_recently_played)
    assert empty["items"] == [] and empty["next"] is None and empty["cursors"] is None
    dave = await user_sp(emu, ctl, "dave")
    assert len((await call(dave.current_user_recently_played))["items"]) == 1
    tracks = (await ctl.catalog())["sample_tracks"]
    await ctl.set_recently_played(
        "bob",
        [
            {"track": tracks[0], "played_at": "2026-11-19T21:00:00Z"},
            {"track": tracks[1], "played_at": 1_763_500_000_000, "context": None},
        ],
    )
    got = await call(bob.current_user_recently_played)
    assert [p["track"]["id"] for p in got["items"]] == [tracks[0], tracks[1]]
    assert got["items"][0]["played_at"] == "2026-11-19T21:00:00.000Z"
    status, _ = await raw(emu, bob, "GET", "me/player/recently-played", params={"before": "x"})
    assert status == 400
