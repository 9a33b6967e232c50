"""Interaction responses Discord refuses: the wrong callback type for the interaction,
autocomplete results over their limits, and modals over theirs (raw HTTP callbacks)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from sandbox.discord import DiscordControl, DiscordEmulator

from .form_errors import at

pytestmark = pytest.mark.asyncio

SEARCH = {
    "name": "search",
    "description": "Search Spotify",
    "options": [{"type": 3, "name": "query", "description": "What", "autocomplete": True}],
}
PANEL = {"name": "panel", "description": "A panel with a button"}


class Discord:
    """A client that answers interactions over raw HTTP, as any library would."""

    def __init__(self, emu: DiscordEmulator, http: aiohttp.ClientSession) -> None:
        self.emu = emu
        self.http = http

    async def register(self, commands: list[dict[str, Any]]) -> None:
        url = f"{self.emu.api_url}/applications/{self.emu.application_id}/commands"
        headers = {"Authorization": f"Bot {self.emu.bot_token}"}
        async with self.http.put(url, json=commands, headers=headers) as resp:
            assert resp.status == 200, await resp.text()

    async def answer(self, injected: dict[str, Any], body: dict[str, Any]) -> tuple[int, Any]:
        url = f"{self.emu.api_url}/interactions/{injected['id']}/{injected['token']}/callback"
        async with self.http.post(url, json=body) as resp:
            return resp.status, await resp.json()


@pytest.fixture
async def client(emu: DiscordEmulator, world: dict[str, Any]) -> AsyncIterator[Discord]:
    async with aiohttp.ClientSession() as http:
        c = Discord(emu, http)
        await c.register([SEARCH, PANEL])
        yield c


async def _command(ctl: DiscordControl, world: dict[str, Any], kind: str = "command") -> Any:
    if kind == "autocomplete":
        return await ctl.autocomplete(
            "search",
            world["alice"]["id"],
            "query",
            guild_id=world["guild"]["id"],
            options={"query": "ab"},
        )
    return await ctl.command(
        "search", world["alice"]["id"], guild_id=world["guild"]["id"], options={"query": "ab"}
    )


async def _component(ctl: DiscordControl, client: Discord, world: dict[str, Any]) -> Any:
    panel = await ctl.command("panel", world["alice"]["id"], guild_id=world["guild"]["id"])
    button = {"type": 2, "style": 1, "label": "Go", "custom_id": "go"}
    status, _ = await client.answer(
        panel,
        {
            "type": 4,
            "data": {"content": "panel", "components": [{"type": 1, "components": [button]}]},
        },
    )
    assert status == 200
    return await ctl.click("go", world["alice"]["id"])


def choices(n: int, name: str = "Song", value: str = "v") -> dict[str, Any]:
    return {"type": 8, "data": {"choices": [{"name": name, "value": value}] * n}}


def modal(title: str = "Rename", rows: int = 1, label: str = "Name") -> dict[str, Any]:
    text = {"type": 4, "custom_id": "name", "style": 1, "label": label}
    components = [
        {"type": 1, "components": [{**text, "custom_id": f"name{i}"}]} for i in range(rows)
    ]
    return {"type": 9, "data": {"custom_id": "rename", "title": title, "components": components}}


@pytest.mark.parametrize(
    ("kind", "body", "allowed"),
    [
        ("command", choices(1), [4, 5, 9, 10, 12]),
        ("command", {"type": 6}, [4, 5, 9, 10, 12]),
        ("command", {"type": 7, "data": {"content": "x"}}, [4, 5, 9, 10, 12]),
        ("autocomplete", {"type": 4, "data": {"content": "x"}}, [8]),
        ("autocomplete", modal(), [8]),
        ("component", choices(1), [4, 5, 6, 7, 9, 10, 12]),
    ],
    ids=[
        "autocomplete result to a command",
        "deferred update to a command",
        "message update to a command",
        "a message to an autocomplete",
        "a modal to an autocomplete",
        "autocomplete result to a button",
    ],
)
async def test_a_callback_type_the_interaction_does_not_take_is_refused(
    ctl: DiscordControl,
    client: Discord,
    world: dict[str, Any],
    kind: str,
    body: dict[str, Any],
    allowed: list[int],
) -> None:
    injected = await (
        _component(ctl, client, world) if kind == "component" else _command(ctl, world, kind)
    )

    status, answer = await client.answer(injected, body)

    assert status == 400 and answer["code"] == 50035
    assert at(answer["errors"], "type") == ["BASE_TYPE_CHOICES"]
    shown = ", ".join(map(str, allowed))
    assert answer["errors"]["type"]["_errors"][0]["message"] == f"Value must be one of ({shown})."
    assert (await ctl.interaction(injected["id"]))["response"] is None


async def test_a_modal_is_not_an_answer_to_a_modal_submit(
    ctl: DiscordControl, client: Discord, world: dict[str, Any]
) -> None:
    submitted = await ctl.submit_modal(
        "rename", world["alice"]["id"], {"name": "x"}, guild_id=world["guild"]["id"]
    )
    status, answer = await client.answer(submitted, modal())
    assert status == 400 and at(answer["errors"], "type") == ["BASE_TYPE_CHOICES"]
    # and a modal submit that did not come from a message cannot update one
    status, answer = await client.answer(submitted, {"type": 7, "data": {"content": "x"}})
    assert status == 400 and at(answer["errors"], "type") == ["BASE_TYPE_CHOICES"]
    status, _ = await client.answer(submitted, {"type": 4, "data": {"content": "thanks"}})
    assert status == 200


@pytest.mark.parametrize(
    ("body", "path", "code"),
    [
        (choices(26), "data.choices", "BASE_TYPE_MAX_LENGTH"),
        (choices(1, name=""), "data.choices.0.name", "BASE_TYPE_BAD_LENGTH"),
        (choices(1, name="n" * 101), "data.choices.0.name", "BASE_TYPE_BAD_LENGTH"),
        (choices(1, value="v" * 101), "data.choices.0.value", "BASE_TYPE_MAX_LENGTH"),
    ],
    ids=["26 choices", "empty choice name", "choice name 101", "string value 101"],
)
async def test_autocomplete_results_over_a_limit_are_refused(
    ctl: DiscordControl,
    client: Discord,
    world: dict[str, Any],
    body: dict[str, Any],
    path: str,
    code: str,
) -> None:
    injected = await _command(ctl, world, "autocomplete")
    status, answer = await client.answer(injected, body)
    assert status == 400 and code in at(answer["errors"], path), answer


async def test_autocomplete_results_at_the_limit_are_shown(
    ctl: DiscordControl, client: Discord, world: dict[str, Any]
) -> None:
    injected = await _command(ctl, world, "autocomplete")
    status, _ = await client.answer(injected, choices(25, name="n" * 100, value="v" * 100))
    assert status == 200
    assert len((await ctl.interaction(injected["id"]))["response"]["data"]["choices"]) == 25


@pytest.mark.parametrize(
    ("body", "path", "code"),
    [
        (modal(title="t" * 46), "data.title", "BASE_TYPE_BAD_LENGTH"),
        (modal(title=""), "data.title", "BASE_TYPE_BAD_LENGTH"),
        (modal(rows=6), "data.components", "BASE_TYPE_BAD_LENGTH"),
        (modal(label="l" * 46), "data.components.0.components.0.label", "BASE_TYPE_MAX_LENGTH"),
    ],
    ids=["title 46", "no title", "6 rows", "text input label 46"],
)
async def test_a_modal_over_a_limit_is_refused(
    ctl: DiscordControl,
    client: Discord,
    world: dict[str, Any],
    body: dict[str, Any],
    path: str,
    code: str,
) -> None:
    injected = await _command(ctl, world)
    status, answer = await client.answer(injected, body)
    assert status == 400 and code in at(answer["errors"], path), answer


async def test_a_modal_at_the_limit_opens(
    ctl: DiscordControl, client: Discord, world: dict[str, Any]
) -> None:
    injected = await _command(ctl, world)
    status, _ = await client.answer(injected, modal(title="t" * 45, rows=5, label="l" * 45))
    assert status == 200
    assert (await ctl.interaction(injected["id"]))["response"]["type"] == 9


async def test_a_button_may_update_its_message(
    ctl: DiscordControl, client: Discord, world: dict[str, Any]
) -> None:
    clicked = await _component(ctl, client, world)
    status, _ = await client.answer(
        clicked, {"type": 7, "data": {"content": "updated", "components": []}}
    )
    assert status == 200
    record = await ctl.interaction(clicked["id"])
    assert record["original"]["content"] == "updated" and record["original"]["components"] == []


async def test_a_callback_whose_data_is_not_an_object_is_refused(
    ctl: DiscordControl, client: Discord, world: dict[str, Any]
) -> None:
    injected = await _command(ctl, world, "command")

    status, answer = await client.answer(injected, {"type": 4, "data": "hi"})

    assert status == 400 and answer["code"] == 50035
    assert at(answer["errors"], "data") == ["DICT_TYPE_CONVERT"]
    assert (await ctl.interaction(injected["id"]))["response"] is None


async def test_a_deferral_is_not_an_answer_until_its_followup_replaces_the_thinking_message(
    ctl: DiscordControl, client: Discord, world: dict[str, Any]
) -> None:
    injected = await _command(ctl, world)
    status, _ = await client.answer(injected, {"type": 5, "data": {"flags": 64}})
    assert status == 200
    deferred = await ctl.interaction(injected["id"])
    assert deferred["response"]["type"] == 5 and deferred["answered_at"] is None

    url = f"{client.emu.api_url}/webhooks/{client.emu.application_id}/{injected['token']}"
    async with client.http.post(url, json={"content": "found it"}) as resp:
        assert resp.status in (200, 204)
    answered = await ctl.interaction(injected["id"])
    assert answered["answered_at"] >= answered["response"]["at"]

    direct = await _command(ctl, world)
    status, _ = await client.answer(direct, {"type": 4, "data": {"content": "at once"}})
    record = await ctl.interaction(direct["id"])
    assert status == 200 and record["answered_at"] == record["response"]["at"]


async def test_a_second_callback_is_refused_while_the_first_ones_answer_is_on_its_way(
    ctl: DiscordControl, client: Discord, world: dict[str, Any]
) -> None:
    # Discord takes the first callback; its answer to the bot is slow. A deferral sent by
    # a bot that has not heard back yet is a second acknowledgement all the same.
    await ctl.settings(callback_delay_s=1.0)
    injected = await _command(ctl, world)
    first = asyncio.create_task(client.answer(injected, {"type": 4, "data": {"content": "hi"}}))
    accepted = await ctl.interaction(injected["id"], wait=5)
    assert accepted["response"]["type"] == 4

    status, answer = await client.answer(injected, {"type": 5, "data": {"flags": 64}})

    assert status == 400 and answer["code"] == 40060
    assert (await first)[0] == 200
    record = await ctl.interaction(injected["id"])
    assert record["response"]["type"] == 4 and [a["type"] for a in record["extra_acks"]] == [5]


async def test_a_callback_after_the_deadline_is_refused_as_an_unknown_interaction(
    ctl: DiscordControl, client: Discord, world: dict[str, Any]
) -> None:
    await ctl.settings(interaction_deadline=0.2)
    injected = await _command(ctl, world)
    await ctl.interaction(injected["id"], wait=0.5)  # nothing answers: the deadline passes

    status, answer = await client.answer(injected, {"type": 5, "data": {"flags": 64}})

    assert status == 404 and answer["code"] == 10062
    record = await ctl.interaction(injected["id"])
    assert record["response"] is None and record["late_responses"][0]["type"] == 5
