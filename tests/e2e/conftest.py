"""End-to-end fixtures: the real bot against both emulators, on a clean real database.

Every e2e test ends with a check: no Discord emulator it started refused a body with
`400 50035` (Invalid Form Body). Real Discord would refuse the same message; a test that
provokes one on purpose says so with `@pytest.mark.discord_refusal_expected`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from sandbox.discord import DiscordEmulator
from sandbox.harness import Sandbox

INVALID_FORM_BODY = 50035


def refusals(emulator: DiscordEmulator) -> list[dict[str, Any]]:
    """What this emulator refused as Discord refuses a body it will not take."""
    return [e for e in emulator.world.errors if e.get("code") == INVALID_FORM_BODY]


@pytest.fixture(autouse=True)
def no_body_discord_refuses(request: pytest.FixtureRequest) -> Iterator[None]:
    before = set(map(id, DiscordEmulator.made))
    yield
    if request.node.get_closest_marker("discord_refusal_expected"):
        return
    refused = [
        f"{e.get('method')} {e.get('path')}: {e.get('errors')}"
        for emulator in list(DiscordEmulator.made)
        if id(emulator) not in before
        for e in refusals(emulator)
    ]
    assert not refused, "Discord would refuse these bodies (400 50035):\n" + "\n".join(refused)


@pytest.fixture
async def sandbox(clean_database: str) -> AsyncIterator[Sandbox]:
    async with Sandbox(clean_database) as running:
        yield running
