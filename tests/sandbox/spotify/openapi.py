"""A small validator of response bodies against Spotify's OpenAPI spec."""

from __future__ import annotations

import re
from typing import Any


def template(path: str) -> str:
    """``/playlists/{playlist_id}/items`` and ``/v1/playlists/{id}/items`` -> one key."""
    return re.sub(r"\{[^}]+\}", "{}", path.removeprefix("/v1"))


class SchemaChecker:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.paths = {template(p): p for p in spec["paths"]}

    def operation(self, path: str, method: str = "get") -> dict[str, Any] | None:
        """The spec's operation for an emulator route (any placeholder names)."""
        spec_path = self.paths.get(template(path))
        if spec_path is None:
            return None
        op: dict[str, Any] | None = self.spec["paths"][spec_path].get(method.lower())
        return op

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def response_schema(
        self, path: str, method: str = "get", status: str = "200"
    ) -> dict[str, Any]:
        op = self.operation(path, method)
        assert op is not None, f"{method.upper()} {path} is not in the spec"
        resp = self.resolve(op["responses"][status])
        schema: dict[str, Any] = resp["content"]["application/json"]["schema"]
        return schema

    def problems(self, path: str, body: Any, method: str = "get", status: str = "200") -> list[str]:
        return self.check(body, self.response_schema(path, method, status))

    def check(self, value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
        schema = self.resolve(schema)
        errors: list[str] = []
        if value is None:
            # lenient: Spotify itself sends null for many fields the spec does not mark nullable
            return []
        for sub in schema.get("allOf", []):
            errors += self.check(value, sub, where)
        if "oneOf" in schema:
            opts: list[list[str]] = [self.check(value, s, where) for s in schema["oneOf"]]
            if all(opts):
                errors += sorted(opts, key=len)[0]
        typ = schema.get("type")
        checks = {
            "object": lambda v: isinstance(v, dict),
            "array": lambda v: isinstance(v, list),
            "string": lambda v: isinstance(v, str),
            "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "boolean": lambda v: isinstance(v, bool),
        }
        if typ in checks and not checks[typ](value):
            return [*errors, f"{where}: expected {typ}, got {type(value).__name__}"]
        if "enum" in schema and isinstance(value, str) and value not in schema["enum"]:
            errors.append(f"{where}: {value!r} not in {schema['enum']}")
        if isinstance(value, dict):
            for req in schema.get("required", []):
                if req not in value:
                    errors.append(f"{where}: missing required {req!r}")
            for key, sub in schema.get("properties", {}).items():
                if key in value:
                    errors += self.check(value[key], sub, f"{where}.{key}")
        if isinstance(value, list) and "items" in schema:
            for i, item in enumerate(value):
                errors += self.check(item, schema["items"], f"{where}[{i}]")
        return errors
