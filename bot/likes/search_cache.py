"""Autocomplete's track search: each text asked of Spotify at most once a minute, and never
waited for longer than Discord allows."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from bot.clock import Clock
from bot.errors import EncoreError
from bot.music import Track


def normalise(text: str) -> str:
    return " ".join(text.split()).lower()


@dataclass
class _Search:
    task: asyncio.Task[list[Track]]
    expires_at: dt.datetime


class TrackSearchCache:
    """Autocomplete's Spotify search: at most one search per normalised text in `ttl`.

    Every keystroke asks; only a text not seen recently reaches Spotify. An answer that
    takes longer than `budget` is not waited for (the search goes on and fills the cache
    for the next keystroke), so autocomplete always answers within Discord's 3 s.
    """

    def __init__(
        self,
        search: Callable[[str], Coroutine[Any, Any, list[Track]]],
        clock: Clock,
        *,
        ttl: dt.timedelta = dt.timedelta(seconds=60),
        budget: float = 2.0,
        max_entries: int = 1024,
    ) -> None:
        self._search = search
        self._clock = clock
        self._ttl = ttl
        self._budget = budget
        self._max_entries = max_entries
        self._entries: dict[str, _Search] = {}

    async def tracks(self, text: str) -> list[Track]:
        key = normalise(text)
        now = self._clock.now()
        entry = self._entries.get(key)
        if entry is None or entry.expires_at <= now:
            entry = _Search(asyncio.create_task(self._search(key)), now + self._ttl)
            entry.task.add_done_callback(functools.partial(self._forget_failure, key))
            self._entries[key] = entry
            self._trim(now)
        try:
            return await asyncio.wait_for(asyncio.shield(entry.task), timeout=self._budget)
        except TimeoutError:
            return []  # Spotify is slow: answer now, the result will be cached
        except EncoreError:
            return []

    def _forget_failure(self, key: str, task: asyncio.Task[list[Track]]) -> None:
        # A failed search is not cached (the next keystroke may try again), and its
        # exception is retrieved here so asyncio does not log it as forgotten.
        if task.cancelled() or task.exception() is not None:
            entry = self._entries.get(key)
            if entry is not None and entry.task is task:
                del self._entries[key]

    def _trim(self, now: dt.datetime) -> None:
        if len(self._entries) <= self._max_entries:
            return
        for key in [k for k, e in self._entries.items() if e.expires_at <= now]:
            del self._entries[key]
        while len(self._entries) > self._max_entries:
            del self._entries[next(iter(self._entries))]  # the oldest: dicts keep order
