"""The Discord emulator records when a deferred command's answer appeared (what benches time
as the final answer), not only when it was acknowledged."""

from __future__ import annotations

from sandbox.harness import Sandbox


async def test_a_deferred_commands_answer_time_is_recorded_after_its_acknowledgement(
    sandbox: Sandbox,
) -> None:
    alice = await sandbox.user("alice")
    await sandbox.link(alice, "alice")
    reply = await sandbox.slash(alice, "playlists")  # defers, asks Spotify, then answers
    record = reply.record
    assert record["response"]["type"] == 5
    assert record["answered_at"] is not None
    assert record["answered_at"] >= record["response"]["at"]

    # Every command is acknowledged first (bot/ui/admission.py), so even /account, which
    # needs no Spotify call, shows its answer after the deferral.
    account = (await sandbox.slash(alice, "account")).record
    assert account["response"]["type"] == 5
    assert account["answered_at"] is not None
    assert account["answered_at"] >= account["response"]["at"]
