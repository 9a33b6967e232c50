"""Printing benchmark results as aligned plain-text tables, with the machine they ran on."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Sequence

from sandbox.discord import DiscordControl


def machine() -> str:
    return f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}"


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in header]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [title, "-" * len(title)]
    for index, row in enumerate(cells):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


# -- quick mode and Discord's refusals --------------------------------------------------------

QUICK = "--quick" in sys.argv[1:] or os.environ.get("BENCH_QUICK") == "1"
"""`--quick` (or BENCH_QUICK=1): small sizes, to check that a benchmark starts and finishes.
Its figures mean nothing; the README's come from full runs."""

INVALID_FORM_BODY = 50035


def sized(full: int, quick: int) -> int:
    return quick if QUICK else full


async def discord_refusals(control: DiscordControl) -> list[str]:
    """Every body the Discord emulator refused as Discord would (400 50035) so far."""
    return [
        f"{error.get('method')} {error.get('path')}: {error.get('errors')}"
        for error in await control.errors()
        if error.get("code") == INVALID_FORM_BODY
    ]


def verdict(refused: list[str]) -> int:
    """The benchmark's exit status: 1, with a FAIL line, if Discord would have refused a body
    it sent (a figure measured on bodies real Discord refuses measures nothing)."""
    if QUICK:
        print("\n(--quick: small sizes, figures not representative)")
    if not refused:
        print("Discord bodies: none refused (400 50035)")
        return 0
    print(f"\nFAIL: the Discord emulator refused {len(refused)} bodies with 400 50035:")
    for line in refused[:20]:
        print(f"  {line}")
    return 1
