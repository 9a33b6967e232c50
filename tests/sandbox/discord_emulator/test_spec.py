"""Discord's OpenAPI spec is found from the project, never by an absolute path."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.discord import spec
from sandbox.discord.spec import PROJECT_ROOT, SpecMissing, SpecValidator


def test_the_spec_is_found_beside_the_project_and_loads() -> None:
    found = SpecValidator().require()  # fails loudly, naming where it looked
    assert found.is_relative_to(PROJECT_ROOT) or found.is_relative_to(
        PROJECT_ROOT.parent / "shared"
    )
    assert SpecValidator().body_schema("POST", "/channels/1/messages") is not None


def test_the_emulator_looks_nowhere_absolute() -> None:
    source = Path(spec.__file__).read_text()
    assert "/work/" not in source


def test_a_spec_path_that_does_not_exist_is_refused_at_once(tmp_path: Path) -> None:
    with pytest.raises(SpecMissing):
        SpecValidator(tmp_path / "openapi.json")


def test_without_a_spec_require_says_where_it_looked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(spec, "SPEC_CANDIDATES", (tmp_path / "missing.json",))
    monkeypatch.delenv("DISCORD_OPENAPI_SPEC", raising=False)
    with pytest.raises(SpecMissing, match=r"missing\.json"):
        SpecValidator().require()
