"""Application command definitions Discord refuses at ``PUT .../commands``, sent by the
real discord.py HTTP client, and definitions at every limit that register."""

from __future__ import annotations

from typing import Any, cast

import discord
import pytest

from sandbox.discord import DiscordControl
from sandbox.discord.rules.commands import COMMAND_SIZE_MAX, command_size
from sandbox.discord.rules.names import has_uppercase, matches_pattern

from .bots import SandboxBot
from .form_errors import at


def option(
    name: str = "query", *, type: int = 3, required: bool = False, **extra: Any
) -> dict[str, Any]:
    return {"type": type, "name": name, "description": "An option", "required": required, **extra}


def command(name: str = "search", **extra: Any) -> dict[str, Any]:
    return {"name": name, "description": "Search Spotify", "type": 1, **extra}


def choice(name: str = "Choice", value: Any = "v") -> dict[str, Any]:
    return {"name": name, "value": value}


async def put(bot: SandboxBot, commands: list[dict[str, Any]]) -> Any:
    assert bot.application_id is not None
    return await bot.http.bulk_upsert_global_commands(bot.application_id, commands)


async def refusal(bot: SandboxBot, commands: list[dict[str, Any]]) -> discord.HTTPException:
    with pytest.raises(discord.HTTPException) as caught:
        await put(bot, commands)
    assert caught.value.status == 400
    return caught.value


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("ping", True),
        ("play-now", True),
        ("don't_stop", True),
        ("日本語", True),
        ("ελληνικά", True),
        ("हिन्दी", True),  # Devanagari with its combining vowel signs
        ("ภาษาไทย", True),  # Thai with its combining marks
        ("x" * 32, True),
        ("x" * 33, False),
        ("", False),
        ("two words", False),
        ("play!", False),
        ("emoji🎵", False),
    ],
)
def test_the_naming_pattern_matches_discords(name: str, valid: bool) -> None:
    assert matches_pattern(name) is valid


@pytest.mark.parametrize(
    ("name", "upper"),
    [("play", False), ("Play", True), ("ΕΛΛΗΝΙΚΆ", True), ("日本", False), ("ǅ", True)],
)
def test_a_letter_with_a_lowercase_variant_must_use_it(name: str, upper: bool) -> None:
    assert has_uppercase(name) is upper


OVER = [
    ("a name with a space", [command("two words")], "0.name", "STRING_TYPE_REGEX"),
    ("a name with punctuation", [command("play!")], "0.name", "STRING_TYPE_REGEX"),
    ("an uppercase name", [command("Search")], "0.name", "APPLICATION_COMMAND_INVALID_NAME"),
    ("a name of 33", [command("s" * 33)], "0.name", "BASE_TYPE_BAD_LENGTH"),
    ("no description", [command(description="")], "0.description", "BASE_TYPE_BAD_LENGTH"),
    (
        "a description of 101",
        [command(description="d" * 101)],
        "0.description",
        "BASE_TYPE_BAD_LENGTH",
    ),
    (
        "a user command with a description",
        [{"name": "Like", "type": 2, "description": "Likes"}],
        "0.description",
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "a user command name of 33",
        [{"name": "L" * 33, "type": 2}],
        "0.name",
        "BASE_TYPE_BAD_LENGTH",
    ),
    (
        "26 options",
        [command(options=[option(f"o{i}") for i in range(26)])],
        "0.options",
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "an uppercase option name",
        [command(options=[option("Query")])],
        "0.options.0.name",
        "APPLICATION_COMMAND_INVALID_NAME",
    ),
    (
        "an option description of 101",
        [command(options=[{**option(), "description": "d" * 101}])],
        "0.options.0.description",
        "BASE_TYPE_BAD_LENGTH",
    ),
    (
        "a required option after an optional one",
        [command(options=[option("a"), option("b", required=True)])],
        "0.options.1",
        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
    ),
    (
        "a required option after an optional one, in a subcommand",
        [
            command(
                options=[option("sub", type=1, options=[option("a"), option("b", required=True)])]
            )
        ],
        "0.options.0.options.1",
        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
    ),
    (
        "26 choices",
        [command(options=[option(choices=[choice(f"c{i}", f"v{i}") for i in range(26)])])],
        "0.options.0.choices",
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "a choice name of 101",
        [command(options=[option(choices=[choice("c" * 101)])])],
        "0.options.0.choices.0.name",
        "BASE_TYPE_BAD_LENGTH",
    ),
    (
        "a string choice value of 101",
        [command(options=[option(choices=[choice(value="v" * 101)])])],
        "0.options.0.choices.0.value",
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "autocomplete with choices",
        [command(options=[option(autocomplete=True, choices=[choice()])])],
        "0.options.0.autocomplete",
        "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_WITH_CHOICES",
    ),
    (
        "over 8000 characters of names, descriptions and values",
        [
            command(
                options=[
                    option(
                        f"o{i}", description="d" * 100, choices=[choice("c" * 100, "v" * 100)] * 2
                    )
                    for i in range(16)
                ]
            )
        ],
        "0",
        "APPLICATION_COMMAND_TOO_LARGE",
    ),
    ("an unknown context", [command(contexts=[0, 3])], "0.contexts.1", "BASE_TYPE_CHOICES"),
    (
        "an unknown integration type",
        [command(integration_types=[2])],
        "0.integration_types.0",
        "BASE_TYPE_CHOICES",
    ),
    ("empty contexts", [command(contexts=[])], "0.contexts", "BASE_TYPE_MIN_LENGTH"),
    (
        "the same name twice",
        [command("search"), command("search")],
        "1.name",
        "APPLICATION_COMMANDS_DUPLICATE_NAME",
    ),
    (
        "a max_length of 6001",
        [command(options=[option(max_length=6001)])],
        "0.options.0.max_length",
        "NUMBER_TYPE_MAX",
    ),
    (
        "a min_length below 0",
        [command(options=[option(min_length=-1)])],
        "0.options.0.min_length",
        "NUMBER_TYPE_MIN",
    ),
    ("a command that is not an object", ["search"], "0", "DICT_TYPE_CONVERT"),
]


@pytest.mark.parametrize(
    ("commands", "path", "code"), [case[1:] for case in OVER], ids=[case[0] for case in OVER]
)
async def test_a_command_definition_over_a_limit_is_refused(
    ctl: DiscordControl, bot: SandboxBot, commands: list[dict[str, Any]], path: str, code: str
) -> None:
    before = await ctl.commands()

    refused = await refusal(bot, commands)

    assert refused.code == 50035 and code in at(refused._errors or {}, path), refused._errors
    assert await ctl.commands() == before


@pytest.mark.parametrize(
    ("kind", "limit"), [(1, 100), (2, 15), (3, 15)], ids=["chat input", "user", "message"]
)
async def test_an_app_has_a_bounded_number_of_commands_of_each_type(
    ctl: DiscordControl, bot: SandboxBot, kind: int, limit: int
) -> None:
    def numbered(i: int) -> dict[str, Any]:
        return command(f"c{i}") if kind == 1 else {"name": f"Context {i}", "type": kind}

    refused = await refusal(bot, [numbered(i) for i in range(limit + 1)])
    assert refused.code == 30032

    registered = await put(bot, [numbered(i) for i in range(limit)])
    assert len(registered) == limit


async def test_commands_at_every_limit_register(ctl: DiscordControl, bot: SandboxBot) -> None:
    big = command(
        "d" * 32,
        description="d" * 100,
        contexts=[0, 1, 2],
        integration_types=[0, 1],
        options=[
            option(
                f"o{i}".ljust(32, "o"), required=i < 5, choices=[choice("c" * 100, "v" * 100)] * 25
            )
            if i == 0
            else option(f"o{i}", required=i < 5)
            for i in range(25)
        ],
    )
    options = [
        option(f"o{i:x}", description="d" * 100, choices=[choice("c" * 100, "v" * 100)] * 2)
        for i in range(15)
    ]
    eight_thousand = command("eight", description="d", options=options)
    # pad with choices until names, descriptions and choice values come to exactly 8000
    extra = options[-1]["choices"]
    while (left := COMMAND_SIZE_MAX - command_size(eight_thousand)) > 0:
        half = min(left // 2, 100)
        extra.append(choice("c" * max(half, 1), "v" * (min(left - max(half, 1), 100))))
    assert command_size(eight_thousand) == COMMAND_SIZE_MAX
    context_menus = [{"name": "Like on Spotify", "type": 3}, {"name": "Add To My Queue", "type": 2}]

    registered = await put(bot, [big, eight_thousand, *context_menus])

    assert [c["name"] for c in registered] == [
        "d" * 32,
        "eight",
        "Like on Spotify",
        "Add To My Queue",
    ]
    assert {c["name"] for c in (await ctl.commands())["global"]} == {c["name"] for c in registered}


async def test_a_bulk_overwrite_that_is_not_a_list_is_refused(
    ctl: DiscordControl, bot: SandboxBot
) -> None:
    before = await ctl.commands()

    refused = await refusal(bot, cast(list[dict[str, Any]], {"name": "search"}))

    assert refused.code == 50035 and "LIST_TYPE_CONVERT" in str(refused._errors)
    assert await ctl.commands() == before
