"""Lenient request-body checks against Discord's own OpenAPI spec.

The spec (``specs/discord/openapi.json``, about 1.2 MB) is found from the project root
(see :data:`SPEC_CANDIDATES`), never by an absolute path, and loaded lazily, once per
process. Only the top level of a JSON body is checked: unknown fields and wrong
top-level types are reported as problems; the emulator records them and does not
reject the request (Discord's hard limits are enforced by ``rules/``).
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from typing import Any, ClassVar

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Discord's spec lives in the team's shared folder beside the clone; a copy vendored at
# specs/discord/ (with its LICENSE) in the project root is used first.
SPEC_CANDIDATES = (
    PROJECT_ROOT / "specs" / "discord" / "openapi.json",
    PROJECT_ROOT.parent / "shared" / "specs" / "discord" / "openapi.json",
)


class SpecMissing(FileNotFoundError):
    """Discord's OpenAPI spec is not where the emulator looks for it."""


def default_spec_path() -> Path | None:
    """``$DISCORD_OPENAPI_SPEC``, else the first of :data:`SPEC_CANDIDATES` that exists."""
    env = os.environ.get("DISCORD_OPENAPI_SPEC")
    if env:
        return Path(env)
    return next((c for c in SPEC_CANDIDATES if c.is_file()), None)


class SpecValidator:
    """Matches a request to an operation of the spec and checks its JSON body."""

    _lock = threading.Lock()
    _cache: ClassVar[dict[str, Any]] = {}

    def __init__(self, path: str | Path | None = None) -> None:
        if path is not None and not Path(path).is_file():
            raise SpecMissing(f"no Discord OpenAPI spec at {path}")
        self._path = Path(path) if path else default_spec_path()
        self._routes: list[tuple[re.Pattern[str], str, dict[str, Any]]] | None = None
        self._spec: dict[str, Any] | None = None

    @property
    def available(self) -> bool:
        return self._path is not None and self._path.is_file()

    @property
    def path(self) -> Path | None:
        return self._path

    def require(self) -> Path:
        """The spec's path; :class:`SpecMissing` (naming where it was looked for) if absent."""
        if self._path is None or not self._path.is_file():
            looked = ", ".join(str(c) for c in SPEC_CANDIDATES)
            raise SpecMissing(
                f"Discord's OpenAPI spec was not found (looked at $DISCORD_OPENAPI_SPEC, {looked})"
            )
        return self._path

    def _load(self) -> None:
        if self._routes is not None:
            return
        if not self.available:
            self._routes = []
            self._spec = {}
            return
        key = str(self._path)
        with self._lock:
            spec = self._cache.get(key)
            if spec is None:
                with open(key, encoding="utf-8") as f:
                    spec = json.load(f)
                self._cache[key] = spec
        self._spec = spec
        routes = []
        for template, item in spec.get("paths", {}).items():
            rx = "^" + re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(template)) + "$"
            routes.append((re.compile(rx), template, item))
        # literal segments first (e.g. /messages/@original before /messages/{id})
        routes.sort(key=lambda r: r[1].count("{"))
        self._routes = routes

    def _resolve(self, schema: Any) -> Any:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 20:
            ref = schema["$ref"]
            node: Any = self._spec
            for part in ref.lstrip("#/").split("/"):
                node = node.get(part, {}) if isinstance(node, dict) else {}
            schema = node
            seen += 1
        return schema

    def body_schema(self, method: str, path: str) -> dict[str, Any] | None:
        self._load()
        assert self._routes is not None
        for rx, _template, item in self._routes:
            if rx.match(path):
                op = item.get(method.lower())
                if not op:
                    return None
                content = op.get("requestBody", {}).get("content", {})
                media = content.get("application/json")
                if not media:
                    return None
                schema = self._resolve(media.get("schema"))
                return schema if isinstance(schema, dict) else None
        return None

    def _variants(self, schema: Any) -> list[dict[str, Any]]:
        schema = self._resolve(schema)
        if not isinstance(schema, dict):
            return []
        for key in ("oneOf", "anyOf"):
            if key in schema:
                out: list[dict[str, Any]] = []
                for s in schema[key]:
                    out.extend(self._variants(s))
                return out
        if "allOf" in schema:
            merged: dict[str, Any] = {"type": "object", "properties": {}}
            for s in schema["allOf"]:
                for v in self._variants(s):
                    merged["properties"].update(v.get("properties", {}))
            return [merged]
        return [schema]

    def _type_ok(self, value: Any, prop: Any) -> bool:
        prop = self._resolve(prop)
        if not isinstance(prop, dict):
            return True
        if "oneOf" in prop or "anyOf" in prop:
            alts = prop.get("oneOf") or prop.get("anyOf") or []
            return any(self._type_ok(value, p) for p in alts)
        types = prop.get("type")
        if types is None:
            return True
        if isinstance(types, str):
            types = [types]
        for t in types:
            if t == "null" and value is None:
                return True
            py = _JSON_TYPES.get(t)
            if py is None:
                return True
            if isinstance(value, bool) and t in ("integer", "number"):
                continue
            if isinstance(value, py):
                return True
        return False

    def _check_variant(self, body: dict[str, Any], schema: dict[str, Any]) -> list[str]:
        props = schema.get("properties")
        if not isinstance(props, dict):
            return []
        problems = []
        for key, value in body.items():
            if key not in props:
                problems.append(f"unknown field {key!r}")
            elif not self._type_ok(value, props[key]):
                problems.append(f"field {key!r} has wrong type {type(value).__name__}")
        return problems

    def check(self, method: str, path: str, body: Any) -> list[str]:
        """Problems with a JSON body for ``method path`` (path without /api/v10)."""
        try:
            schema = self.body_schema(method, path)
        except Exception as exc:  # a broken spec must never break the emulator
            return [f"spec unavailable: {exc}"]
        if schema is None:
            return []
        variants = self._variants(schema)
        if not variants:
            return []
        if not isinstance(body, dict):
            if any(v.get("type") == "object" or "properties" in v for v in variants):
                return [f"body should be an object, got {type(body).__name__}"]
            return []
        best: list[str] | None = None
        for v in variants:
            problems = self._check_variant(body, v)
            if not problems:
                return []
            if best is None or len(problems) < len(best):
                best = problems
        return best or []
