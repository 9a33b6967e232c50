"""Deletion is final: `/forget-me` and every write about one user agree through PostgreSQL.

Forget-me deletes every row about a user in one transaction that first takes the user's
erasure lock *exclusively* (`pg_advisory_xact_lock`). Every transaction that writes about a
user takes the same lock *shared* (`pg_advisory_xact_lock_shared`) before it touches
anything, so writes of one user never wait for each other, and a write and the erasure
never interleave: the write commits before the erasure starts (and is deleted with the
rest), or it starts after the erasure committed.

A write that starts after the erasure is either a new request by the person (a `/link`, a
`/like`: they came back), or the tail of work that began before it (an import's next page,
a shuffle built from a playlist read earlier, a token refresh, a link callback). The tail is
told apart by its anchor: work that spans transactions carries the generation of the
user's Spotify link it started under (`spotify_links.generation`, drawn afresh each time
the row is created) and writes only while that generation still holds (`still_linked`);
the link callback is anchored on its link request, which the erasure deleted. So nothing
about the user is written after forget-me returns, even by work already in flight.

Both locks are transaction-level: they end with the transaction, whatever happens.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.locks import lock_key
from db.models import USER_TABLES, SpotifyLink

ERASURE_LOCK = "user-erasure"  # advisory lock purpose, one key per Discord user


async def writing_about(session: AsyncSession, *discord_user_ids: int) -> None:
    """Take the erasure lock of each user, shared, for the rest of this transaction.

    Call it first in a transaction that writes about users (before any row is locked), so
    an erasure never waits on a row this transaction holds while it waits on the erasure.
    Several users are locked in a fixed order.
    """
    for user in sorted(set(discord_user_ids)):
        await session.execute(select(func.pg_advisory_xact_lock_shared(_key(user))))


async def still_linked(session: AsyncSession, discord_user_id: int, generation: int) -> bool:
    """After `writing_about`: whether the link that work started under still holds."""
    current = await session.scalar(
        select(SpotifyLink.generation).where(SpotifyLink.discord_user_id == discord_user_id)
    )
    return current == generation


async def link_generation(session: AsyncSession, discord_user_id: int) -> int | None:
    """The generation of the user's link now (None: not linked): where work starts from."""
    found: int | None = await session.scalar(
        select(SpotifyLink.generation).where(SpotifyLink.discord_user_id == discord_user_id)
    )
    return found


async def erase(session: AsyncSession, discord_user_id: int) -> int:
    """Delete every row about the user, in every table that has one; the rows deleted.

    Waits for the user's writes in progress to commit, and holds off new ones until this
    transaction ends.
    """
    await session.execute(select(func.pg_advisory_xact_lock(_key(discord_user_id))))
    deleted = 0
    for table in USER_TABLES:
        result = await session.execute(
            delete(table).where(table.c.discord_user_id == discord_user_id)
        )
        deleted += result.rowcount  # type: ignore[attr-defined]
    return deleted


def _key(discord_user_id: int) -> int:
    return lock_key(ERASURE_LOCK, discord_user_id)
