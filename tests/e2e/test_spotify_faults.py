"""Spotify failing in every way it does: each command still answers in time, clearly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from sandbox.harness import Sandbox

# Commands that call Spotify, as a linked member would type them.
COMMANDS: list[tuple[str, dict[str, Any]]] = [
    ("playlists", {}),
    ("playlist", {"name": "Road Trip"}),
    ("search", {"query": "love"}),
    ("like", {}),
    ("shuffle start", {"source": "liked"}),
    ("likes-import", {}),
]

FAULTS: list[tuple[str, dict[str, Any], str]] = [
    ("500", {"status": 500}, "not answering"),
    ("timeout", {"delay": 4}, "not answering"),
    ("429, 2 s", {"status": 429, "retry_after": 2}, "try again in 2 s"),
    ("429, an hour", {"status": 429, "retry_after": 3600}, "try again in 60 min"),
    ("quota", {"status": 429, "retry_after": 600, "reason": "QUOTA_EXCEEDED"}, "quota"),
]


@pytest.fixture
async def linked(clean_database: str) -> AsyncIterator[tuple[Sandbox, int]]:
    # A short Spotify timeout keeps the "timeout" case quick; commands must still answer.
    async with Sandbox(clean_database, settings={"spotify_timeout": 2.0}) as sandbox:
        alice = await sandbox.user("alice")
        assert (await sandbox.link(alice, "alice")).status == 200
        yield sandbox, alice


@pytest.mark.parametrize(("label", "fault", "expected"), FAULTS, ids=[f[0] for f in FAULTS])
async def test_every_spotify_command_answers_in_time_with_a_clear_message(
    linked: tuple[Sandbox, int], label: str, fault: dict[str, Any], expected: str
) -> None:
    sandbox, alice = linked
    await sandbox.spotify.add_fault(path="^/v1/", **fault)
    for name, options in COMMANDS:
        reply = await sandbox.slash(alice, name, options, timeout=20)
        assert reply.record["response"] is not None, name
        assert not reply.late, f"/{name} answered after Discord's deadline"
        assert expected in reply.text.lower() or expected in reply.text, f"/{name}: {reply.text}"
        assert "incident" not in reply.text, f"/{name}: {reply.text}"
    # No thread is stuck: once Spotify recovers, the same member is served at once.
    await sandbox.spotify.clear_faults()
    reply = await sandbox.slash(alice, "playlists")
    assert "Road Trip" in reply.text
