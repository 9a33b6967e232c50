"""Pressing a button and waiting for what that press changed.

`Sandbox.click` returns as soon as the message shows any edit, and a message already
turned once has one: pressing twice could read the first press's page. `press` waits
for this interaction's own answer (its edit, followup or message) first.
"""

from __future__ import annotations

import asyncio
import time

from sandbox.harness import Reply, Sandbox


async def press(
    sandbox: Sandbox, user: int, reply: Reply, label: str, *, timeout: float = 15.0
) -> Reply:
    injected = await sandbox.discord.click(
        str(reply.button(label)["custom_id"]), user, message_id=reply.message_id
    )
    deadline = time.monotonic() + timeout
    while True:
        record = await sandbox.discord.interaction(injected["id"], wait=timeout)
        response = record.get("response") or {}
        answered = record.get("edits") or record.get("followups") or response.get("type") == 4
        if answered or time.monotonic() >= deadline:
            return await sandbox.reply(injected["id"], timeout=timeout)
        await asyncio.sleep(0.05)  # polling for the edit, as Sandbox.reply does
