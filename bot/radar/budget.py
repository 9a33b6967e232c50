"""The radar's share of Spotify's quota, kept in PostgreSQL for every worker: a token bucket
(`radar_budget`) the checker draws from before each call, which the watchlist refreshes
pay into afterwards, and the pause after a 429 that every worker honours."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import RadarBudget

BUDGET = "checker"


async def charge(session: AsyncSession, calls: int) -> None:
    """Take `calls` already made from the bucket (it may go below zero: checks then wait)."""
    if calls:
        await session.execute(
            update(RadarBudget)
            .where(RadarBudget.name == BUDGET)
            .values(tokens=RadarBudget.tokens - calls, calls=RadarBudget.calls + calls)
        )


async def paused(session: AsyncSession, now: dt.datetime) -> bool:
    """Whether Spotify asked every worker to wait (a 429's `Retry-After`, a quota refusal)."""
    until = await session.scalar(select(RadarBudget.paused_until).where(RadarBudget.name == BUDGET))
    return until is not None and until > now
