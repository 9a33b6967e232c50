"""Single-flight: concurrent misses of one key are computed once, and share the outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.single_flight import KeptAnswers, SingleFlight


async def test_concurrent_callers_of_one_key_share_one_computation() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    release = asyncio.Event()
    computed = 0

    async def compute() -> int:
        nonlocal computed
        computed += 1
        await release.wait()
        return 42

    callers = [asyncio.create_task(flights.run("artists", compute)) for _ in range(20)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*callers) == [42] * 20
    assert computed == 1
    assert flights.in_flight() == 0


async def test_different_keys_are_computed_separately_and_a_later_call_computes_again() -> None:
    flights: SingleFlight[str, str] = SingleFlight()
    calls: list[str] = []

    async def compute(key: str) -> str:
        calls.append(key)
        await asyncio.sleep(0)
        return key.upper()

    both = await asyncio.gather(
        flights.run("a", lambda: compute("a")), flights.run("b", lambda: compute("b"))
    )
    assert list(both) == ["A", "B"]
    assert await flights.run("a", lambda: compute("a")) == "A"
    assert calls == ["a", "b", "a"]


async def test_an_error_reaches_every_waiter_and_is_not_kept() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    release = asyncio.Event()

    async def failing() -> int:
        await release.wait()
        raise RuntimeError("database went away")

    callers = [asyncio.create_task(flights.run("k", failing)) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    outcomes = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(o, RuntimeError) for o in outcomes)

    async def working() -> int:
        return 7

    assert await flights.run("k", working) == 7


async def test_a_cancelled_waiter_cancels_nobody_and_a_cancelled_computer_hands_over() -> None:
    flights: SingleFlight[str, int] = SingleFlight()
    release = asyncio.Event()
    computed = 0

    async def compute() -> int:
        nonlocal computed
        computed += 1
        await release.wait()
        return computed

    first = asyncio.create_task(flights.run("k", compute))
    waiter = asyncio.create_task(flights.run("k", compute))
    other = asyncio.create_task(flights.run("k", compute))
    await asyncio.sleep(0)
    other.cancel()
    first.cancel()  # the computing caller goes away: the waiter computes instead
    await asyncio.sleep(0)
    release.set()
    assert await waiter == 2
    for task in (first, other):
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_kept_answers_build_each_key_once_and_drop_the_least_recently_used() -> None:
    kept: KeptAnswers[str, str] = KeptAnswers(2)
    built: list[str] = []

    def builder(key: str) -> Callable[[], Awaitable[str]]:
        async def build() -> str:
            built.append(key)
            await asyncio.sleep(0)
            return key.upper()

        return build

    assert await asyncio.gather(*(kept.fill("a", builder("a")) for _ in range(5))) == ["A"] * 5
    await kept.fill("b", builder("b"))
    assert kept.get("a") == "A"  # now the most recently used
    await kept.fill("c", builder("c"))  # drops "b", used longest ago
    assert (kept.get("a"), kept.get("b"), kept.get("c")) == ("A", None, "C")
    assert built == ["a", "b", "c"] and len(kept) == 2
