"""When a bot can take a click: the harness never presses a button before its view is live.

discord.py stores a message's view (``ConnectionState.store_view``) only after the HTTP
call that sent the message has returned, so the moment the emulator has stored a reply
the bot may not listen to its buttons yet; a click injected then is dropped. A person
cannot click that fast: Discord shows the message after the bot's request completed.
:class:`BotViews` hooks the bot's view store and lets the harness wait, without sleeping,
until a click on ``(message, custom_id)`` would reach a view, a persistent view or a
``DynamicItem``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import discord


class BotViews:
    """Watches one discord.py client's view store."""

    def __init__(self, client: discord.Client) -> None:
        state = client._connection
        self._store = state._view_store
        self._changed = asyncio.Event()
        store_view = state.store_view

        def store_and_tell(view: Any, message_id: int | None = None) -> None:
            store_view(view, message_id)
            self._changed.set()
            self._changed = asyncio.Event()

        # an instance attribute shadows the method: every store_view of discord.py comes here
        setattr(state, "store_view", store_and_tell)  # noqa: B010

    def dispatchable(self, message_id: int, custom_id: str) -> bool:
        """Whether discord.py would hand a click on this component to the bot's code."""
        views = self._store._views
        for scope in (message_id, None):
            if any(cid == custom_id for _type, cid in views.get(scope, {})):
                return True
        return any(pattern.fullmatch(custom_id) for pattern in self._store._dynamic_items)

    async def wait_dispatchable(self, message_id: int, custom_id: str, timeout: float) -> bool:
        """True once a click would be dispatched; False if ``timeout`` passes first (a view
        that timed out, was stopped, or died with a restart: the click goes unanswered)."""
        deadline = time.monotonic() + timeout
        while not self.dispatchable(message_id, custom_id):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), left)
        return True
