"""The one gate through which a command's first response and admission's deferral timer go
(bot/ui/admission.py, bot/ui/messages.py), with the interaction's requests made slow on
purpose so the timer fires while the answer is in flight. Discord refuses a second callback
(400 40060, enforced by the emulator: tests/sandbox/discord_emulator/test_interaction_rules.py);
here a fake records every callback, in order."""

from __future__ import annotations

import asyncio
import datetime
from types import SimpleNamespace
from typing import Any

import discord

from bot.client import EncoreBot
from bot.ui.admission import DIRECT, Admission
from bot.ui.messages import edit, reply

FLIGHT = 0.2  # s each of the fake interaction's requests takes
TIMER = 0.05  # s the admission waits before deferring: well inside a request's flight


class FakeResponse:
    def __init__(self, sent: list[str]) -> None:
        self._sent = sent
        self._done = False

    def is_done(self) -> bool:
        return self._done

    async def _callback(self, kind: str) -> None:
        if self._done:
            raise discord.InteractionResponded(None)  # type: ignore[arg-type]
        self._sent.append(kind)
        await asyncio.sleep(FLIGHT)
        if self._done:  # what Discord answers a second callback: 40060
            self._sent.append(f"{kind} refused (already acknowledged)")
            return
        self._done = True

    async def send_message(self, content: str | None = None, **kwargs: Any) -> None:
        await self._callback("answer")

    async def defer(self, **kwargs: Any) -> None:
        await self._callback("deferral")


class FakeFollowup:
    def __init__(self, sent: list[str]) -> None:
        self._sent = sent

    async def send(self, content: Any = None, **kwargs: Any) -> None:
        self._sent.append("followup")
        await asyncio.sleep(FLIGHT)


class FakeInteraction:
    type = discord.InteractionType.application_command

    def __init__(self, age: float = 0.0) -> None:
        self.sent: list[str] = []
        created = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=age)
        self.id = discord.utils.time_snowflake(created)
        self.extras: dict[Any, Any] = {}
        self.response = FakeResponse(self.sent)
        self.followup = FakeFollowup(self.sent)

    async def edit_original_response(self, **kwargs: Any) -> None:
        assert self.response.is_done(), "no original response to edit"
        self.sent.append("edit")


async def run(admission: Admission, work: Any, *, age: float = 0.0) -> list[str]:
    interaction: Any = FakeInteraction(age)
    async with admission.admit(interaction) as admitted:
        assert admitted
        await work(interaction)
    await asyncio.sleep(2 * FLIGHT)  # a timer that outlived the command would show now
    return list(interaction.sent)


async def test_an_answer_in_flight_when_the_timer_fires_is_the_only_callback() -> None:
    async def quick(interaction: Any) -> None:
        await reply(interaction, "at once")  # its request is in flight past TIMER

    sent = await run(Admission(direct=TIMER), quick)

    assert sent == ["answer"]


async def test_a_command_slower_than_the_timer_is_deferred_then_followed_up() -> None:
    async def slow(interaction: Any) -> None:
        await asyncio.sleep(TIMER * 2)
        await reply(interaction, "later")  # while the deferral is in flight

    sent = await run(Admission(direct=TIMER), slow)

    assert sent == ["deferral", "followup"]


async def test_a_first_edit_defers_through_the_gate() -> None:
    async def progress(interaction: Any) -> None:
        await edit(interaction, content="working…")
        await reply(interaction, "done")

    assert await run(Admission(direct=TIMER), progress) == ["deferral", "edit", "followup"]


async def test_under_load_a_command_is_deferred_before_it_runs() -> None:
    admission = Admission(running=1, direct=TIMER)
    blocker: Any = FakeInteraction()
    started = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with admission.admit(blocker):
            started.set()
            await release.wait()
            await reply(blocker, "first")

    holding = asyncio.create_task(hold())
    await started.wait()
    second: Any = FakeInteraction()

    async def queued() -> None:
        async with admission.admit(second) as admitted:
            assert admitted
            await reply(second, "second")

    waiting = asyncio.create_task(queued())
    await asyncio.sleep(FLIGHT * 1.5)  # its deferral went out at once, before any slot
    assert second.sent == ["deferral"]
    release.set()
    await asyncio.gather(holding, waiting)
    assert second.sent == ["deferral", "followup"]
    assert blocker.sent == ["deferral", "followup"]  # its timer fired while it waited


async def test_defer_on_arrival_when_the_direct_window_is_off() -> None:
    async def quick(interaction: Any) -> None:
        await reply(interaction, "at once")

    assert await run(Admission(direct=0), quick) == ["deferral", "followup"]


async def test_an_interaction_that_reached_us_late_is_deferred_on_arrival() -> None:
    # Created 0.5 s before it reached the command tree: the event loop is lagging.
    async def quick(interaction: Any) -> None:
        await reply(interaction, "at once")

    sent = await run(Admission(direct=TIMER, fresh=0.25), quick, age=0.5)

    assert sent == ["deferral", "followup"]


async def test_only_a_few_commands_run_unacknowledged_at_once() -> None:
    admission = Admission(direct=1.0, direct_running=2)
    release = asyncio.Event()
    interactions: list[Any] = [FakeInteraction() for _ in range(3)]
    inside = 0

    async def one(interaction: Any) -> None:
        nonlocal inside
        async with admission.admit(interaction):
            inside += 1
            await release.wait()
            await reply(interaction, "answer")

    tasks = [asyncio.create_task(one(interaction)) for interaction in interactions]
    while inside < 3:
        await asyncio.sleep(0.01)
    release.set()
    await asyncio.gather(*tasks)

    assert [i.sent for i in interactions] == [["answer"], ["answer"], ["deferral", "followup"]]


def test_direct_answers_follow_the_setting() -> None:
    for setting, direct in ((True, DIRECT), (False, 0)):
        services: Any = SimpleNamespace(settings=SimpleNamespace(direct_answers=setting))
        assert EncoreBot(services, cogs=[]).admission.direct == direct
