"""Answer directly when the work is quick, defer only when it is not (bot/ui/admission.py).

A command that finds a free slot starts at once with a deferral timer beside it: answered
first, its one callback is the acknowledgement and the answer (the emulator records both at
once); otherwise the timer defers it and the answer follows up, recorded after the deferral.
Every first response and the timer's deferral go through one gate, so Discord (the emulator,
which refuses a second callback with 400 40060) never gets two.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.ui.admission import Admission
from sandbox.harness import Sandbox


def sent_once(record: dict[str, Any]) -> bool:
    return not record["extra_acks"] and not record["late_responses"]


async def settled(sandbox: Sandbox, interaction_id: str) -> dict[str, Any]:
    """The interaction's record once the bot has finished with every command (a deferral
    timer that would fire late has had its chance)."""
    deadline = time.monotonic() + 15
    while sandbox.bot.admission.active and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert sandbox.bot.admission.active == 0
    return await sandbox.discord.interaction(interaction_id)


async def callbacks(sandbox: Sandbox, interaction_id: str) -> int:
    return len(await sandbox.discord.requests(path=f"/interactions/{interaction_id}/"))


async def test_a_quick_command_is_answered_in_its_one_callback(sandbox: Sandbox) -> None:
    # A wide window, so a busy test machine does not turn the quick command slow.
    sandbox.bot.admission = Admission(direct=2.0, horizon=2.5)
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")

    reply = await sandbox.slash(alice, "account")

    record = await settled(sandbox, reply.record["id"])
    assert "Alice" in reply.text and reply.ephemeral
    assert record["response"]["type"] == 4
    assert record["answered_at"] == record["response"]["at"]  # acknowledged and answered
    assert record["followups"] == [] and record["edits"] == [] and sent_once(record)
    assert await callbacks(sandbox, record["id"]) == 1


async def test_a_slow_command_is_deferred_then_followed_up(sandbox: Sandbox) -> None:
    sandbox.bot.admission = Admission(direct=0.2)
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    await sandbox.spotify.add_fault("/v1/me/playlists", delay=1.5)  # a slow Spotify

    reply = await sandbox.slash(alice, "playlists")

    record = await settled(sandbox, reply.record["id"])
    assert reply.message and reply.ephemeral
    assert record["response"]["type"] == 5  # the timer's deferral, then the answer
    assert len(record["followups"]) == 1
    assert record["answered_at"] >= record["response"]["at"]
    assert sent_once(record) and await callbacks(sandbox, record["id"]) == 1


async def test_a_deferral_due_while_the_answer_is_on_its_way_is_not_sent(
    sandbox: Sandbox,
) -> None:
    # The answer's callback is accepted at once but its reply takes 2 s to come back, so
    # the 0.5 s timer fires while it is in flight: the gate makes it wait, then see the
    # interaction answered. Without the gate its deferral would be refused (40060).
    sandbox.bot.admission = Admission(direct=0.5, horizon=2.5)
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    await sandbox.discord.settings(callback_delay_s=2.0)

    reply = await sandbox.slash(alice, "account")

    record = await settled(sandbox, reply.record["id"])
    assert "Alice" in reply.text
    assert record["response"]["type"] == 4 and record["followups"] == []
    assert sent_once(record) and await callbacks(sandbox, record["id"]) == 1


async def test_under_load_every_command_is_deferred_on_arrival(sandbox: Sandbox) -> None:
    # No free slot: deferred at once, exactly as acknowledge-first admission does.
    sandbox.bot.admission = Admission(running=1)
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    await sandbox.spotify.add_fault("/v1/me/playlists", delay=1.0)
    slow = await sandbox.discord.command(
        "playlists", alice, guild_id=sandbox.guild_id, channel_id=sandbox.channel_id
    )
    await sandbox.discord.interaction(slow["id"], wait=5)  # it holds the one slot

    queued = await sandbox.slash(alice, "account")

    assert (await sandbox.reply(slow["id"])).message
    record = await settled(sandbox, queued.record["id"])
    assert record["response"]["type"] == 5 and "Alice" in queued.text
    assert len(record["followups"]) == 1 and sent_once(record)
