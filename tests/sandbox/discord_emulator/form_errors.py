"""Reading Discord's 50035 ``errors`` trees in tests."""

from __future__ import annotations

from typing import Any


def at(errors: dict[str, Any], path: str) -> list[str]:
    """The codes Discord put at ``path`` ("embeds.0.fields.3.value") of an errors tree."""
    node: Any = errors
    for part in path.split(".") if path else []:
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return [e["code"] for e in node.get("_errors", [])] if isinstance(node, dict) else []
