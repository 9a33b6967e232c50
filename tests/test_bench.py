"""The benchmarks stay runnable: the quick ones start and finish on small sizes, and a bench
that made Discord refuse a body fails loudly (its figures would measure nothing)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any, cast

import pytest

from bench.report import discord_refusals, verdict
from sandbox.discord import DiscordControl

BENCH = Path(__file__).resolve().parent.parent / "bench"


class RefusingDiscord:
    """The control API's answer after one refused and one accepted-but-odd request."""

    async def errors(self) -> list[dict[str, Any]]:
        return [
            {"code": 50035, "method": "POST", "path": "/channels/1/messages", "errors": {"a": 1}},
            {"code": 50013, "method": "POST", "path": "/channels/2/messages"},
            {"kind": "control", "message": "not synced"},
        ]


async def test_a_body_discord_refused_makes_the_bench_fail_with_a_fail_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    refused = await discord_refusals(cast(DiscordControl, RefusingDiscord()))

    assert refused == ["POST /channels/1/messages: {'a': 1}"]
    assert verdict(refused) == 1
    assert "FAIL: the Discord emulator refused 1 bodies with 400 50035" in capsys.readouterr().out
    assert verdict([]) == 0
    assert "none refused" in capsys.readouterr().out


@pytest.mark.parametrize(
    "script", ["shuffle_rollover.py", "shuffle_quality.py", "api_artists.py", "spotify_client.py"]
)
async def test_a_quick_bench_starts_and_finishes(script: str) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(BENCH / script),
        "--quick",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(child.communicate(), 120)
    assert child.returncode == 0, output.decode()
