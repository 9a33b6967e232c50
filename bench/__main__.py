"""`make bench`: run every benchmark script in turn; each prints its own table."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = [
    "interaction_latency.py",
    "admission.py",
    "digest_fanout.py",
    "discord_budget.py",
    "linking.py",
    "ingestion.py",
    "shuffle_quality.py",
    "shuffle_rollover.py",
    "api_artists.py",
    "gateway_memory.py",
    "spotify_client.py",
    "radar.py",
]


def main(argv: list[str]) -> int:
    """`python -m bench [--quick] [name ...]`: every benchmark, or those named; `--quick`
    runs each on small sizes, to check that it starts and finishes (and that Discord would
    have taken every body it sent)."""
    quick = "--quick" in argv
    names = [name.removesuffix(".py") for name in argv if not name.startswith("-")]
    scripts = [
        HERE / name
        for name in ORDER
        if (HERE / name).exists() and (not names or name.removesuffix(".py") in names)
    ]
    failed = []
    for script in scripts:
        print(f"\n##### {script.stem} " + "#" * 50, flush=True)
        started = time.monotonic()
        command = [sys.executable, str(script), *(["--quick"] if quick else [])]
        result = subprocess.run(command, check=False)
        print(f"({script.name}: {time.monotonic() - started:.1f} s)", flush=True)
        if result.returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"\nFailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
