"""Fixtures for the Spotify emulator's tests: an emulator in the strict world (the messy
catalogue, development mode, Spotify's search window) unless a test asks otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.spotify import SpotifyControl, SpotifyEmulator

from .clients import TODAY
from .openapi import SchemaChecker

ROOT = Path(__file__).resolve().parents[3]
SPEC_PLACES = (
    ROOT.parent / "shared" / "specs" / "spotify" / "openapi.yml",  # beside the clone
    ROOT / "specs" / "spotify" / "openapi.yml",  # a vendored copy
)


def strict_emulator(**options: Any) -> SpotifyEmulator:
    chosen: dict[str, Any] = {
        "today": TODAY,
        "catalogue": "messy",
        "development_mode": True,
        "search_window": "spotify",
    }
    chosen.update(options)
    return SpotifyEmulator(**chosen)


@pytest.fixture
async def emu() -> AsyncIterator[SpotifyEmulator]:
    e = strict_emulator()
    await e.start()
    yield e
    await e.stop()


@pytest.fixture
async def ctl(emu: SpotifyEmulator) -> AsyncIterator[SpotifyControl]:
    async with SpotifyControl(emu.base_url or "") as c:
        yield c


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    """Spotify's own OpenAPI spec; a missing spec is a failure, never a skip."""
    for place in SPEC_PLACES:
        if place.is_file():
            loaded: dict[str, Any] = yaml.safe_load(place.read_text())
            return loaded
    pytest.fail(
        "Spotify's OpenAPI spec is missing: expected it at "
        + " or ".join(str(p) for p in SPEC_PLACES)
    )


@pytest.fixture(scope="session")
def checker(spec: dict[str, Any]) -> SchemaChecker:
    return SchemaChecker(spec)
