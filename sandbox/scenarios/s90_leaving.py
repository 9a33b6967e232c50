"""Leaving: /unlink forgets the Spotify tokens and keeps the likes; /forget-me deletes every
row about the member, after a confirmation only they can give."""

from __future__ import annotations

from sqlalchemy import func, select

from db.models import USER_TABLES
from sandbox.demo import Demo

TITLE = "Leaving: /unlink and /forget-me"


async def rows_about(demo: Demo, user: int) -> int:
    count = 0
    async with demo.sandbox.services.sessions() as session:
        for table in USER_TABLES:
            count += int(
                await session.scalar(
                    select(func.count()).select_from(table).where(table.c.discord_user_id == user)
                )
                or 0
            )
    return count


async def run(demo: Demo) -> None:
    alice, bob = demo.people["alice"], demo.people["bob"]

    reply = await demo.command(bob, "unlink")
    demo.expect(reply, "/unlink forgets bob's Spotify tokens", contains="unlinked")
    reply = await demo.command(bob, "account")
    demo.expect(reply, "bob is no longer linked", contains="/link")
    reply = await demo.command(bob, "likes")
    demo.expect(reply, "his likes stay in Encore", contains="Your likes")

    before = await rows_about(demo, alice)
    reply = await demo.command(alice, "forget-me")
    demo.expect(reply, "/forget-me asks first", contains="cannot be undone")
    demo.expect(await rows_about(demo, alice) == before, "nothing is deleted before she confirms")
    done = await demo.click(alice, reply, "Delete everything")
    demo.expect(done, "alice confirms: everything about her is deleted", contains="deleted")
    demo.expect(
        before > 0 and await rows_about(demo, alice) == 0,
        f"no table holds a row about alice any more ({before} rows before)",
    )
    reply = await demo.command(alice, "account")
    demo.expect(reply, "she can /link again, afresh", contains="/link")
