"""The one gate through which a command's first response and admission's deferral timer go
(bot/ui/admission.py, bot/ui/messages.py), with the interaction's requests made slow on
purpose so the timer fires while the answer is in flight. Discord refuses a second callback
(400 40060, enforced by the emulator: tests/sandbox/discord_emulator/test_interaction_rules.py);
here a fake records every callback, in order."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import discord

from bot.ui.admission import Admission
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

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.id = discord.utils.time_snowflake(datetime.datetime.now(datetime.UTC))
        self.extras: dict[Any, Any] = {}
        self.response = FakeResponse(self.sent)
        self.followup = FakeFollowup(self.sent)

    async def edit_original_response(self, **kwargs: Any) -> None:
        assert self.response.is_done(), "no original response to edit"
        self.sent.append("edit")


async def run(admission: Admission, work: Any) -> list[str]:
    interaction: Any = FakeInteraction()
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
