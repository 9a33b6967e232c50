"""/digest through the sandbox: who may use it, what it checks, and the posts a server gets."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.clock import FrozenClock
from sandbox.discord.models import SEND_MESSAGES
from sandbox.harness import MANAGE_GUILD, MEMBER, Sandbox

ADMIN = MANAGE_GUILD | MEMBER
START = dt.datetime(2026, 11, 6, 6, 0, tzinfo=dt.UTC)


@pytest.fixture
async def timed(clean_database: str) -> AsyncIterator[tuple[Sandbox, FrozenClock]]:
    clock = FrozenClock(START)
    async with Sandbox(clean_database, clock=clock) as running:
        yield running, clock


async def _channel(sandbox: Sandbox, name: str, **permissions: bool) -> int:
    created = await sandbox.discord.create_channel(sandbox.guild_id, name, **permissions)
    return int(created["id"])


async def _posts(sandbox: Sandbox, channel_id: int) -> list[dict[str, object]]:
    messages = await sandbox.discord.messages(channel_id=channel_id)
    return [m for m in messages if m["kind"] == "channel"]


async def test_only_members_who_manage_the_server_can_change_the_digest(sandbox: Sandbox) -> None:
    member = await sandbox.user("bob")
    channel_id = await _channel(sandbox, "digest")

    reply = await sandbox.slash(
        member, "digest channel", {"channel": channel_id}, permissions=MEMBER
    )

    assert reply.ephemeral and "You need the Manage Server permission" in reply.text
    status = await sandbox.slash(member, "digest status", permissions=MEMBER)
    assert "Manage Server" in status.text
    assert await sandbox.services.digests.status(sandbox.guild_id) is None


async def test_a_channel_the_bot_cannot_post_in_is_refused_with_what_is_missing(
    sandbox: Sandbox,
) -> None:
    admin = await sandbox.user("admin")
    locked = await _channel(sandbox, "locked", bot_can_post=False, bot_can_embed=False)

    reply = await sandbox.slash(admin, "digest channel", {"channel": locked}, permissions=ADMIN)

    assert "I cannot post the digest in" in reply.text
    assert "Send Messages, Embed Links" in reply.text and "View Channel" not in reply.text
    assert await sandbox.services.digests.status(sandbox.guild_id) is None


async def test_a_role_the_owner_gives_the_bot_later_is_seen_without_a_reconnect(
    sandbox: Sandbox,
) -> None:
    """The gateway caches no roles or overwrites: /digest channel asks Discord, so an owner
    fixing "I cannot post" with a role is heard at once."""
    admin = await sandbox.user("admin")
    channel_id = await _channel(sandbox, "announcements")
    poster = await sandbox.discord.create_role(sandbox.guild_id, "Encore poster")
    await sandbox.discord.update_channel(
        channel_id,
        permission_overwrites=[
            {"id": sandbox.guild_id, "type": 0, "allow": 0, "deny": SEND_MESSAGES},
            {"id": poster["id"], "type": 0, "allow": SEND_MESSAGES, "deny": 0},
        ],
    )
    sessions = [s["session_id"] for s in (await sandbox.discord.state())["shards"]]

    refused = await sandbox.slash(
        admin, "digest channel", {"channel": channel_id}, permissions=ADMIN
    )
    assert "I cannot post the digest in" in refused.text and "Send Messages" in refused.text
    assert await sandbox.services.digests.status(sandbox.guild_id) is None

    await sandbox.discord.give_bot_role(sandbox.guild_id, poster["id"])
    accepted = await sandbox.slash(
        admin, "digest channel", {"channel": channel_id}, permissions=ADMIN
    )

    assert "Daily digest on" in accepted.text and f"<#{channel_id}>" in accepted.text
    assert [s["session_id"] for s in (await sandbox.discord.state())["shards"]] == sessions
    status = await sandbox.services.digests.status(sandbox.guild_id)
    assert status is not None and status.channel_id == channel_id


async def test_a_channel_the_bot_cannot_see_misses_everything_it_needs(sandbox: Sandbox) -> None:
    admin = await sandbox.user("admin")
    hidden = await _channel(sandbox, "staff", bot_can_view=False)

    reply = await sandbox.slash(admin, "digest channel", {"channel": hidden}, permissions=ADMIN)

    assert "View Channel, Send Messages, Embed Links" in reply.text


async def test_the_channel_the_command_is_used_in_is_judged_by_the_interaction(
    sandbox: Sandbox,
) -> None:
    """Its own `app_permissions` say what the bot may do there: no REST call needed."""
    admin = await sandbox.user("admin")
    here = await _channel(sandbox, "here", bot_can_embed=False)
    before = len(await sandbox.discord.requests())

    reply = await sandbox.slash(
        admin, "digest channel", {"channel": here}, channel_id=here, permissions=ADMIN
    )

    assert "Embed Links" in reply.text and "Send Messages" not in reply.text
    asked = [r["path"] for r in (await sandbox.discord.requests())[before:]]
    assert not [path for path in asked if "/roles" in path or "/members/" in path]


async def test_setting_up_the_digest_validates_each_value_and_shows_the_schedule(
    timed: tuple[Sandbox, FrozenClock],
) -> None:
    sandbox, _ = timed
    admin = await sandbox.user("admin")
    channel_id = await _channel(sandbox, "new-music")

    async def digest(sub: str, options: dict[str, object] | None = None) -> str:
        reply = await sandbox.slash(admin, f"digest {sub}", options, permissions=ADMIN)
        assert reply.ephemeral
        return str(reply.text)

    off = await digest("status")
    assert "Daily digest: off" in off and "/digest channel" in off

    on = await digest("channel", {"channel": channel_id})
    assert "Daily digest on" in on and f"<#{channel_id}>" in on
    assert "every day at 09:00 UTC" in on and "09:00 on Friday 6 November 2026 (UTC)" in on

    assert "is not a time of day" in await digest("time", {"time": "25:00"})
    assert "HH:MM" in await digest("time", {"time": "half past eight"})
    later = await digest("time", {"time": "18:30"})
    assert "every day at 18:30 UTC" in later

    assert "is not a time zone I know" in await digest("timezone", {"timezone": "Mars/Base"})
    suggestions = await sandbox.autocomplete(
        admin, "digest timezone", "timezone", {"timezone": "berl"}
    )
    assert suggestions.choices[0]["value"] == "Europe/Berlin"
    berlin = await digest("timezone", {"timezone": "europe/berlin"})
    assert "18:30 Europe/Berlin" in berlin
    assert "18:30 on Friday 6 November 2026 (Europe/Berlin), 17:30 UTC" in berlin

    status = await digest("status")
    assert "Daily digest: on" in status and f"Channel: <#{channel_id}>" in status
    assert "Time: 18:30 Europe/Berlin" in status and "17:30 UTC" in status
    assert "Last post: never" in status

    assert "posts nothing" in await digest("empty-days", {"choice": "skip"})
    assert "Days without releases: nothing is posted" in await digest("status")

    preview = await sandbox.slash(admin, "digest preview", permissions=ADMIN)
    assert preview.ephemeral
    assert "New releases for Friday 6 November 2026 (Europe/Berlin)" in preview.text
    assert await _posts(sandbox, channel_id) == []

    assert "Daily digest off" in await digest("off")
    assert "Daily digest: off" in await digest("status")


async def test_the_digest_is_posted_when_due_and_a_refusing_channel_pauses_it(
    timed: tuple[Sandbox, FrozenClock],
) -> None:
    sandbox, clock = timed
    admin = await sandbox.user("admin")
    channel_id = await _channel(sandbox, "new-music")
    await sandbox.slash(admin, "digest channel", {"channel": channel_id}, permissions=ADMIN)
    digests = sandbox.services.digests

    clock.advance(hours=3)  # 09:00 UTC
    assert (await digests.tick())["sent"] == 1
    [post] = await _posts(sandbox, channel_id)
    assert post["embeds"][0]["title"] == "New releases for Friday 6 November 2026 (UTC)"  # type: ignore[index]
    assert (await digests.tick()).outcomes == {}

    # Someone takes the bot's right to post away; the next days' digests fail, then pause.
    await sandbox.discord.update_channel(channel_id, bot_can_post=False)
    clock.advance(days=1)
    outcomes = []
    for _ in range(8):
        outcomes += list((await digests.tick()).outcomes.elements())
        clock.advance(minutes=10)
    assert outcomes == ["retry", "retry", "paused"]

    status = await sandbox.slash(admin, "digest status", permissions=ADMIN)
    assert "Daily digest: paused" in status.text
    assert "Posting failed 3 times in a row" in status.text and "403" in status.text
    assert "then run `/digest channel` again" in status.text

    await sandbox.discord.update_channel(channel_id, bot_can_post=True)
    fixed = await sandbox.slash(admin, "digest channel", {"channel": channel_id}, permissions=ADMIN)
    assert "Daily digest on" in fixed.text
    assert (await digests.tick())["sent"] == 1  # today's, straight away
    posts = await _posts(sandbox, channel_id)
    assert [p["embeds"][0]["footer"]["text"] for p in posts] == [  # type: ignore[index]
        "Encore daily digest · 2026-11-06 · UTC",
        "Encore daily digest · 2026-11-07 · UTC",
    ]
    assert (
        "Daily digest: on" in (await sandbox.slash(admin, "digest status", permissions=ADMIN)).text
    )
