"""What each command costs the database, counted on the bot's engine (no timing): one
session per interaction where a command used to open several, and none for a kept answer."""

from __future__ import annotations

from typing import Any

from sandbox.harness import Sandbox
from tests.engine_activity import EngineActivity, engine_activity


async def command(sandbox: Sandbox, user: int, name: str, **options: Any) -> EngineActivity:
    with engine_activity(sandbox.services.engine) as activity:
        reply = await sandbox.slash(user, name, options)
    assert not reply.late and "incident" not in reply.text, reply.text
    return activity


async def test_each_command_opens_one_session_and_a_kept_answer_none(sandbox: Sandbox) -> None:
    await sandbox.services.releases.ingest()
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    playlist = await sandbox.spotify.create_playlist(owner="alice", name="Road trip", tracks=30)
    await sandbox.slash(alice, "shuffle start", {"source": playlist["id"]})
    await sandbox.slash(alice, "shuffle next")  # this process has checked the playlist now

    first = await command(sandbox, alice, "releases")
    assert first.checkouts == first.transactions == 1  # the version and the answer together
    again = await command(sandbox, alice, "releases")
    assert (again.checkouts, again.statements) == (0, [])  # kept, version known this second

    for name in ("account", "np", "likes"):
        used = await command(sandbox, alice, name)
        # One pooled connection, no transaction: their reads run on the driver itself
        # (db.engine.DriverReads, no BEGIN and no SQLAlchemy execution to count).
        assert (used.checkouts, used.transactions) == (1, 0), (name, used.statements)

    dealt = await command(sandbox, alice, "shuffle next", count=3)
    # Checked lately (the playlist's check on Spotify runs now and then, never inside a
    # transaction): the current queue is found and dealt in one transaction, under its lock.
    assert dealt.checkouts == dealt.transactions == 1, dealt.statements
