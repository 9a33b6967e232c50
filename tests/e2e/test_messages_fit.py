"""Messages Discord would refuse, through the sandbox: a collaboration's digest, a shuffle batch
across a cycle boundary, a digest refused as a bug, and posts that happen once when Discord
loses the answer (issue 14)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import insert, select

from bot import metrics
from bot.clock import FrozenClock
from bot.digests import Digest
from bot.releases import ArtistReleases
from bot.ui import digest_poster
from bot.ui.digest_poster import DiscordPoster
from db.models import DigestRun, OutboxMessage
from sandbox.harness import MANAGE_GUILD, MEMBER, Sandbox, digest_posts, schedule_digests_now
from sandbox.markdown import shows
from tests.drains import digests_settled, outbox_drained

ADMIN = MANAGE_GUILD | MEMBER
LONG = "**Sinfonía** _No. 9_ `in` ~~D minor~~ [live](<https://evil.example>) @everyone " * 5


def like_ids(message: dict[str, Any]) -> list[str]:
    return [
        str(c["custom_id"])
        for row in message.get("components") or []
        for c in row["components"]
        if str(c.get("custom_id", "")).startswith("encore:like:")
    ]


async def collaboration(sandbox: Sandbox) -> Digest:
    """A day whose first two artists share their latest release (a collaboration), with
    names at Spotify's lengths and full of markdown."""
    assert (await sandbox.services.releases.ingest()).status == "ok"
    latest = await sandbox.services.releases.latest_by_artist(limit=40, days=30)
    first, second, *rest = latest
    shared = dataclasses.replace(first.latest_release, name=LONG)
    artists = [
        dataclasses.replace(first, name=LONG, releases=(shared, *first.releases[1:])),
        dataclasses.replace(second, name="🎻 " + LONG, releases=(shared, *second.releases)),
        *rest,
    ]
    return Digest(dt.date(2026, 11, 6), "UTC", tuple[ArtistReleases, ...](artists))


async def test_a_collaborations_digest_has_one_like_per_release_and_is_accepted(
    sandbox: Sandbox,
) -> None:
    digest = await collaboration(sandbox)
    poster = DiscordPoster(sandbox.bot)

    message_id = await poster.post(sandbox.channel_id, digest, nonce="dg-collab")

    posted = await sandbox.message(message_id)
    ids = like_ids(posted)
    assert len(ids) == len(set(ids)) == 10
    assert ids.count(f"encore:like:album:{digest.artists[0].latest_release.id}") == 1
    embed = posted["embeds"][0]
    assert len(embed["description"]) <= 4096
    seen = sandbox.seen(posted)
    assert shows(seen, " ".join(LONG.split()))  # the name as typed (cut at a word), no markup
    assert "@everyone" in seen and "@everyone" not in embed["description"]

    # The one button likes the shared release for whoever presses it.
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    liked = await sandbox.click(alice, ids[0], message_id)
    assert liked.ephemeral and liked.text.startswith("Liked ")


async def test_a_shuffle_batch_across_a_cycle_boundary_has_unique_buttons(
    sandbox: Sandbox,
) -> None:
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    playlist = await sandbox.spotify.create_playlist(owner="alice", name=LONG[:100], tracks=3)
    await sandbox.slash(alice, "shuffle start", {"source": playlist["id"]})

    # The three tracks of cycle 1, then cycle 2 opens with two of them again (a batch goes
    # into the next cycle, never through it).
    dealt = await sandbox.slash(alice, "shuffle next", {"count": 5})

    assert not dealt.late and dealt.embeds, dealt.record
    ids = like_ids(dealt.message or {})
    assert len(ids) == 5 and len(set(ids)) == 5
    assert any(i.rsplit(":", 1)[-1].isdigit() for i in ids)  # a repeat carries its position
    assert "cycle 2 begins" in dealt.seen
    repeated = next(i for i in ids if i.rsplit(":", 1)[-1].isdigit())
    liked = await sandbox.click(alice, repeated, dealt.message_id)
    assert liked.text.startswith("Liked ")

    played = await sandbox.slash(alice, "shuffle play", {"count": 4})
    assert not played.late and "to your Spotify queue" in played.seen
    played_ids = like_ids(played.message or {})
    assert played_ids and len(set(played_ids)) == len(played_ids), played.seen


async def test_shuffle_peek_of_20_long_tracks_fits_in_one_embed(sandbox: Sandbox) -> None:
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    playlists = await sandbox.spotify.user_playlists("alice")
    biggest = max(playlists, key=lambda p: len(p.get("items") or []))
    await sandbox.slash(alice, "shuffle start", {"source": biggest["id"]})

    peek = await sandbox.slash(alice, "shuffle peek", {"count": 20})
    status = await sandbox.slash(alice, "shuffle status")

    assert not peek.late and len(peek.embeds[0]["description"]) <= 4096
    assert peek.seen.count("\n") >= 20
    assert not status.late and "Source:" in status.seen


@pytest.fixture
async def timed(clean_database: str) -> Any:
    clock = FrozenClock(dt.datetime(2026, 11, 6, 6, 0, tzinfo=dt.UTC))
    async with Sandbox(clean_database, clock=clock) as running:
        yield running, clock


@pytest.mark.discord_refusal_expected
async def test_a_digest_discord_refuses_is_a_bug_logged_counted_and_not_retried(
    timed: tuple[Sandbox, FrozenClock],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sandbox, clock = timed
    admin = await sandbox.user("admin")
    await sandbox.slash(admin, "digest channel", {"channel": sandbox.channel_id}, permissions=ADMIN)
    built = digest_poster.digest_message  # type: ignore[attr-defined]

    def broken(digest: Digest) -> dict[str, Any]:  # a bug: a title over Discord's 256
        message = built(digest)
        message["embed"].title = "x" * 300
        return message

    monkeypatch.setattr(digest_poster, "digest_message", broken)
    refused_before = metrics.MESSAGES_REFUSED.labels("digest")._value.get()
    clock.advance(hours=3)

    with caplog.at_level(logging.ERROR, logger="bot.digests.service"):
        assert (await sandbox.services.digests.tick()).outcomes == Counter({"refused": 1})
    for _ in range(3):  # not retried in a loop
        clock.advance(minutes=10)
        assert (await sandbox.services.digests.tick()).outcomes == {}

    assert any("embeds.0.title" in r.getMessage() for r in caplog.records)
    assert metrics.MESSAGES_REFUSED.labels("digest")._value.get() == refused_before + 1
    async with sandbox.services.sessions() as session:
        run = await session.scalar(select(DigestRun))
    assert run is not None and run.status == "refused" and "embeds.0.title" in (run.error or "")
    status = await sandbox.slash(admin, "digest status", permissions=ADMIN)
    assert "Discord refused the post" in status.seen and "embeds.0.title" in status.seen
    assert "Daily digest: on" in status.seen  # one refusal pauses nothing
    assert await digest_posts(sandbox.discord) == Counter()

    # The next day, with the bug fixed, the digest is posted as usual.
    monkeypatch.setattr(digest_poster, "digest_message", built)
    clock.advance(days=1)
    assert (await sandbox.services.digests.tick()).outcomes == Counter({"sent": 1})


SERVERS = 40
GIVES_UP = 5  # discord.py tries a request 5 times on a 502 before it raises


async def test_a_lost_answer_never_posts_a_digest_twice(sandbox: Sandbox) -> None:
    await sandbox.discord.create_guilds_bulk(SERVERS, "lost")
    guilds = [g for g in await sandbox.discord.guilds() if g["name"].startswith("lost")]
    assert len(guilds) == SERVERS
    channels = [str(g["channels"][0]["id"]) for g in guilds]
    await schedule_digests_now(sandbox.database_url or "", guilds)
    # Two servers' posts are written and answered 502 (as Cloudflare does) until discord.py
    # gives up: those runs fail and are retried later. Every other post loses its first
    # answer, and discord.py sends it again at once.
    for channel in channels[:2]:
        await sandbox.discord.lose_responses(GIVES_UP, channel_id=channel)
    await sandbox.discord.lose_responses(SERVERS - 2)

    now = dt.datetime.now(dt.UTC)
    first = await sandbox.services.digests.tick(now)
    later = await sandbox.services.digests.tick(now + dt.timedelta(minutes=3))
    await digests_settled(sandbox.database_url or "")

    assert first.outcomes == Counter({"sent": SERVERS - 2, "retry": 2})
    assert later.outcomes == Counter({"sent": 2})
    assert await digest_posts(sandbox.discord) == Counter({channel: 1 for channel in channels})
    lost = [r for r in await sandbox.discord.requests() if r.get("fault") == "lost_response"]
    assert len(lost) == SERVERS - 2 + 2 * GIVES_UP


async def test_a_lost_answer_never_sends_a_dm_twice(sandbox: Sandbox) -> None:
    # Every answer to the first DM is lost until discord.py gives up (about 16 s): the outbox retries it
    # later with the same nonce, and Discord hands back the message it already created.
    people = [await sandbox.user("dm0")]
    await sandbox.discord.lose_responses(GIVES_UP, dms=True)
    async with sandbox.services.sessions() as session, session.begin():
        await session.execute(
            insert(OutboxMessage),
            [
                {"discord_user_id": user, "kind": "test", "payload": {"content": f"Hello {n}"}}
                for n, user in enumerate(people)
            ],
        )

    await outbox_drained(sandbox.database_url or "", timeout=60)

    for n, user in enumerate(people):
        assert [m["content"] for m in await sandbox.dms(user)] == [f"Hello {n}"]
    lost = [r for r in await sandbox.discord.requests() if r.get("fault") == "lost_response"]
    assert len(lost) == GIVES_UP
    async with sandbox.services.sessions() as session:
        attempts = list(await session.scalars(select(OutboxMessage.attempts)))
    assert attempts == [2]  # sent twice, and it arrived once
