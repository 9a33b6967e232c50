"""The release radar end to end, through both emulators: watchlist sources and blocks,
re-consent for missing scopes, one DM per period across two workers, the digest's section
without names, the playlist refilled, the quota back-off, /forget-me and /unlink.

"Two workers" here are two `Services` (each with its own engine, checker and deliveries) on
the same database, running their ticks at once; the outbox of the sandbox's bot sends.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.radar import RadarService
from bot.services import Services
from db.models import OutboxMessage, RadarArtist, RadarDelivery, RadarSettings
from sandbox.harness import MANAGE_GUILD, MEMBER, Sandbox
from tests.e2e.test_forget_me_is_final import forget_me, rows_about

OLD_SCOPES = (
    "user-read-private playlist-read-private playlist-read-collaborative user-library-read "
    "user-library-modify user-modify-playback-state user-read-currently-playing"
)
RADAR_TABLES = ("radar_watchlist", "radar_blocks", "radar_settings", "radar_shares")


@pytest.fixture
async def radar_sandbox(clean_database: str) -> AsyncIterator[Sandbox]:
    # A budget big enough that the bucket (a minute's worth) never holds a test back.
    async with Sandbox(clean_database, settings={"radar_calls_per_hour": 360_000}) as running:
        yield running


async def linked(sandbox: Sandbox, name: str, **kw: str) -> int:
    user = await sandbox.user(name)
    outcome = await sandbox.link(user, name, **kw)  # type: ignore[arg-type]
    assert outcome.status == 200, outcome.page
    return user


def radar(sandbox: Sandbox) -> RadarService:
    service: RadarService = sandbox.services.radar
    return service


async def only_watching(sandbox: Sandbox, spotify_user: str, artists: list[str]) -> None:
    """The member follows exactly `artists` on Spotify and has no top artists."""
    await sandbox.spotify.set_followed_artists(spotify_user, artists)
    for time_range in ("short_term", "medium_term", "long_term"):
        await sandbox.spotify.set_top(spotify_user, "artists", [], time_range=time_range)


async def artists(sandbox: Sandbox, count: int, *, skip: int = 1000) -> list[str]:
    """Artists of the catalogue's long tail (few releases each)."""
    music = sandbox.spotify_emulator.catalog.music
    return [music.artists[i].id for i in range(skip, skip + count)]


async def due(sandbox: Sandbox, user: int) -> dt.datetime:
    """A moment when the member's radar is due and every artist has come round for a check.

    Whether an artist's next check falls before the member's delivery depends on the weekday
    (checks are 4x as frequent from Thursday noon UTC), so the tests wait for both.
    """
    async with sandbox.services.sessions() as session:
        when: dt.datetime | None = await session.scalar(
            select(RadarSettings.next_delivery_at).where(RadarSettings.discord_user_id == user)
        )
        checks = await session.scalar(select(func.max(RadarArtist.next_check_at)))
    assert when is not None
    return max(when, checks or when) + dt.timedelta(seconds=1)


async def check_all(sandbox: Sandbox, now: dt.datetime | None = None) -> int:
    report = await radar(sandbox).checker.tick(now)
    return report.checked


async def radar_dms(sandbox: Sandbox, user: int) -> list[dict[str, Any]]:
    return [
        m
        for m in await sandbox.dms(user)
        if any(
            "Encore radar" in str((e.get("footer") or {}).get("text")) for e in m["embeds"] or []
        )
    ]


async def wait_for_radar_dms(sandbox: Sandbox, user: int, count: int) -> list[dict[str, Any]]:
    async with asyncio.timeout(15):
        while len(found := await radar_dms(sandbox, user)) < count:
            await asyncio.sleep(0.05)
    return found


# -- the watchlist ------------------------------------------------------------------------


async def test_the_watchlist_has_followed_top_liked_and_added_artists_minus_blocks(
    radar_sandbox: Sandbox,
) -> None:
    sandbox = radar_sandbox
    alice = await linked(sandbox, "alice")
    followed, top, added = await artists(sandbox, 3)
    await only_watching(sandbox, "alice", [followed])
    await sandbox.spotify.set_top("alice", "artists", [top], time_range="short_term")
    track = (await sandbox.spotify.catalog())["sample_tracks"][0]
    liked = await sandbox.slash(alice, "like", {"track": track})
    assert "Liked" in liked.text

    suggestions = await sandbox.autocomplete(alice, "radar follow", "artist", {"artist": "a"})
    assert suggestions.choices and all(len(c["name"]) <= 100 for c in suggestions.choices)
    follow = await sandbox.slash(alice, "radar follow", {"artist": added})
    assert "is on your radar" in follow.text

    listed = await sandbox.slash(alice, "radar list")
    text = listed.text
    assert listed.ephemeral and "followed" in text and "top artist" in text
    assert "in your likes" in text and "added here" in text
    assert "Missing permissions" not in text
    async with sandbox.services.sessions() as session:
        union = set(await session.scalars(select(RadarArtist.artist_id)))
    assert {followed, top, added} <= union  # the checker's work: one row per distinct artist

    blocked = await sandbox.slash(alice, "radar block", {"artist": followed})
    assert "is blocked" in blocked.text
    watchlist = await radar(sandbox).watchlist.watchlist(alice)
    assert followed not in {a.id for a in watchlist.artists}
    assert followed in {a.id for a in watchlist.blocked}
    again = await sandbox.slash(alice, "radar list")
    assert "Blocked (1)" in again.text
    await sandbox.slash(alice, "radar unblock", {"artist": followed})
    assert followed in {a.id for a in (await radar(sandbox).watchlist.watchlist(alice)).artists}
    kept = await sandbox.slash(alice, "radar unfollow", {"artist": followed})
    assert "stays on your radar" in kept.text  # followed on Spotify: only a block hides it
    gone = await sandbox.slash(alice, "radar unfollow", {"artist": added})
    assert "is off your radar" in gone.text


async def test_a_link_without_the_radar_scopes_says_which_and_offers_to_link_again(
    radar_sandbox: Sandbox,
) -> None:
    sandbox = radar_sandbox
    alice = await linked(sandbox, "alice", scopes=OLD_SCOPES)
    [added] = await artists(sandbox, 1)
    await sandbox.slash(alice, "radar follow", {"artist": added})

    listed = await sandbox.slash(alice, "radar list")

    assert "`user-follow-read`" in listed.text and "`user-top-read`" in listed.text
    assert listed.button("Link again") and "added here" in listed.text  # nothing is lost
    refused = await sandbox.slash(alice, "radar playlist", {"playlist": "on"})
    assert "`playlist-modify-private`" in refused.text and refused.button("Link again")
    log = await sandbox.spotify.requests(path="^/v1/me/(following|top)")
    assert log == []  # nothing asked that the link cannot be granted

    relinked = await sandbox.press(alice, listed, "Link again")
    url = sandbox.link_in(relinked) or sandbox.link_in_dms(await sandbox.dms(alice))
    assert url is not None
    assert (await sandbox.follow_link(url, "alice", discord_user=alice)).status == 200
    await radar(sandbox).watchlist.refresh(alice)
    after = await sandbox.slash(alice, "radar list")
    assert "Missing permissions" not in after.text and "followed" in after.text
    kept = {a.id: a.sources for a in (await radar(sandbox).watchlist.watchlist(alice)).artists}
    assert kept[added] == ("manual",)


# -- the weekly DM -------------------------------------------------------------------------


async def test_one_radar_dm_per_period_across_two_workers_newest_first_with_open_and_like(
    radar_sandbox: Sandbox,
) -> None:
    sandbox = radar_sandbox
    alice = await linked(sandbox, "alice")
    first, second = await artists(sandbox, 2)
    await only_watching(sandbox, "alice", [first, second])
    await sandbox.slash(alice, "radar list")  # the watchlist is read
    assert await check_all(sandbox) == 2  # the baseline look at both artists
    today = dt.date.today()
    older = await sandbox.spotify.add_release(
        first, name="Older *Single*", release_date=(today - dt.timedelta(days=2)).isoformat()
    )
    newer = await sandbox.spotify.add_release(second, name="Newer Album", album_type="album")
    when = await due(sandbox, alice)
    assert await check_all(sandbox, when) == 2  # due again: the cycle came round

    other = await Services.build(sandbox.settings)
    try:
        reports = await asyncio.gather(
            radar(sandbox).deliveries.tick(when), other.radar.deliveries.tick(when)
        )
    finally:
        await other.close()

    assert sorted(len(r.delivered) for r in reports) == [0, 1]
    async with sandbox.services.sessions() as session:
        runs = await session.scalar(select(func.count()).select_from(RadarDelivery))
        queued = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "radar")
        )
    assert runs == 1 and queued == 1
    [dm] = await wait_for_radar_dms(sandbox, alice, 1)
    description = dm["embeds"][0]["description"]
    assert description.index("Newer Album") < description.index("Older \\*Single\\*")
    labels = [c["label"] for row in dm["components"] for c in row["components"]]
    assert labels[:2] == ["Open Newer Album", "Like Newer Album"]
    like_id = next(
        c["custom_id"] for row in dm["components"] for c in row["components"] if c.get("custom_id")
    )
    assert like_id == f"encore:like:album:{newer['id']}"

    await sandbox.restart_bot()  # the Like button works on a DM sent before a restart
    pressed = await sandbox.click(alice, like_id, int(dm["id"]))
    assert "Liked" in pressed.text
    assert newer["tracks"][0] in await sandbox.spotify.library("alice")

    # The next tick of either worker finds nothing due; nothing new next period: no DM.
    assert (await radar(sandbox).deliveries.tick(when)).delivered == []
    later = await due(sandbox, alice)
    report = await radar(sandbox).deliveries.tick(later)
    assert report.delivered == [] and report.empty == [alice]
    await asyncio.sleep(0.5)
    assert len(await radar_dms(sandbox, alice)) == 1
    assert older["id"] != newer["id"]


async def test_the_digest_counts_sharing_members_and_never_names_them(
    radar_sandbox: Sandbox,
) -> None:
    sandbox = radar_sandbox
    alice = await linked(sandbox, "alice")
    carol = await linked(sandbox, "carol")
    dave = await linked(sandbox, "dave")
    [artist] = await artists(sandbox, 1)
    for name, user in (("alice", alice), ("carol", carol), ("dave", dave)):
        await only_watching(sandbox, name, [artist])
        await sandbox.slash(user, "radar list")
    await sandbox.slash(alice, "radar share", {"share": "on"})
    await sandbox.slash(carol, "radar share", {"share": "on"})  # dave does not share
    await check_all(sandbox)
    release = await sandbox.spotify.add_release(artist, name="Shared Single")
    async with sandbox.services.sessions() as session:
        row = await session.get(RadarArtist, artist)
        assert row is not None
        when = row.next_check_at
    await check_all(sandbox, when)

    admin = await sandbox.user("admin")
    preview = await sandbox.slash(admin, "digest preview", permissions=MANAGE_GUILD | MEMBER)

    fields = {f["name"]: f["value"] for e in preview.embeds for f in e.get("fields") or []}
    section = fields["New from artists this server listens to"]
    assert "Shared Single" in section and "2 members follow" in section
    assert release["id"] in section  # the release's link
    for name in ("alice", "carol", "dave", str(alice), str(carol)):
        assert name not in section
    await sandbox.slash(carol, "radar share", {"share": "off"})
    again = await sandbox.slash(admin, "digest preview", permissions=MANAGE_GUILD | MEMBER)
    assert "1 member follows" in again.text


async def test_the_encore_radar_playlist_is_made_once_and_refilled_each_period(
    radar_sandbox: Sandbox,
) -> None:
    sandbox = radar_sandbox
    alice = await linked(sandbox, "alice")
    [artist] = await artists(sandbox, 1)
    await only_watching(sandbox, "alice", [artist])
    await sandbox.slash(alice, "radar list")
    on = await sandbox.slash(alice, "radar playlist", {"playlist": "on"})
    assert "Encore Radar" in on.text
    await check_all(sandbox)
    first = await sandbox.spotify.add_release(artist, name="First Drop", tracks=3)
    when = await due(sandbox, alice)
    await check_all(sandbox, when)
    assert (await radar(sandbox).deliveries.tick(when)).playlists == [alice]

    [made] = [
        p for p in await sandbox.spotify.user_playlists("alice") if p["name"] == "Encore Radar"
    ]
    assert made["items"] == [f"spotify:track:{t}" for t in first["tracks"]]
    assert not made["public"]

    # Released during the next period (as a release found a week later would be): dated
    # today, it would be too old for that period whenever today is a delivery day after the
    # delivery hour.
    second = await sandbox.spotify.add_release(
        artist,
        name="Second Drop",
        tracks=2,
        release_date=(when + dt.timedelta(days=2)).date().isoformat(),
    )
    later = await due(sandbox, alice)
    await check_all(sandbox, later)
    assert (await radar(sandbox).deliveries.tick(later)).playlists == [alice]
    [refilled] = [
        p for p in await sandbox.spotify.user_playlists("alice") if p["name"] == "Encore Radar"
    ]
    assert refilled["id"] == made["id"]  # the same playlist, its items replaced
    assert refilled["items"] == [f"spotify:track:{t}" for t in second["tracks"]]


# -- the checker under Spotify's limits ------------------------------------------------------


async def test_a_quota_refusal_pauses_every_worker_and_checks_resume_after_it(
    radar_sandbox: Sandbox,
) -> None:
    sandbox = radar_sandbox
    alice = await linked(sandbox, "alice")
    watched = await artists(sandbox, 3)
    await only_watching(sandbox, "alice", watched)
    await sandbox.slash(alice, "radar list")
    await sandbox.spotify.add_fault(
        r"^/v1/artists/[^/]+/albums$", status=429, retry_after=60, reason="QUOTA_EXCEEDED", times=1
    )
    now = dt.datetime.now(dt.UTC)

    report = await radar(sandbox).checker.tick(now)

    # The refused artist waits (the ones already in flight finish): none is checked twice.
    assert report.pause_reason == "QUOTA_EXCEEDED" and report.checked < 3
    assert report.paused_until is not None and report.paused_until >= now + dt.timedelta(minutes=15)
    calls = len(await sandbox.spotify.requests(path="/albums$"))
    other = await Services.build(sandbox.settings)  # another worker honours the pause too
    try:
        assert (await other.radar.checker.tick(now + dt.timedelta(minutes=5))).checked == 0
    finally:
        await other.close()
    assert len(await sandbox.spotify.requests(path="/albums$")) == calls
    resumed = await radar(sandbox).checker.tick(report.paused_until + dt.timedelta(seconds=1))
    assert resumed.pause_reason is None
    assert sorted(report.artists + resumed.artists) == sorted(watched)


async def test_a_retry_after_pauses_for_as_long_as_spotify_asks(radar_sandbox: Sandbox) -> None:
    sandbox = radar_sandbox
    alice = await linked(sandbox, "alice")
    watched = await artists(sandbox, 2)
    await only_watching(sandbox, "alice", watched)
    await sandbox.slash(alice, "radar list")
    await sandbox.spotify.add_fault(
        r"^/v1/artists/[^/]+/albums$", status=429, retry_after=7, times=1
    )
    now = dt.datetime.now(dt.UTC)
    report = await radar(sandbox).checker.tick(now)
    assert report.pause_reason == "429" and report.paused_until == now + dt.timedelta(seconds=7)
    resumed = await radar(sandbox).checker.tick(now + dt.timedelta(seconds=8))
    assert sorted(report.artists + resumed.artists) == sorted(watched)


# -- erasure ---------------------------------------------------------------------------------


async def test_forget_me_deletes_the_radar_and_unlink_stops_its_dms(radar_sandbox: Sandbox) -> None:
    sandbox = radar_sandbox
    alice = await linked(sandbox, "alice")
    carol = await linked(sandbox, "carol")
    [artist] = await artists(sandbox, 1)
    for name, user in (("alice", alice), ("carol", carol)):
        await only_watching(sandbox, name, [artist])
        await sandbox.slash(user, "radar list")
        await sandbox.slash(user, "radar share", {"share": "on"})
        await sandbox.slash(
            user, "radar block", {"artist": (await artists(sandbox, 1, skip=30))[0]}
        )
    assert set(RADAR_TABLES) <= set(await rows_about(sandbox, alice))

    await forget_me(sandbox, alice)
    assert not set(RADAR_TABLES) & set(await rows_about(sandbox, alice))

    await check_all(sandbox)
    await sandbox.spotify.add_release(artist, name="After Goodbye")
    when = await due(sandbox, carol)
    await check_all(sandbox, when)
    unlinked = await sandbox.slash(carol, "unlink")
    assert unlinked.ephemeral
    report = await radar(sandbox).deliveries.tick(when)
    assert report.delivered == [] and report.empty == []
    async with sandbox.services.sessions() as session:
        queued = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "radar")
        )
    assert queued == 0


async def test_the_worker_refreshes_a_watchlist_once_a_day_without_the_member(
    radar_sandbox: Sandbox,
) -> None:
    sandbox = radar_sandbox
    alice = await linked(sandbox, "alice")
    first, second = await artists(sandbox, 2)
    await only_watching(sandbox, "alice", [first])
    await sandbox.slash(alice, "radar list")
    await sandbox.spotify.set_followed_artists("alice", [second])
    now = dt.datetime.now(dt.UTC)
    watchlist = radar(sandbox).watchlist

    assert await watchlist.refresh_stale(now=now) == 0  # refreshed when they used /radar
    assert await watchlist.refresh_stale(now=now + dt.timedelta(hours=25)) == 1
    assert await watchlist.refresh_stale(now=now + dt.timedelta(hours=25)) == 0  # once

    assert [a.id for a in (await watchlist.watchlist(alice)).artists] == [second]
