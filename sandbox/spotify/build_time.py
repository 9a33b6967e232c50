"""``python -m sandbox.spotify.build_time``: how long a catalogue takes to build.

Best of N, uncached, per profile: the music plus one emulator's preset users (what the
first emulator of a process pays; later ones and resets reuse the music).
"""

from __future__ import annotations

import datetime as dt
import time

from .catalog import Catalog
from .music import PROFILES, Music


def main(repeats: int = 5) -> None:
    today = dt.date(2026, 11, 20)
    for profile in PROFILES:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            Catalog(2026, today, profile, music=Music(2026, today, profile))
            times.append(time.perf_counter() - start)
        print(f"{profile}: {min(times):.3f} s (best of {repeats})")


if __name__ == "__main__":
    main()
