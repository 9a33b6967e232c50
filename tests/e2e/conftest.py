"""End-to-end fixtures: the real bot against both emulators, on a clean real database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandbox.harness import Sandbox


@pytest.fixture
async def sandbox(clean_database: str) -> AsyncIterator[Sandbox]:
    async with Sandbox(clean_database) as running:
        yield running
