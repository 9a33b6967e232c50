"""Slash-command option values checked against their declared types and limits.

Discord's client enforces these, but a raw payload need not: checking once in the tree,
before any command runs, keeps every command from meeting a 10**30 where it asked for 1-100.
"""

from __future__ import annotations

import math
from typing import Any

import discord
from discord import AppCommandOptionType, app_commands

MAX_SAFE_INTEGER = 2**53 - 1  # Discord's own bound for integer options
MAX_STRING = 6000


def resolve(
    tree: app_commands.CommandTree[Any], data: dict[str, Any], guild_id: int | None
) -> tuple[app_commands.Command[Any, ..., Any] | None, list[dict[str, Any]]]:
    """The command an interaction names, and the options given to it."""
    name = str(data.get("name", ""))
    command: Any = None
    if guild_id is not None:
        command = tree.get_command(name, guild=discord.Object(guild_id))
    command = command or tree.get_command(name)
    options: list[dict[str, Any]] = list(data.get("options") or [])
    while isinstance(command, app_commands.Group):
        if not options:
            return None, []
        sub = options[0]
        command = command.get_command(str(sub.get("name")))
        options = list(sub.get("options") or [])
    if not isinstance(command, app_commands.Command):
        return None, []
    return command, options


def problem(parameter: app_commands.Parameter, value: Any) -> str | None:
    """Why `value` is not acceptable for `parameter`, or None."""
    kind = parameter.type
    if kind is AppCommandOptionType.string:
        if not isinstance(value, str):
            return "must be text"
        if "\x00" in value:  # PostgreSQL text cannot hold it; no real name contains it
            return "contains a character Encore cannot use"
        longest = getattr(parameter, "max_length", None) or MAX_STRING
        if len(value) > longest:
            return f"must be at most {longest} characters"
        shortest = getattr(parameter, "min_length", None)
        if shortest and len(value) < shortest:
            return f"must be at least {shortest} characters"
    elif kind is AppCommandOptionType.integer:
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_SAFE_INTEGER:
            return "must be a whole number"
        return _out_of_range(parameter, value)
    elif kind is AppCommandOptionType.number:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            return "must be a number"
        return _out_of_range(parameter, value)
    elif kind is AppCommandOptionType.boolean and not isinstance(value, bool):
        return "must be true or false"
    offered = {choice.value for choice in parameter.choices}
    if offered and not parameter.autocomplete and value not in offered:
        return "must be one of the offered choices"
    return None


def _out_of_range(parameter: app_commands.Parameter, value: float) -> str | None:
    low, high = parameter.min_value, parameter.max_value
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            return f"must be from {low:g} to {high:g}"
        return f"must be at least {low:g}" if low is not None else f"must be at most {high:g}"
    return None


def check(
    tree: app_commands.CommandTree[Any], data: dict[str, Any], guild_id: int | None
) -> str | None:
    """A message for the first unacceptable option value, or None when all are fine."""
    command, options = resolve(tree, data, guild_id)
    if command is None:
        return None
    given = {str(option.get("name")) for option in options}
    for declared in command.parameters:
        if declared.required and declared.name not in given:
            return f"`{declared.display_name}` is required."
    for option in options:
        parameter = command.get_parameter(str(option.get("name")))
        why = None if parameter is None else problem(parameter, option.get("value"))
        if parameter is not None and why is not None:
            return f"The value you gave for `{parameter.display_name}` {why}."
    return None
