"""What the app asks of its engine: transactions begun and statements run, counted by hooks on
the engine itself (no timing). Tests use it to pin how many round trips a read costs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass
class EngineActivity:
    checkouts: int = 0  # connections taken from the pool: sessions, and advisory locks
    transactions: int = 0  # BEGINs on a pooled connection: one per session used
    statements: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.checkouts = 0
        self.transactions = 0
        self.statements.clear()


@contextmanager
def engine_activity(engine: AsyncEngine) -> Iterator[EngineActivity]:
    activity = EngineActivity()
    sync = engine.sync_engine

    def began(connection: Any) -> None:
        activity.transactions += 1

    def checked_out(*args: Any) -> None:
        activity.checkouts += 1

    def executed(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        activity.statements.append(statement)

    event.listen(sync, "begin", began)
    event.listen(sync.pool, "checkout", checked_out)
    event.listen(sync, "before_cursor_execute", executed)
    try:
        yield activity
    finally:
        event.remove(sync, "begin", began)
        event.remove(sync.pool, "checkout", checked_out)
        event.remove(sync, "before_cursor_execute", executed)
