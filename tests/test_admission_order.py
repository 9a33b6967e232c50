"""Acknowledgements before work when the bot is behind (bot/ui/admission.py).

Under heavy load a deferral needs several turns of the event loop to reach Discord, and every
running command's steps make each turn longer; commands were lost to Discord's 3 s while others'
work went on (README "Admission under load"). So while commands reach the bot late (more than
`fresh` s after their creation), no deferred command starts its work until the deferrals in
flight are answered. The deferrals here are answered when the test says so: no clock is involved.
"""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import discord

from bot.ui.admission import FRESH, Admission

LATE = 2.0  # s after its creation a command reaches the bot when the bot is behind
TURNS = 50  # loop turns given to a command that could start its work


class HeldResponse:
    """A deferral that Discord answers when `answer` is set."""

    def __init__(self) -> None:
        self.answer = asyncio.Event()
        self.answered = asyncio.Event()
        self._done = False

    def is_done(self) -> bool:
        return self._done

    async def defer(self, **kwargs: Any) -> None:
        await self.answer.wait()
        self._done = True
        self.answered.set()


class Interaction:
    type = discord.InteractionType.application_command

    def __init__(self, age: float) -> None:
        created = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=age)
        self.id = discord.utils.time_snowflake(created)
        self.extras: dict[Any, Any] = {}
        self.response = HeldResponse()


async def command(admission: Admission, interaction: Interaction, worked: list[int]) -> None:
    async with admission.admit(interaction) as admitted:  # type: ignore[arg-type]
        assert admitted
        worked.append(interaction.id)


async def turns(n: int = TURNS) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_work_waits_for_the_deferrals_in_flight_while_the_bot_is_behind() -> None:
    admission = Admission()
    first, second = Interaction(LATE), Interaction(LATE)
    worked: list[int] = []
    tasks = [asyncio.create_task(command(admission, one, worked)) for one in (first, second)]
    await turns()
    first.response.answer.set()  # the first is deferred; the second's deferral is in flight
    await first.response.answered.wait()
    await turns()
    assert worked == []  # its work waits: acknowledging the second comes first
    assert admission.behind
    second.response.answer.set()
    await asyncio.gather(*tasks)
    assert sorted(worked) == sorted([first.id, second.id])
    assert not admission.behind


async def test_a_bot_keeping_up_starts_work_beside_a_deferral_in_flight() -> None:
    admission = Admission(direct=0)  # deferred on arrival, yet fresh: the bot is not behind
    first, second = Interaction(0.0), Interaction(0.0)
    worked: list[int] = []
    tasks = [asyncio.create_task(command(admission, one, worked)) for one in (first, second)]
    await turns()
    first.response.answer.set()
    await first.response.answered.wait()
    await turns()
    assert worked == [first.id]  # not held: the second's deferral is simply in flight
    assert not admission.behind
    second.response.answer.set()
    await asyncio.gather(*tasks)
    assert len(worked) == 2


async def test_a_fresh_command_ends_the_hold() -> None:
    admission = Admission(direct=0)
    late, fresh = Interaction(LATE), Interaction(FRESH / 10)
    worked: list[int] = []
    held = asyncio.create_task(command(admission, late, worked))
    await turns()
    assert admission.behind  # its own deferral is in flight and it came late
    late.response.answer.set()
    await held
    assert worked == [late.id] and not admission.behind
    # Behind again: a late command's deferral in flight; then one arrives fresh, and work goes on.
    again = Interaction(LATE)
    waiting = asyncio.create_task(command(admission, again, worked))
    await turns()
    assert admission.behind
    caught_up = asyncio.create_task(command(admission, fresh, worked))
    await turns()
    assert not admission.behind
    again.response.answer.set()
    fresh.response.answer.set()
    await asyncio.gather(waiting, caught_up)
    assert sorted(worked) == sorted([late.id, again.id, fresh.id])
