"""Discord's error answers: ``{"code", "message"}`` and the 50035 ``errors`` tree."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from .models import JSON

Path = Sequence[str | int]


class ApiError(Exception):
    """An answer Discord gives instead of the resource; ``kind`` names it in ``/errors``."""

    def __init__(
        self, status: int, code: int, message: str, errors: Any = None, kind: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.kind = kind

    def body(self) -> JSON:
        d: JSON = {"code": self.code, "message": self.message}
        if self.errors is not None:
            d["errors"] = self.errors
        return d


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON with Content-Type exactly ``application/json`` (discord.py requires it)."""
    resp = web.Response(
        body=json.dumps(data, separators=(",", ":")).encode(), status=status, headers=headers
    )
    resp.headers["Content-Type"] = "application/json"
    return resp


class FormErrors:
    """Collects refusals of one request body as Discord's nested ``errors`` tree.

    ``add(("embeds", 0, "fields", 3, "value"), "BASE_TYPE_MAX_LENGTH", "...")`` builds
    ``{"embeds": {"0": {"fields": {"3": {"value": {"_errors": [...]}}}}}}``.
    """

    def __init__(self) -> None:
        self.tree: JSON = {}

    def __bool__(self) -> bool:
        return bool(self.tree)

    def add(self, path: Path, code: str, message: str) -> None:
        node = self.tree
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_length(self, path: Path, limit: int) -> None:
        self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def min_length(self, path: Path, limit: int) -> None:
        self.add(path, "BASE_TYPE_MIN_LENGTH", f"Must be {limit} or more in length.")

    def bad_length(self, path: Path, low: int, high: int) -> None:
        self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")

    def required(self, path: Path) -> None:
        self.add(path, "BASE_TYPE_REQUIRED", "This field is required")

    def choices(self, path: Path, allowed: Sequence[object]) -> None:
        shown = ", ".join(repr(a) if isinstance(a, str) else str(a) for a in allowed)
        self.add(path, "BASE_TYPE_CHOICES", f"Value must be one of ({shown}).")

    def raise_if_any(self) -> None:
        if self.tree:
            raise invalid_form_body(self.tree)

    def codes(self) -> list[str]:
        """Every code in the tree (for logs and tests)."""
        found: list[str] = []
        stack: list[Any] = [self.tree]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                for key, value in node.items():
                    if key == "_errors":
                        found.extend(e["code"] for e in value)
                    else:
                        stack.append(value)
        return found


def invalid_form_body(errors: JSON) -> ApiError:
    return ApiError(400, 50035, "Invalid Form Body", errors, kind="invalid_body")
