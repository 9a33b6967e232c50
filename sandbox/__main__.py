"""`python -m sandbox discord|spotify --port N`: run one emulator standalone."""

from __future__ import annotations

import argparse
import asyncio


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox")
    parser.add_argument("emulator", choices=["discord", "spotify"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    if args.emulator == "discord":
        from sandbox.discord import serve
    else:
        from sandbox.spotify import serve  # type: ignore[assignment]
    asyncio.run(serve(args.host, args.port or (8790 if args.emulator == "discord" else 8089)))


if __name__ == "__main__":
    main()
