"""The demo script, run as a test: every scenario's expected answers hold."""

from __future__ import annotations

import io

from sandbox.demo import play
from sandbox.harness import Sandbox


async def test_the_demo_script_passes_every_step(clean_database: str) -> None:
    transcript = io.StringIO()
    async with Sandbox(clean_database, scheduler=True) as sandbox:
        demo = await play(sandbox, out=transcript)
    assert demo.failures == [], transcript.getvalue()
    assert demo.steps >= 8
