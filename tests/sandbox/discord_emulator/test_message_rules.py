"""Message bodies Discord refuses with 400 50035, sent by the real discord.py HTTP client.

Each rule: a body just over the limit is refused with the ``errors`` tree naming the
field as Discord does, and a body at the limit is accepted.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import discord
import pytest

from sandbox.discord import DiscordControl

from .bots import SandboxBot
from .form_errors import at

pytestmark = pytest.mark.asyncio


def row(*components: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(components)}


def button(custom_id: str, label: str = "Go", style: int = 1) -> dict[str, Any]:
    return {"type": 2, "style": style, "label": label, "custom_id": custom_id}


def link(url: str = "https://open.spotify.com/track/1", label: str = "Open") -> dict[str, Any]:
    return {"type": 2, "style": 5, "label": label, "url": url}


def select(custom_id: str = "pick", options: int = 3, **extra: Any) -> dict[str, Any]:
    opts = [{"label": f"Option {i}", "value": f"v{i}"} for i in range(options)]
    return {"type": 3, "custom_id": custom_id, "options": opts, **extra}


def embed(**fields: Any) -> dict[str, Any]:
    return {"title": "A title", **fields}


def fields(count: int, name: str = "Track", value: str = "Artist") -> list[dict[str, Any]]:
    return [{"name": name, "value": value} for _ in range(count)]


async def refused(call: Awaitable[Any]) -> dict[str, Any]:
    """The ``errors`` tree of a 400 50035 answer, as discord.py received it."""
    with pytest.raises(discord.HTTPException) as caught:
        await call
    assert caught.value.status == 400 and caught.value.code == 50035, caught.value
    tree = caught.value._errors
    assert isinstance(tree, dict)
    return tree


def post(bot: SandboxBot, channel_id: int, body: dict[str, Any]) -> Awaitable[Any]:
    route = discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
    return bot.http.request(route, json=body)


FIELD = fields(1)
OVER_THE_LIMIT = [
    ("content over 2000", {"content": "x" * 2001}, "content", "BASE_TYPE_MAX_LENGTH"),
    ("11 embeds", {"embeds": [embed()] * 11}, "embeds", "BASE_TYPE_MAX_LENGTH"),
    ("title 257", {"embeds": [embed(title="t" * 257)]}, "embeds.0.title", "BASE_TYPE_MAX_LENGTH"),
    (
        "description 4097",
        {"embeds": [embed(description="d" * 4097)]},
        "embeds.0.description",
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "26 fields",
        {"embeds": [embed(fields=fields(26))]},
        "embeds.0.fields",
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "field name 257",
        {"embeds": [embed(fields=[{"name": "n" * 257, "value": "v"}])]},
        "embeds.0.fields.0.name",
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "fourth field value 1025",
        {"embeds": [embed(fields=[*fields(3), {"name": "n", "value": "v" * 1025}])]},
        "embeds.0.fields.3.value",
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "empty field name",
        {"embeds": [embed(fields=[{"name": "", "value": "v"}])]},
        "embeds.0.fields.0.name",
        "BASE_TYPE_REQUIRED",
    ),
    (
        "blank field value",
        {"embeds": [embed(fields=[{"name": "n", "value": "   "}])]},
        "embeds.0.fields.0.value",
        "BASE_TYPE_REQUIRED",
    ),
    (
        "footer 2049",
        {"embeds": [embed(footer={"text": "f" * 2049})]},
        "embeds.0.footer.text",
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "author name 257",
        {"embeds": [embed(author={"name": "a" * 257})]},
        "embeds.0.author.name",
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "6001 characters over two embeds, footer and author included",
        {
            "embeds": [
                {"description": "d" * 4000, "footer": {"text": "f" * 500}},
                {"description": "d" * 1000, "author": {"name": "a" * 251}, "title": "t" * 250},
            ]
        },
        "embeds",
        "MAX_EMBED_SIZE_EXCEEDED",
    ),
    (
        "6 action rows",
        {"components": [row(button(f"b{i}")) for i in range(6)]},
        "components",
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "6 buttons in a row",
        {"components": [row(*(button(f"b{i}") for i in range(6)))]},
        "components.0.components",
        "BASE_TYPE_BAD_LENGTH",
    ),
    (
        "a select and a button share a row",
        {"components": [row(select(), button("b"))]},
        "components.0.components.1",
        "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
    ),
    (
        "button label 81",
        {"components": [row(button("b", label="l" * 81))]},
        "components.0.components.0.label",
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "custom_id 101",
        {"components": [row(button("c" * 101))]},
        "components.0.components.0.custom_id",
        "BASE_TYPE_BAD_LENGTH",
    ),
    (
        "empty custom_id",
        {"components": [row(button(""))]},
        "components.0.components.0.custom_id",
        "BASE_TYPE_BAD_LENGTH",
    ),
    (
        "the same custom_id twice in a message",
        {"components": [row(button("like:1")), row(button("like:1"))]},
        "components.1.components.0.custom_id",
        "COMPONENT_CUSTOM_ID_DUPLICATED",
    ),
    (
        "a link button with a custom_id",
        {"components": [row({**link(), "custom_id": "x"})]},
        "components.0.components.0",
        "BUTTON_COMPONENT_CUSTOM_ID_URL_MUTUALLY_EXCLUSIVE",
    ),
    (
        "a link button without a url",
        {"components": [row({"type": 2, "style": 5, "label": "Open"})]},
        "components.0.components.0.url",
        "BASE_TYPE_REQUIRED",
    ),
    (
        "a button without a custom_id",
        {"components": [row({"type": 2, "style": 1, "label": "Go"})]},
        "components.0.components.0",
        "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED",
    ),
    (
        "a button with a url",
        {"components": [row({**button("b"), "url": "https://example.com"})]},
        "components.0.components.0",
        "BUTTON_COMPONENT_CUSTOM_ID_URL_MUTUALLY_EXCLUSIVE",
    ),
    (
        "a select of 26 options",
        {"components": [row(select(options=26))]},
        "components.0.components.0.options",
        "BASE_TYPE_BAD_LENGTH",
    ),
    (
        "a select option label of 101",
        {"components": [row({**select(), "options": [{"label": "l" * 101, "value": "v"}]})]},
        "components.0.components.0.options.0.label",
        "BASE_TYPE_BAD_LENGTH",
    ),
    (
        "a select option value of 101",
        {"components": [row({**select(), "options": [{"label": "l", "value": "v" * 101}]})]},
        "components.0.components.0.options.0.value",
        "BASE_TYPE_BAD_LENGTH",
    ),
    (
        "a select option description of 101",
        {
            "components": [
                row(
                    {
                        **select(),
                        "options": [{"label": "l", "value": "v", "description": "d" * 101}],
                    }
                )
            ]
        },
        "components.0.components.0.options.0.description",
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "a select placeholder of 151",
        {"components": [row(select(placeholder="p" * 151))]},
        "components.0.components.0.placeholder",
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "a link url of 513",
        {"components": [row(link(url="https://open.spotify.com/" + "t" * 488))]},
        "components.0.components.0.url",
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "max_values of 26",
        {"components": [row(select(max_values=26))]},
        "components.0.components.0.max_values",
        "NUMBER_TYPE_MAX",
    ),
    (
        "41 components in a components V2 message",
        {"flags": 1 << 15, "components": [{"type": 10, "content": f"line {i}"} for i in range(41)]},
        "components",
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "content in a components V2 message",
        {"flags": 1 << 15, "content": "hi", "components": [{"type": 10, "content": "line"}]},
        "content",
        "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
    ),
    (
        "allowed_mentions parse of an unknown type",
        {"content": "hi", "allowed_mentions": {"parse": ["channels"]}},
        "allowed_mentions.parse.0",
        "BASE_TYPE_CHOICES",
    ),
    (
        "allowed_mentions parse users with a users list",
        {"content": "hi", "allowed_mentions": {"parse": ["users"], "users": ["1"]}},
        "allowed_mentions",
        "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
    ),
    (
        "allowed_mentions of 101 roles",
        {"content": "hi", "allowed_mentions": {"roles": [str(i) for i in range(1, 102)]}},
        "allowed_mentions.roles",
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "a nonce of 26 characters",
        {"content": "hi", "nonce": "n" * 26, "enforce_nonce": True},
        "nonce",
        "NONCE_TYPE_TOO_LONG",
    ),
    (
        "a nonce that is neither a string nor an integer",
        {"content": "hi", "nonce": ["n"], "enforce_nonce": True},
        "nonce",
        "NONCE_TYPE_INVALID_TYPE",
    ),
    (
        "an integer nonce beyond 64 bits",
        {"content": "hi", "nonce": 2**63, "enforce_nonce": True},
        "nonce",
        "NONCE_TYPE_OUT_OF_BOUNDS",
    ),
    (
        "content that is not a string",
        {"content": {"text": "hi"}},
        "content",
        "STRING_TYPE_CONVERT",
    ),
    (
        "a button style of 7",
        {"components": [row(button("go", style=7))]},
        "components.0.components.0.style",
        "BASE_TYPE_CHOICES",
    ),
]


@pytest.mark.parametrize(
    ("body", "path", "code"),
    [case[1:] for case in OVER_THE_LIMIT],
    ids=[case[0] for case in OVER_THE_LIMIT],
)
async def test_a_message_over_a_limit_is_refused_naming_the_field(
    ctl: DiscordControl,
    world: dict[str, Any],
    bot: SandboxBot,
    body: dict[str, Any],
    path: str,
    code: str,
) -> None:
    channel_id = int(world["general"]["id"])

    errors = await refused(post(bot, channel_id, body))

    assert code in at(errors, path), errors
    assert await ctl.messages(channel_id=channel_id) == []
    recorded = await ctl.errors(kind="invalid_body")
    assert recorded and recorded[-1]["code"] == 50035


AT_THE_LIMIT = [
    ("content of 2000", {"content": "x" * 2000}),
    ("10 embeds", {"embeds": [embed()] * 10}),
    (
        "an embed at every limit",
        {
            "embeds": [
                {
                    "title": "t" * 256,
                    "description": "d" * 3000,
                    "fields": [{"name": "n" * 10, "value": "v" * 50}] * 25,
                    "footer": {"text": "f" * 650},
                    "author": {"name": "a" * 256},
                }
            ]
        },
    ),
    (
        "a field name of 256 and a value of 1024",
        {"embeds": [embed(fields=[{"name": "n" * 256, "value": "v" * 1024}])]},
    ),
    (
        "6000 characters over all embeds",
        {"embeds": [{"description": "d" * 4096}, {"description": "d" * 1904}]},
    ),
    (
        "whitespace around embed text is not counted",
        {
            "embeds": [
                {
                    "title": "  " + "t" * 256 + "\n",
                    "fields": [{"name": " n ", "value": "v" * 1024 + "  "}],
                }
            ]
        },
    ),
    (
        "5 rows of 5 buttons with 100-character ids and 80-character labels",
        {
            "components": [
                row(*(button(f"{r}{c}".ljust(100, "x"), label="l" * 80) for c in range(5)))
                for r in range(5)
            ]
        },
    ),
    ("a link button beside buttons", {"components": [row(button("a"), link(), button("b"))]}),
    (
        "a link url of 512",
        {"components": [row(link(url="https://open.spotify.com/" + "t" * 487))]},
    ),
    (
        "40 components in a components V2 message",
        {"flags": 1 << 15, "components": [{"type": 10, "content": f"line {i}"} for i in range(40)]},
    ),
    (
        "a select of 25 options of 100 characters",
        {
            "components": [
                row(
                    {
                        "type": 3,
                        "custom_id": "pick",
                        "placeholder": "p" * 150,
                        "options": [
                            {
                                "label": f"{i}".ljust(100, "l"),
                                "value": f"{i}".ljust(100, "v"),
                                "description": "d" * 100,
                            }
                            for i in range(25)
                        ],
                    }
                )
            ]
        },
    ),
    (
        "allowed_mentions of 100 users, roles parsed",
        {
            "content": "hi",
            "allowed_mentions": {"parse": ["roles"], "users": [str(i) for i in range(1, 101)]},
        },
    ),
    (
        "allowed_mentions parse users with an empty users list",
        {"content": "hi", "allowed_mentions": {"parse": ["users"], "users": []}},
    ),
    ("a nonce of 25 characters", {"content": "hi", "nonce": "n" * 25, "enforce_nonce": True}),
]


@pytest.mark.parametrize(
    "body", [case[1] for case in AT_THE_LIMIT], ids=[case[0] for case in AT_THE_LIMIT]
)
async def test_a_message_at_the_limit_is_posted(
    ctl: DiscordControl, world: dict[str, Any], bot: SandboxBot, body: dict[str, Any]
) -> None:
    channel_id = int(world["general"]["id"])

    message = await post(bot, channel_id, body)

    posted = await ctl.messages(channel_id=channel_id)
    assert [m["id"] for m in posted] == [message["id"]]
    assert await ctl.errors(kind="invalid_body") == []


@pytest.mark.parametrize(
    "body",
    [{"content": ""}, {"content": "   \n"}, {"embeds": [], "components": []}, {"tts": True}],
    ids=["empty content", "blank content", "empty lists", "nothing to show"],
)
async def test_an_empty_message_is_refused_with_50006(
    world: dict[str, Any], bot: SandboxBot, body: dict[str, Any]
) -> None:
    with pytest.raises(discord.HTTPException) as caught:
        await post(bot, int(world["general"]["id"]), body)
    assert caught.value.status == 400 and caught.value.code == 50006


async def test_the_client_s_own_objects_are_checked_the_same_way(
    world: dict[str, Any], bot: SandboxBot
) -> None:
    """discord.py's Embed and View, as a bot builds them, through Messageable.send."""
    channel = bot.text_channel(world["general"]["id"])
    too_long = discord.Embed(title="Releases").add_field(name="Album", value="v" * 1025)
    view = discord.ui.View()
    view.add_item(discord.ui.Button(label="Like", custom_id="like:track:1"))
    view.add_item(discord.ui.Button(label="Like", custom_id="like:track:1", row=1))

    errors = await refused(channel.send(embed=too_long))
    assert at(errors, "embeds.0.fields.0.value") == ["BASE_TYPE_MAX_LENGTH"]
    errors = await refused(channel.send("two likes", view=view))
    assert at(errors, "components.1.components.0.custom_id") == ["COMPONENT_CUSTOM_ID_DUPLICATED"]
