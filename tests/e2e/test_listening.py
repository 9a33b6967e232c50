"""/np, /recent and /top end to end, with their buttons, through both emulators."""

from __future__ import annotations

import re

import pytest

from sandbox.harness import Reply, Sandbox


async def linked(sandbox: Sandbox, name: str, spotify_user: str | None = None, **kw: str) -> int:
    user = await sandbox.user(name)
    outcome = await sandbox.link(user, spotify_user or name, **kw)  # type: ignore[arg-type]
    assert outcome.status == 200, outcome.page
    return user


async def spotify_user(sandbox: Sandbox, name: str) -> dict[str, object]:
    return {u["id"]: u for u in await sandbox.spotify.users()}[name]


# -- /np ----------------------------------------------------------------------------------


async def test_np_shows_the_track_artists_album_art_progress_and_device_with_three_buttons(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    track = str((await spotify_user(sandbox, "alice"))["playing"])

    now = await sandbox.slash(alice, "np")

    assert now.ephemeral
    [embed] = now.embeds
    assert embed["title"] == "Now playing"
    assert track in embed["description"]  # the track's link
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Device"] == "Alice's MacBook Pro"
    assert fields["Album"]
    assert fields["Progress"].startswith("`0:42`")  # 42 s in, as Spotify says
    assert embed["thumbnail"]["url"].startswith("http")  # the album art
    assert [b["label"] for b in now.buttons] == ["Open in Spotify", "Like", "Queue again"]
    assert now.button("Open in Spotify")["url"].endswith(track)

    liked = await sandbox.press(alice, now, "Like")
    assert "Liked" in liked.text and liked.ephemeral
    assert track in await sandbox.spotify.library("alice")

    queued = await sandbox.press(alice, now, "Queue again")
    assert "Added" in queued.text and "to your Spotify queue" in queued.text
    assert await sandbox.spotify.queue("alice") == [f"spotify:track:{track}"]


async def test_queue_again_without_premium_or_a_device_says_why(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice")
    now = await sandbox.slash(alice, "np")
    await sandbox.spotify.update_user("alice", active_device=False)

    refused = await sandbox.press(alice, now, "Queue again")

    assert "no active device" in refused.text and refused.ephemeral
    assert await sandbox.spotify.queue("alice") == []


async def test_np_says_when_nothing_plays_a_private_session_an_ad_or_an_episode(
    sandbox: Sandbox,
) -> None:
    answers: dict[str, Reply] = {}
    for name in ("carol", "incognito", "ads", "podcast"):
        answers[name] = await sandbox.slash(await linked(sandbox, name), "np")

    assert "Nothing is playing" in answers["carol"].text
    assert "private session" in answers["incognito"].text
    assert "advertisement" in answers["ads"].text and "Pixel 9" in answers["ads"].text
    assert "podcast episode" in answers["podcast"].text and "Kitchen" in answers["podcast"].text
    for answer in answers.values():
        assert answer.ephemeral and not answer.embeds and not answer.buttons


async def test_np_with_a_link_made_before_playback_state_was_asked_for_still_works(
    sandbox: Sandbox,
) -> None:
    older = "user-read-private user-read-currently-playing user-library-modify"
    alice = await linked(sandbox, "alice", scopes=older)
    await sandbox.spotify.clear_requests()

    now = await sandbox.slash(alice, "np")

    [embed] = now.embeds
    assert embed["title"] == "Now playing" and "Device" not in {f["name"] for f in embed["fields"]}
    counts = await sandbox.spotify.request_counts(user="alice")
    assert counts == {"GET /v1/me/player/currently-playing": 1}


# -- /recent --------------------------------------------------------------------------------


async def test_recent_pages_through_the_last_50_plays_in_the_readers_own_time(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")  # 70 plays, of which Spotify serves 50
    plays = await sandbox.spotify.recently_played("alice")

    first = await sandbox.slash(alice, "recent")

    [embed] = first.embeds
    assert embed["title"] == "Recently played (50)"
    assert embed["footer"]["text"] == "Page 1 of 5"
    lines = embed["description"].split("\n")
    assert len(lines) == 20  # a track line and a time line for each of 10
    newest = max(plays, key=lambda p: int(p["played_at"]))
    stamp = int(newest["played_at"]) // 1000
    assert f"<t:{stamp}:f>" in lines[1] and f"<t:{stamp}:R>" in lines[1]
    assert newest["track"] in lines[0]

    last = await sandbox.press(alice, first, "»")
    assert last.embeds[0]["footer"]["text"].startswith("Page 5 of 5")
    assert last.embeds[0]["description"].startswith("`41.`")
    assert "`50.`" in last.embeds[0]["description"]


async def test_recent_with_no_plays_or_one_play(sandbox: Sandbox) -> None:
    bob = await linked(sandbox, "bob")
    dave = await linked(sandbox, "dave")

    none = await sandbox.slash(bob, "recent")
    one = await sandbox.slash(dave, "recent")

    assert "no recently played tracks" in none.text and none.ephemeral
    [embed] = one.embeds
    assert embed["title"] == "Recently played (1)" and not one.buttons  # one page: no buttons
    assert embed["description"].startswith("` 1.`")


# -- /top -----------------------------------------------------------------------------------


async def test_top_artists_and_tracks_for_each_period_are_ranked_and_paginated(
    sandbox: Sandbox,
) -> None:
    alice = await linked(sandbox, "alice")
    top = await sandbox.spotify.top("alice")
    ranges = {"4 weeks": "short_term", "6 months": "medium_term", "all time": "long_term"}

    for period, time_range in ranges.items():
        for kind in ("artists", "tracks"):
            shown = await sandbox.slash(alice, f"top {kind}", {"period": period})
            [embed] = shown.embeds
            assert embed["footer"]["text"] == "Page 1 of 5", (kind, period)
            assert period.replace("4 weeks", "last 4 weeks") in embed["title"]
            lines = embed["description"].splitlines()
            assert [line[:5] for line in lines] == [f"`{n:>2}.`" for n in range(1, 11)]
            ranked = top[kind][time_range]
            assert all(ranked[i] in lines[i] for i in range(10)), (kind, period)
            assert shown.ephemeral

    # the default period is Spotify's: 6 months
    default = await sandbox.slash(alice, "top tracks")
    assert "last 6 months" in default.embeds[0]["title"]
    second = await sandbox.press(alice, default, "›")
    assert second.embeds[0]["description"].startswith("`11.`")
    assert top["tracks"]["medium_term"][10] in second.embeds[0]["description"]


async def test_top_with_nothing_ranked_says_so(sandbox: Sandbox) -> None:
    bob = await linked(sandbox, "bob")
    for kind in ("artists", "tracks"):
        empty = await sandbox.slash(bob, f"top {kind}", {"period": "4 weeks"})
        assert f"no top {kind}" in empty.text and "last 4 weeks" in empty.text


async def test_a_link_without_the_top_permission_is_offered_a_new_link(sandbox: Sandbox) -> None:
    alice = await linked(sandbox, "alice", scopes="user-read-private playlist-read-private")
    await sandbox.spotify.clear_requests()

    refused = await sandbox.slash(alice, "top artists")

    assert "`user-top-read`" in refused.text and refused.ephemeral
    assert refused.button("Link again")
    assert await sandbox.spotify.requests(path="/v1/me/top") == []  # Spotify was not asked
    again = await sandbox.slash(alice, "recent")
    assert "`user-read-recently-played`" in again.text
    playing = await sandbox.slash(alice, "np")
    assert "`user-read-playback-state`" in playing.text and playing.button("Link again")


# -- odd names ------------------------------------------------------------------------------


MENTION = re.compile(r"(?<!\\)@(everyone|here)|<@&?\d+>")


def plain_mentions(reply: Reply) -> list[str]:
    """Mentions that would render (not escaped) anywhere in the reply."""
    return MENTION.findall(reply.text)


@pytest.mark.parametrize("spotify_options", [{"catalogue": "messy"}])
async def test_long_markdown_and_mention_names_fit_and_stay_inert(
    clean_database: str, spotify_options: dict[str, str]
) -> None:
    async with Sandbox(clean_database, spotify_options=spotify_options) as sandbox:
        member = await linked(sandbox, "member", "messy")
        answers = [await sandbox.slash(member, "np"), await sandbox.slash(member, "recent")]
        for period in ("4 weeks", "6 months", "all time"):
            for kind in ("artists", "tracks"):
                first = await sandbox.slash(member, f"top {kind}", {"period": period})
                answers += [first, await sandbox.press(member, first, "»")]
        recent = answers[1]
        for _ in range(4):
            recent = await sandbox.press(member, recent, "›")
            answers.append(recent)

        for answer in answers:
            assert answer.message is not None and not answer.late, answer.record
            assert answer.embeds, answer.text  # shown, not refused by Discord's limits
            assert plain_mentions(answer) == [], answer.text
        assert "**Living room**" not in answers[0].text  # the device's markdown is escaped
        errors = await sandbox.discord.errors()
        assert [e for e in errors if e.get("kind") not in ("unhandled", "validation")] == []
