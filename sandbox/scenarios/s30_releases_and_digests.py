"""New releases and the daily digest: the local copy, /releases, and an admin setting up /digest."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

from sandbox.demo import Demo

SEND_MESSAGES = 1 << 11

TITLE = "New releases and the daily digest"


async def run(demo: Demo) -> None:
    sandbox = demo.sandbox
    services = sandbox.services
    alice, bob, admin = demo.people["alice"], demo.people["bob"], demo.people["admin"]

    # The worker ingests on its own schedule; here it is asked directly.
    outcome = await services.releases.ingest()
    for _ in range(150):  # the scheduler's run at start may hold the lock: wait for it
        if outcome.status != "skipped" or await services.releases.last_success():
            break
        await asyncio.sleep(0.2)
    stored = await services.releases.count()
    demo.show(
        "the worker",
        "ingests new releases from Spotify",
        text=f"{outcome.status} via {outcome.source or 'the run already under way'}: "
        f"{stored} releases in the local copy",
    )
    demo.expect(stored > 0, "the local copy holds the new releases")
    browse = await sandbox.spotify.requests(path=r"^/v1/browse/new-releases")
    tagged = [
        r
        for r in await sandbox.spotify.requests(path=r"^/v1/search")
        if r["query"].get("q") == "tag:new"
    ]
    demo.show(
        "Spotify",
        "answers the worker (this app is in development mode, as every app since February 2026)",
        text=f"GET /v1/browse/new-releases → {browse[0]['status'] if browse else 'not asked'}; "
        f"GET /v1/search?q=tag:new&type=album → {len(tagged)} pages of albums of the last two "
        "weeks",
    )
    demo.expect(
        bool(browse) and all(r["status"] == 403 for r in browse) and bool(tagged),
        "new-releases is refused in development mode: Encore reads search tag:new instead",
    )

    before = len(await sandbox.spotify.requests(path="^/v1/"))
    reply = await demo.command(alice, "releases", {"limit": 10})
    demo.expect(reply, "/releases groups the latest releases by artist", contains="latest releases")
    demo.expect(
        len(await sandbox.spotify.requests(path="^/v1/")) == before,
        "/releases reads the local copy: no Spotify call",
    )

    guild = await sandbox.discord.guild(sandbox.guild_id)
    channel_id = next(int(c["id"]) for c in guild["channels"] if c["name"] == "new-releases")

    reply = await demo.command(bob, "digest channel", {"channel": channel_id})
    demo.expect(reply, "a member without Manage Server is refused", contains="permission")

    # The channel lets only a role post, and the bot does not have it yet.
    poster = await sandbox.discord.create_role(sandbox.guild_id, "Encore poster")
    await sandbox.discord.update_channel(
        channel_id,
        permission_overwrites=[
            {"id": sandbox.guild_id, "type": 0, "allow": 0, "deny": SEND_MESSAGES},
            {"id": poster["id"], "type": 0, "allow": SEND_MESSAGES, "deny": 0},
        ],
    )
    reply = await demo.command(admin, "digest channel", {"channel": channel_id})
    demo.expect(
        reply,
        "a channel where Encore may not post: the admin is told what to fix",
        contains="Send Messages",
    )
    await sandbox.discord.give_bot_role(sandbox.guild_id, poster["id"])
    demo.show("the admin", "gives Encore the role that may post there (no reconnect)")
    reply = await demo.command(admin, "digest channel", {"channel": channel_id})
    demo.expect(
        reply,
        "the admin picks the channel again: Encore asks Discord afresh, the digest is on",
        contains="Daily digest on",
    )

    reply = await demo.command(admin, "digest time", {"time": "7 o'clock"})
    demo.expect(reply, "a time that is not HH:MM is explained", contains="HH:MM")
    # A few minutes from now in Berlin, so the demo can show the post being due.
    soon = dt.datetime.now(ZoneInfo("Europe/Berlin")) + dt.timedelta(minutes=5)
    reply = await demo.command(admin, "digest time", {"time": f"{soon:%H:%M}"})
    demo.expect(reply, "the admin sets the local time", contains=f"{soon:%H:%M}")

    zones = await demo.autocomplete(admin, "digest timezone", "timezone", {"timezone": "berl"})
    demo.expect("Europe/Berlin" in zones, "time zones are suggested as you type")
    reply = await demo.command(admin, "digest timezone", {"timezone": "Europe/Berlin"})
    demo.expect(reply, "the admin sets the time zone", contains="Europe/Berlin")

    reply = await demo.command(admin, "digest preview")
    demo.expect(reply, "the preview renders today's digest", contains="New releases for")
    demo.expect(reply.ephemeral, "only the admin sees the preview")

    reply = await demo.command(admin, "digest status")
    demo.expect(reply, "/digest status gives the next post, local and UTC", contains="UTC")

    status = await services.digests.status(sandbox.guild_id)
    demo.expect(status is not None and status.next_run_at is not None, "the next post is scheduled")
    if status is None or status.next_run_at is None:
        return
    # Five minutes pass: run the worker's tick as of the post time.
    report = await services.digests.tick(now=status.next_run_at)
    posts = [
        m for m in await sandbox.discord.messages(channel_id=channel_id) if m["kind"] == "channel"
    ]
    demo.show(
        "Encore",
        f"posts in #new-releases at {status.next_run_at:%H:%M} UTC",
        text=demo.sandbox.seen(posts[-1]) if posts else None,
    )
    demo.expect(report["sent"] == 1 and len(posts) == 1, "the digest is posted once, when due")
    again = await services.digests.tick(now=status.next_run_at + dt.timedelta(minutes=1))
    demo.expect(again["sent"] == 0, "a second tick the same day posts nothing more")
    reply = await demo.command(admin, "digest status")
    demo.expect(reply, "/digest status shows the last post", contains="Last post")
