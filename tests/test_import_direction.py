"""Dependencies point one way: cogs -> bot.ui -> bot services -> db.

Every import in `bot/`, `cogs/` and `db/` is read from the source (module level, under
`TYPE_CHECKING`, and inside functions), so a cycle cannot hide behind a late import.

The layers, lowest first. A module may import its own layer and the layers below it:

- db: models, engine, locks, migrations.
- core: what everything shares: settings, clock, errors, metrics, logging, music types.
- services: the features (`bot.spotify`, `bot.shuffle`, ...). They return data and never
  import discord.py.
- container: `bot.services`, which builds every service once per process.
- ui: Discord presentation (`bot.ui`, plus the discord.py set-up and option checks).
- client: `bot.client`, the discord.py bot that loads the cogs it is handed.
- cogs: the slash commands.
- roots: the composition roots, which wire everything: the CLI (`bot.__main__`), the runtime,
  the web server and its API, the scheduler. Nothing imports them but each other.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "cogs", "db")

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("db", ("db",)),
    (
        "core",
        (
            "bot",
            "bot.clock",
            "bot.config",
            "bot.errors",
            "bot.inert",
            "bot.keys",
            "bot.logs",
            "bot.metrics",
            "bot.music",
            "bot.problems",
            "bot.single_flight",
        ),
    ),
    (
        "services",
        (
            "bot.spotify",
            "bot.outbox",
            "bot.discord_budget",
            "bot.linking",
            "bot.playlists",
            "bot.search",
            "bot.likes",
            "bot.shuffle",
            "bot.releases",
            "bot.digests",
            "bot.heartbeat",
            "bot.listening",
            "bot.playlist_saves",
            "bot.radar",
        ),
    ),
    ("container", ("bot.services",)),
    (
        "ui",
        ("bot.ui", "bot.discord_setup", "bot.guild_cache", "bot.options", "bot.channel_access"),
    ),
    ("client", ("bot.client",)),
    ("cogs", ("cogs",)),
    (
        "roots",
        (
            "bot.__main__",
            "bot.runtime",
            "bot.web",
            "bot.web_link",
            "bot.web_security",
            "bot.api",
            "bot.scheduler",
            "bot.observability",
            "bot.startup",
            "bot.doctor",
        ),
    ),
)
# `bot` itself is the package's `__init__` (its version); every other module of it is placed
# by name, so a new module must be given a layer here.
EXACT = {"bot"}
NO_DISCORD_BELOW = "ui"  # db, core, services and the container never import discord.py
# Presentation and commands hold no SQL and no Spotify calls.
NOT_IN_PRESENTATION = ("db", "sqlalchemy", "spotipy")
PRESENTATION = ("ui", "client", "cogs")
# The CLI imports its roles late, so `encore --help` and a settings error answer at once
# without importing discord.py and SQLAlchemy. Not a cycle being hidden: nothing imports
# bot.__main__.
LATE_IMPORTS_ALLOWED = {
    ("bot.__main__", "bot.runtime"),
    ("bot.__main__", "bot.doctor"),
    ("bot.__main__", "sandbox.demo"),
    # A role's own imports, made where the runtime starts that role: `encore gateway` carries
    # no web server, scheduler or metrics endpoint (tests/e2e/test_role_imports.py).
    ("bot.runtime", "bot.web"),
    ("bot.runtime", "bot.scheduler"),
    ("bot.runtime", "bot.observability"),
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module (or package)
    line: int
    in_function: bool

    def __str__(self) -> str:
        where = " inside a function" if self.in_function else ""
        return f"{self.module}:{self.line} imports {self.target}{where}"


def module_files() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(module: str, path: Path, modules: set[str]) -> list[Import]:
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(Import(module, alias.name, child.lineno, in_function))
            elif isinstance(child, ast.ImportFrom):
                base = _absolute(module, is_package, child.module, child.level)
                for alias in child.names:
                    # `from bot import metrics` imports the module bot.metrics.
                    candidate = f"{base}.{alias.name}"
                    target = candidate if candidate in modules else base
                    found.append(Import(module, target, child.lineno, in_function))
            visit(child, nested)

    visit(tree, False)
    return found


def _absolute(module: str, is_package: bool, name: str | None, level: int) -> str:
    if level == 0:
        return name or ""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    parts = parts[: len(parts) - (level - 1)]
    return ".".join([*parts, name] if name else parts)


def layer_of(module: str) -> str | None:
    """The layer of an Encore module; None for a module no layer claims."""
    claims = [
        (len(prefix), layer)
        for layer, prefixes in LAYERS
        for prefix in prefixes
        if module == prefix or (prefix not in EXACT and module.startswith(prefix + "."))
    ]
    return max(claims)[1] if claims else None  # the longest prefix wins


RANK = {layer: rank for rank, (layer, _) in enumerate(LAYERS)}


def is_encore(target: str) -> bool:
    return target.split(".")[0] in (*PACKAGES, "sandbox")


def all_imports() -> list[Import]:
    files = module_files()
    return [
        found for module, path in files.items() for found in imports_of(module, path, set(files))
    ]


def test_every_module_has_a_layer() -> None:
    unplaced = [module for module in module_files() if layer_of(module) is None]
    assert not unplaced, f"give these modules a layer in LAYERS: {unplaced}"


def test_imports_point_down_the_layers() -> None:
    upward = []
    for found in all_imports():
        if not is_encore(found.target) or found.target.startswith("sandbox"):
            continue
        source, target = layer_of(found.module), layer_of(found.target)
        if source is None or target is None:
            continue  # test_every_module_has_a_layer names it
        if RANK[target] > RANK[source]:
            upward.append(f"{found} ({source} -> {target})")
    assert not upward, "imports against the direction:\n" + "\n".join(upward)


def test_no_encore_module_is_imported_inside_a_function() -> None:
    late = [
        str(found)
        for found in all_imports()
        if found.in_function
        and is_encore(found.target)
        and (found.module, found.target) not in LATE_IMPORTS_ALLOWED
    ]
    assert not late, "import these at the top of the module:\n" + "\n".join(late)


def test_only_the_cli_reaches_into_the_sandbox() -> None:
    reaching = [
        str(found)
        for found in all_imports()
        if found.target.split(".")[0] == "sandbox"
        and (found.module, found.target) not in LATE_IMPORTS_ALLOWED
    ]
    assert not reaching, "\n".join(reaching)


def test_services_and_below_never_import_discord() -> None:
    below = {layer for layer, _ in LAYERS if RANK[layer] < RANK[NO_DISCORD_BELOW]}
    offending = [
        str(found)
        for found in all_imports()
        if found.target.split(".")[0] == "discord" and layer_of(found.module) in below
    ]
    assert not offending, "services return data; rendering is bot.ui's:\n" + "\n".join(offending)


def test_presentation_holds_no_sql_and_no_spotify_calls() -> None:
    offending = [
        str(found)
        for found in all_imports()
        if layer_of(found.module) in PRESENTATION
        and found.target.split(".")[0] in NOT_IN_PRESENTATION
    ]
    assert not offending, "call a service instead:\n" + "\n".join(offending)


def test_features_do_not_import_each_other_in_a_circle() -> None:
    """Within a layer imports may go sideways (shuffle reads playlists), never round."""
    graph: dict[str, set[str]] = {}
    for found in all_imports():
        if not is_encore(found.target) or found.target.startswith("sandbox"):
            continue
        source, target = _feature(found.module), _feature(found.target)
        if source != target:
            graph.setdefault(source, set()).add(target)
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def _feature(module: str) -> str:
    """A feature is a top-level module or package: bot.shuffle.queues belongs to bot.shuffle."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "bot" else parts[0]


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def walk(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done:
            return None
        visiting.append(node)
        for following in sorted(graph.get(node, ())):
            found = walk(following)
            if found is not None:
                return found
        visiting.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        found = walk(start)
        if found is not None:
            return found
    return None


def test_the_checker_sees_late_and_type_checking_imports(tmp_path: Path) -> None:
    """The rules above are only as good as the parser: it must see every kind of import."""
    source = tmp_path / "sample.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from bot import metrics\n"
        "if TYPE_CHECKING:\n"
        "    from bot.client import EncoreBot\n"
        "def later():\n"
        "    from bot.client import report_error\n"
        "    import cogs.likes\n"
    )
    found = imports_of("bot.ui.sample", source, {"bot.metrics", "bot.client", "cogs.likes"})
    assert [(i.target, i.in_function) for i in found if is_encore(i.target)] == [
        ("bot.metrics", False),
        ("bot.client", False),
        ("bot.client", True),
        ("cogs.likes", True),
    ]
    assert layer_of("bot.ui.sample") == "ui" and layer_of("bot.client") == "client"
    assert layer_of("bot.encore_next") is None  # a new feature must be placed explicitly
