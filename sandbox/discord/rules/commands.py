"""What Discord refuses in application command definitions (``PUT``/``POST .../commands``).

Docs, "Application Commands": naming, 1-100 character descriptions (empty for user and
message commands), 25 options, required before optional, 25 choices, no autocomplete
with choices, 8,000 characters of names, descriptions and values per command, valid
``contexts`` and ``integration_types``, and how many commands of each type an app has.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..errors import ApiError, FormErrors
from ..models import CHAT_INPUT, JSON, MESSAGE_COMMAND, USER_COMMAND
from .names import has_uppercase, matches_pattern

NAME_MAX = 32
DESCRIPTION_MAX = 100
OPTIONS_MAX = 25
CHOICES_MAX = 25
CHOICE_NAME_MAX = 100
CHOICE_STRING_VALUE_MAX = 100
OPTION_LENGTH_MAX = 6000
COMMAND_SIZE_MAX = 8000
# per scope (global, or each guild); docs: "An app can have the following number of commands"
COMMANDS_MAX = {CHAT_INPUT: 100, USER_COMMAND: 15, MESSAGE_COMMAND: 15}
COMMAND_TYPES = (1, 2, 3, 4)
OPTION_TYPES = tuple(range(1, 12))
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
CHOICE_TYPES = (3, 4, 10)
CONTEXTS = (0, 1, 2)
INTEGRATION_TYPES = (0, 1)

Path = tuple[str | int, ...]


def check_command_list(commands: Any) -> None:
    """A bulk overwrite: every command, then the per-type counts and unique names."""
    if not isinstance(commands, list):
        raise ApiError(
            400,
            50035,
            "Invalid Form Body",
            {
                "_errors": [
                    {
                        "code": "LIST_TYPE_CONVERT",
                        "message": "Only iterables may be used in a ListType",
                    }
                ]
            },
            kind="invalid_body",
        )
    errors = FormErrors()
    seen: set[tuple[int, str]] = set()
    for i, command in enumerate(commands):
        if not isinstance(command, dict):
            errors.add((i,), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        check_command(command, errors, (i,))
        key = (int(command.get("type") or CHAT_INPUT), str(command.get("name")))
        if key in seen:
            errors.add(
                (i, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        seen.add(key)
    errors.raise_if_any()
    refuse_over_limit(Counter(int(c.get("type") or CHAT_INPUT) for c in commands))


def refuse_over_limit(counts: Counter[int]) -> None:
    for ctype, limit in COMMANDS_MAX.items():
        if counts[ctype] > limit:
            raise ApiError(
                400,
                30032,
                f"Maximum number of application commands reached ({limit})",
                kind="invalid_body",
            )


def check_command(command: JSON, errors: FormErrors, at: Path = ()) -> None:
    ctype = command.get("type") or CHAT_INPUT
    if ctype not in COMMAND_TYPES:
        errors.choices((*at, "type"), COMMAND_TYPES)
        return
    chat_input = ctype == CHAT_INPUT
    _check_name(command.get("name"), errors, (*at, "name"), chat_input=chat_input)
    description = command.get("description")
    if chat_input:
        _check_description(description, errors, (*at, "description"))
    elif description:
        errors.max_length((*at, "description"), 0)
    options = command.get("options") or []
    if options and not chat_input:
        errors.max_length((*at, "options"), 0)
    elif chat_input:
        _check_options(options, errors, (*at, "options"))
    for key, allowed in (("contexts", CONTEXTS), ("integration_types", INTEGRATION_TYPES)):
        values = command.get(key)
        if values is None:
            continue
        if not isinstance(values, list) or not values:
            errors.min_length((*at, key), 1)
            continue
        for i, value in enumerate(values):
            if value not in allowed:
                errors.choices((*at, key, i), allowed)
        if len(set(map(str, values))) != len(values):
            errors.add(
                (*at, key), "SET_TYPE_ALREADY_CONTAINS_VALUE", "The set already contains this value"
            )
    if chat_input and command_size(command) > COMMAND_SIZE_MAX:
        errors.add(
            at,
            "APPLICATION_COMMAND_TOO_LARGE",
            f"Command exceeds maximum size ({COMMAND_SIZE_MAX})",
        )


def command_size(command: JSON) -> int:
    """Names, descriptions and choice names and values of the whole command tree."""
    total = 0
    stack: list[Any] = [command]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        for key in ("name", "description"):
            if isinstance(node.get(key), str):
                total += len(node[key])
        for choice in node.get("choices") or []:
            if isinstance(choice, dict):
                total += len(str(choice.get("name") or "")) + len(str(choice.get("value", "")))
        stack.extend(node.get("options") or [])
    return total


def _check_name(name: Any, errors: FormErrors, path: Path, *, chat_input: bool) -> None:
    if not isinstance(name, str) or not 1 <= len(name) <= NAME_MAX:
        errors.bad_length(path, 1, NAME_MAX)
        return
    if not chat_input:
        return
    if not matches_pattern(name):
        errors.add(path, "STRING_TYPE_REGEX", "String value did not match validation regex.")
    elif has_uppercase(name):
        errors.add(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")


def _check_description(description: Any, errors: FormErrors, path: Path) -> None:
    if not isinstance(description, str) or not 1 <= len(description) <= DESCRIPTION_MAX:
        errors.bad_length(path, 1, DESCRIPTION_MAX)


def _check_options(options: Any, errors: FormErrors, path: Path) -> None:
    if not isinstance(options, list):
        return
    if len(options) > OPTIONS_MAX:
        errors.max_length(path, OPTIONS_MAX)
    names: set[str] = set()
    optional_seen = False
    for i, option in enumerate(options):
        if not isinstance(option, dict):
            continue
        opath = (*path, i)
        otype = option.get("type")
        if otype not in OPTION_TYPES:
            errors.choices((*opath, "type"), OPTION_TYPES)
            continue
        _check_name(option.get("name"), errors, (*opath, "name"), chat_input=True)
        _check_description(option.get("description"), errors, (*opath, "description"))
        name = str(option.get("name"))
        if name in names:
            errors.add(
                (*opath, "name"),
                "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS",
                "Option names must be unique within a command",
            )
        names.add(name)
        if otype in (SUB_COMMAND, SUB_COMMAND_GROUP):
            _check_options(option.get("options") or [], errors, (*opath, "options"))
            continue
        if option.get("required"):
            if optional_seen:
                errors.add(
                    opath,
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        _check_choices(option, otype, errors, opath)
        for key, low in (("min_length", 0), ("max_length", 1)):
            value = option.get(key)
            if isinstance(value, int) and not low <= value <= OPTION_LENGTH_MAX:
                errors.add(
                    (*opath, key),
                    "NUMBER_TYPE_MAX" if value > OPTION_LENGTH_MAX else "NUMBER_TYPE_MIN",
                    f"int value should be between {low} and {OPTION_LENGTH_MAX}.",
                )


def _check_choices(option: JSON, otype: int, errors: FormErrors, opath: Path) -> None:
    choices = option.get("choices")
    if not choices:
        return
    if otype not in CHOICE_TYPES:
        errors.max_length((*opath, "choices"), 0)
        return
    if option.get("autocomplete"):
        errors.add(
            (*opath, "autocomplete"),
            "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_WITH_CHOICES",
            "Autocomplete cannot be enabled on an option with choices",
        )
    if len(choices) > CHOICES_MAX:
        errors.max_length((*opath, "choices"), CHOICES_MAX)
    for j, choice in enumerate(choices):
        if not isinstance(choice, dict):
            continue
        cname = choice.get("name")
        if not isinstance(cname, str) or not 1 <= len(cname) <= CHOICE_NAME_MAX:
            errors.bad_length((*opath, "choices", j, "name"), 1, CHOICE_NAME_MAX)
        value = choice.get("value")
        if isinstance(value, str) and len(value) > CHOICE_STRING_VALUE_MAX:
            errors.max_length((*opath, "choices", j, "value"), CHOICE_STRING_VALUE_MAX)
