"""The digest after it is posted: its Like buttons (also after a restart), a channel that
refuses Encore three times in a row, days without releases, and turning it off."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sandbox.demo import Demo

TITLE = "The digest's buttons, a restart, a refusing channel, empty days, off"


def _labels(message: dict[str, Any]) -> list[str]:
    return [
        str(button.get("label"))
        for row in message.get("components") or []
        for button in row.get("components", [])
    ]


async def run(demo: Demo) -> None:
    sandbox = demo.sandbox
    alice, bob, admin = demo.people["alice"], demo.people["bob"], demo.admin
    guild = await sandbox.discord.guild(sandbox.guild_id)
    channel_id = next(int(c["id"]) for c in guild["channels"] if c["name"] == "new-releases")

    async def posts() -> list[dict[str, Any]]:
        messages = await sandbox.discord.messages(channel_id=channel_id)
        return [m for m in messages if m["kind"] == "channel"]

    posted = await posts()
    if not demo.expect(bool(posted) and len(_labels(posted[-1])) >= 2, "today's digest is there"):
        return
    digest = posted[-1]
    labels = _labels(digest)
    pressed = await demo.press(bob, digest, labels[0], "on the digest in #new-releases")
    demo.expect(
        pressed, "a digest's Like button likes the release's first track", contains="first track"
    )

    await sandbox.restart_bot()
    demo.show("the owner", "restarts Encore (an upgrade)", text="the bot process stops and starts")
    pressed = await demo.press(alice, digest, labels[1], "on the same digest, after the restart")
    demo.expect(pressed, "the buttons of old posts still work after a restart", contains="Liked")

    # Someone takes the bot's right to post away; tomorrow's digest fails, then pauses.
    services = sandbox.services
    await sandbox.discord.update_channel(channel_id, bot_can_post=False)
    demo.show(
        "a moderator",
        "takes Send Messages away from Encore in #new-releases",
        text="(Discord answers Encore's posts there with 403 Missing Permissions)",
    )
    status = await services.digests.status(sandbox.guild_id)
    if not demo.expect(status is not None and status.next_run_at, "tomorrow's post is scheduled"):
        return
    assert status is not None and status.next_run_at is not None
    tomorrow: dt.datetime = status.next_run_at
    outcomes: list[str] = []
    with demo.log_lines("bot.digests") as logged:
        for step in range(8):
            report = await services.digests.tick(now=tomorrow + dt.timedelta(minutes=10 * step))
            outcomes += list(report.outcomes.elements())
    demo.show(
        "the worker",
        "tries tomorrow's digest when due, then every 10 minutes; the log says",
        text="\n".join(logged) or "(nothing)",
    )
    demo.expect(outcomes == ["retry", "retry", "paused"], "three refusals in a row pause it")
    reply = await demo.command(admin, "digest status")
    demo.expect(reply, "/digest status says it is paused, and why", contains="paused")
    demo.expect(reply, "...with what to do", contains="/digest channel")

    await sandbox.discord.update_channel(channel_id, bot_can_post=True)
    reply = await demo.command(admin, "digest channel", {"channel": channel_id})
    demo.expect(reply, "running /digest channel again resumes it", contains="Daily digest on")
    report = await services.digests.tick(now=tomorrow + dt.timedelta(minutes=90))
    late = await posts()
    demo.show(
        "Encore",
        "posts tomorrow's digest straight away",
        text=sandbox.seen(late[-1]) if len(late) > len(posted) else "(nothing)",
    )
    demo.expect(report["sent"] == 1, "the paused day's digest is posted once it may")

    reply = await demo.command(admin, "digest empty-days", {"choice": "skip"})
    demo.expect(
        reply, "/digest empty-days skip: nothing on days without releases", contains="posts nothing"
    )
    reply = await demo.command(admin, "digest empty-days", {"choice": "post"})
    demo.expect(reply, "/digest empty-days post: a short note instead", contains="note")

    reply = await demo.command(admin, "digest off")
    demo.expect(reply, "/digest off stops the daily digest", contains="off")
    reply = await demo.command(admin, "digest status")
    demo.expect(reply, "/digest status says it is off", contains="Daily digest: off")
