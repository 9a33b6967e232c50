"""Playlists: listing, reading (2026 rules), creating, and every kind of edit."""

from __future__ import annotations

import math
from typing import Any

import pytest
import spotipy

from sandbox.spotify import SpotifyControl, SpotifyEmulator

from .clients import ALL_SCOPES, call, login, raises, raw, user_sp


async def names_to_ids(sp: spotipy.Spotify) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in (await call(sp.current_user_playlists, limit=50))["items"]}


async def all_entries(sp: spotipy.Spotify, playlist_id: str) -> list[dict[str, Any]]:
    page = await call(sp.playlist_items, playlist_id, limit=50)
    entries = list(page["items"])
    while page["next"]:
        page = await call(sp.next, page)
        entries += page["items"]
    return entries


def uris(entries: list[dict[str, Any]]) -> list[str]:
    return [e["item"]["uri"] for e in entries]


# ---------------------------------------------------------------------------- reading


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


async def test_a_user_with_300_messy_playlists_pages_through_all_of_them(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    sp = await user_sp(emu, ctl, "hoarder")
    page = await call(sp.current_user_playlists, limit=50)
    seen = list(page["items"])
    while page["next"]:
        page = await call(sp.next, page)
        seen += page["items"]
    assert len(seen) == len({p["id"] for p in seen}) == page["total"] == 300
    names = [p["name"] for p in seen]
    assert max(map(len, names)) >= 100
    assert any(set("*_~`|>") & set(n) for n in names)


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
    assert "track" not in shared["items"][0]
    assert by_name["Road Trip"]["collaborative"] is True
    # 10,000 tracks, generated lazily
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
    # a followed playlist shows its details but not its contents
    followed = await call(sp.playlist, by_name["Dave's Picks"]["id"])
    assert "items" not in followed and "tracks" not in followed
    assert "items" in await call(sp.playlist, by_name["Fifty"]["id"])


async def test_playlists_hold_duplicates_local_files_and_episodes_as_spotify_sends_them(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    alice = await user_sp(emu, ctl, "alice")
    workout = (await names_to_ids(alice))["Workout"]
    entries = await all_entries(alice, workout["id"])
    assert len(entries) == workout["items"]["total"] == 212
    local = [e for e in entries if e["is_local"]]
    assert local and all(
        e["item"]["id"] is None
        and e["item"]["href"] is None
        and e["item"]["uri"].startswith("spotify:local:")
        and e["item"]["type"] == "track"
        and e["item"]["is_local"] is True
        for e in local
    )
    episodes = [e for e in entries if e["item"]["type"] == "episode"]
    assert episodes and all(e["item"]["show"]["type"] == "show" for e in episodes)
    ids = [e["item"]["id"] for e in entries if e["item"]["type"] == "track" and e["item"]["id"]]
    assert len(ids) > len(set(ids))  # the same track twice

    messy = await user_sp(emu, ctl, "messy")
    playlists = await names_to_ids(messy)
    assert {"Duplicates", "Local Files", "Podcasts and Music", "Everything Odd"} <= set(playlists)
    assert max(len(name) for name in playlists) >= 100
    dupes = uris(await all_entries(messy, playlists["Duplicates"]["id"]))
    assert len(dupes) > len(set(dupes))
    odd = await all_entries(messy, playlists["Everything Odd"]["id"])
    assert {e["item"]["type"] for e in odd} == {"track", "episode"}
    assert any(e["is_local"] for e in odd)


async def test_snapshot_changes_when_modified_through_the_control_api(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
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
    renamed = await ctl.edit_playlist(created["id"], name="Fresher")
    assert renamed["snapshot_id"] != after["snapshot_id"]
    assert (await call(sp.playlist, created["id"]))["name"] == "Fresher"


async def test_limit_over_cap_is_400(emu: SpotifyEmulator, ctl: SpotifyControl) -> None:
    _, sp, _ = await login(emu, ctl, "alice")
    err = await raises(sp.current_user_playlists, limit=51)
    assert err.http_status == 400 and "Invalid limit" in err.msg
    err = await raises(sp.search, "heart", limit=11)
    assert err.http_status == 400
    err = await raises(sp.current_user_saved_tracks, limit=51)
    assert err.http_status == 400


async def test_other_users_playlists_are_closed_in_development_mode(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    sp = await user_sp(emu, ctl, "alice")
    err = await raises(sp.user_playlists, "carol")
    assert err.http_status == 403
    assert (await raises(sp.user, "carol")).http_status == 403
    await ctl.settings(development_mode=False)
    assert (await call(sp.user_playlists, "carol"))["total"] == 3
    assert (await call(sp.user, "carol"))["id"] == "carol"


# ---------------------------------------------------------------------------- creating


async def test_creating_a_private_playlist_puts_it_first_and_owned(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    sp = await user_sp(emu, ctl, "alice")
    made = await call(
        sp.current_user_playlist_create, "Encore Radar", public=False, description="new"
    )
    assert made["owner"]["id"] == "alice" and made["public"] is False
    assert made["items"]["total"] == 0 and made["snapshot_id"]
    mine = await call(sp.current_user_playlists, limit=5)
    assert mine["items"][0]["id"] == made["id"] and mine["total"] == 13
    back = await ctl.user_playlists("alice")
    assert back[0]["name"] == "Encore Radar" and back[0]["items"] == []
    status, body = await raw(emu, sp, "POST", "me/playlists", json={"public": False})
    assert status == 400 and body["error"]["message"] == "Missing required field: name"
    status, _ = await raw(
        emu, sp, "POST", "me/playlists", json={"name": "x", "collaborative": True, "public": True}
    )
    assert status == 400


@pytest.mark.parametrize(
    ("granted", "public", "allowed"),
    [
        ("playlist-modify-private", False, True),
        ("playlist-modify-private", True, False),
        ("playlist-modify-public", True, True),
        ("playlist-modify-public", False, False),
    ],
)
async def test_creating_needs_the_scope_of_its_visibility(
    emu: SpotifyEmulator, ctl: SpotifyControl, granted: str, public: bool, allowed: bool
) -> None:
    sp = await user_sp(emu, ctl, "alice", scope=f"user-read-private {granted}")
    if allowed:
        assert (await call(sp.current_user_playlist_create, "Mine", public=public))["id"]
    else:
        err = await raises(sp.current_user_playlist_create, "Mine", public=public)
        assert err.http_status == 403 and "scope" in err.msg.lower()
        assert "Insufficient client scope" in err.msg


# ---------------------------------------------------------------------------- editing


async def sample_uris(ctl: SpotifyControl, n: int) -> list[str]:
    plays = await ctl.user_playlists("alice")
    thousand = next(p for p in plays if p["name"] == "Thousand")
    return [u for u in dict.fromkeys(thousand["items"]) if u.startswith("spotify:track:")][:n]


async def test_adding_items_returns_a_snapshot_and_keeps_their_order(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    sp = await user_sp(emu, ctl, "alice")
    made = await call(sp.current_user_playlist_create, "Save", public=False)
    tracks = await sample_uris(ctl, 5)
    answer = await call(sp.playlist_add_items, made["id"], tracks[:3])  # a bare JSON list
    assert answer["snapshot_id"] != made["snapshot_id"]
    status, body = await raw(
        emu,
        sp,
        "POST",
        f"playlists/{made['id']}/items",
        json={"uris": tracks[3:], "position": 1},
    )
    assert status == 201 and body["snapshot_id"] != answer["snapshot_id"]
    episode = f"spotify:episode:{(await ctl.catalog())['sample_episodes'][0]}"
    await call(sp.playlist_add_items, made["id"], [episode], position=0)
    stored = (await ctl.playlist(made["id"]))["items"]
    assert stored == [episode, tracks[0], tracks[3], tracks[4], tracks[1], tracks[2]]
    entries = await all_entries(sp, made["id"])
    assert uris(entries) == stored and all(e["added_by"]["id"] == "alice" for e in entries)


async def test_writes_of_more_than_100_uris_are_refused(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    sp = await user_sp(emu, ctl, "alice")
    made = await call(sp.current_user_playlist_create, "Big", public=False)
    tracks = await sample_uris(ctl, 101)
    assert len(tracks) == 101
    err = await raises(sp.playlist_add_items, made["id"], tracks)
    assert err.http_status == 400 and "100" in err.msg
    err = await raises(sp.playlist_replace_items, made["id"], tracks)
    assert err.http_status == 400
    await call(sp.playlist_add_items, made["id"], tracks[:100])
    await call(sp.playlist_add_items, made["id"], tracks[100:])
    assert (await ctl.playlist(made["id"]))["total"] == 101
    assert (await ctl.playlist(made["id"]))["items"] == tracks


async def test_bad_uris_and_positions_are_refused(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    sp = await user_sp(emu, ctl, "alice")
    made = await call(sp.current_user_playlist_create, "Bad", public=False)
    pid = made["id"]
    for body, message in (
        ({"uris": ["spotify:album:" + "a" * 22]}, "Invalid track uri"),
        ({"uris": ["spotify:track:" + "0" * 22]}, "non-existing ID"),
        ({"uris": ["spotify:local:a:b:c:12"]}, "Invalid track uri"),
        ({"uris": []}, "Missing required field"),
        ({"uris": (await sample_uris(ctl, 1)), "position": 5}, "Index out of bounds"),
    ):
        status, answer = await raw(emu, sp, "POST", f"playlists/{pid}/items", json=body)
        assert status == 400 and message in answer["error"]["message"], (body, answer)
    status, _ = await raw(emu, sp, "POST", f"playlists/{pid}/tracks", json={"uris": []})
    assert status == 403  # the old /tracks path is closed


async def test_only_the_owner_or_a_collaborator_may_edit(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    alice = await user_sp(emu, ctl, "alice")
    mine = await names_to_ids(alice)
    tracks = await sample_uris(ctl, 2)
    err = await raises(alice.playlist_add_items, mine["Dave's Picks"]["id"], tracks)
    assert err.http_status == 403 and "scope" not in err.msg.lower()
    # alice collaborates on carol's collaborative playlist
    shared = mine["Shared with Carol"]["id"]
    await call(alice.playlist_add_items, shared, tracks)
    assert (await ctl.playlist(shared))["items"][-2:] == tracks
    # but may not rename it
    err = await raises(alice.playlist_change_details, shared, name="Mine now")
    assert err.http_status == 403


async def test_replace_reorder_remove_and_the_playlist_size_limit(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    sp = await user_sp(emu, ctl, "alice")
    made = await call(sp.current_user_playlist_create, "Edit", public=False)
    pid = made["id"]
    a, b, c, d = await sample_uris(ctl, 4)
    await call(sp.playlist_replace_items, pid, [a, b, c, d, a])
    assert (await ctl.playlist(pid))["items"] == [a, b, c, d, a]
    old = (await call(sp.playlist_reorder_items, pid, range_start=0, insert_before=5))[
        "snapshot_id"
    ]
    assert (await ctl.playlist(pid))["items"] == [b, c, d, a, a]
    await call(sp.playlist_reorder_items, pid, range_start=3, range_length=2, insert_before=0)
    assert (await ctl.playlist(pid))["items"] == [a, a, b, c, d]
    # an older snapshot is still accepted, a made-up one is not
    await call(sp.playlist_reorder_items, pid, range_start=4, insert_before=0, snapshot_id=old)
    assert (await ctl.playlist(pid))["items"] == [d, a, a, b, c]
    err = await raises(sp.playlist_reorder_items, pid, 0, 1, snapshot_id="bm90IGEgc25hcHNob3Q=")
    assert err.http_status == 400
    err = await raises(sp.playlist_reorder_items, pid, range_start=5, insert_before=0)
    assert err.http_status == 400
    await call(sp.playlist_remove_all_occurrences_of_items, pid, [a])
    assert (await ctl.playlist(pid))["items"] == [d, b, c]
    await call(
        sp.playlist_remove_specific_occurrences_of_items, pid, [{"uri": b, "positions": [1]}]
    )
    assert (await ctl.playlist(pid))["items"] == [d, c]
    await call(sp.playlist_replace_items, pid, [])
    assert (await ctl.playlist(pid))["items"] == []
    ten_thousand = (await names_to_ids(sp))["Ten Thousand"]["id"]
    err = await raises(sp.playlist_add_items, ten_thousand, [a])
    assert err.http_status == 400 and "limit" in err.msg


async def test_snapshot_id_changes_on_every_kind_of_edit(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    sp = await user_sp(emu, ctl, "alice", scope=ALL_SCOPES)
    made = await call(sp.current_user_playlist_create, "Snap", public=False)
    pid = made["id"]
    a, b, c = await sample_uris(ctl, 3)
    snapshots = [made["snapshot_id"]]

    async def current() -> str:
        return str((await call(sp.playlist, pid))["snapshot_id"])

    snapshots.append((await call(sp.playlist_add_items, pid, [a, b, c]))["snapshot_id"])
    snapshots.append((await call(sp.playlist_reorder_items, pid, 0, 3))["snapshot_id"])
    snapshots.append(
        (await call(sp.playlist_remove_all_occurrences_of_items, pid, [b]))["snapshot_id"]
    )
    snapshots.append((await call(sp.playlist_replace_items, pid, [c, a]))["snapshot_id"])
    await call(sp.playlist_change_details, pid, name="Snap, renamed")
    snapshots.append(await current())
    snapshots.append((await ctl.add_tracks(pid, 2))["snapshot_id"])
    snapshots.append((await ctl.edit_playlist(pid, items=[a]))["snapshot_id"])
    snapshots.append((await ctl.edit_playlist(pid, name="Snap again"))["snapshot_id"])
    assert len(set(snapshots)) == len(snapshots) == 9
    assert await current() == snapshots[-1]
    listed = next(p for p in (await call(sp.current_user_playlists))["items"] if p["id"] == pid)
    assert listed["snapshot_id"] == snapshots[-1] and listed["name"] == "Snap again"


async def test_writes_need_the_modify_scope_of_the_playlist(
    emu: SpotifyEmulator, ctl: SpotifyControl
) -> None:
    owner = await user_sp(emu, ctl, "alice")
    private = await call(owner.current_user_playlist_create, "Private", public=False)
    public = await call(owner.current_user_playlist_create, "Public", public=True)
    tracks = await sample_uris(ctl, 1)
    only_public = await user_sp(emu, ctl, "alice", scope="playlist-modify-public")
    err = await raises(only_public.playlist_add_items, private["id"], tracks)
    assert err.http_status == 403 and err.msg.endswith("Insufficient client scope")
    await call(only_public.playlist_add_items, public["id"], tracks)
    reader = await user_sp(emu, ctl, "alice", scope="playlist-read-private")
    err = await raises(reader.playlist_replace_items, private["id"], tracks)
    assert err.http_status == 403 and "scope" in err.msg.lower()
