"""`python -m sandbox discord|spotify --port N`: run one emulator standalone."""

from __future__ import annotations

import argparse
import asyncio


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox")
    parser.add_argument("emulator", choices=["discord", "spotify"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="spotify: wait this long before answering"
    )
    parser.add_argument(
        "--jitter-ms", type=float, default=0.0, help="spotify: +/- this much, uniformly"
    )
    args = parser.parse_args()
    if args.emulator == "discord":
        from sandbox.discord import serve as serve_discord

        asyncio.run(serve_discord(args.host, args.port or 8790))
    else:
        from sandbox.spotify import serve as serve_spotify

        asyncio.run(
            serve_spotify(
                args.host, args.port or 8089, latency_ms=args.latency_ms, jitter_ms=args.jitter_ms
            )
        )


if __name__ == "__main__":
    main()
