"""The web role's public answers (`/health`, `/api/artists`, `/api/releases`) and what a
member sees when Encore itself fails: an incident id, the same one as in the log."""

from __future__ import annotations

import json
from typing import Any

from sandbox.demo import Demo

TITLE = "Health, the JSON API, and an incident"


def _summary(items: list[dict[str, Any]], key: str) -> str:
    return "; ".join(str(item.get(key)) for item in items[:3]) + (" …" if len(items) > 3 else "")


async def run(demo: Demo) -> None:
    sandbox = demo.sandbox
    alice = demo.people["alice"]

    status, body, _ = await demo.get("/health")
    demo.show("a container health check", "GET /health", text=f"HTTP {status} {body}")
    demo.expect(status == 200 and json.loads(body).get("status") == "ok", "/health says ok")

    status, body, headers = await demo.get("/api/artists?release_limit=5")
    artists = json.loads(body).get("items", []) if status == 200 else []
    demo.show(
        "a web page",
        "GET /api/artists?release_limit=5",
        text=f"HTTP {status}, {len(artists)} artists: {_summary(artists, 'name')}\n"
        f"Cache-Control: {headers.get('Cache-Control')}, ETag: {headers.get('ETag')}",
    )
    demo.expect(bool(artists), "/api/artists: the artists behind the latest releases, as JSON")
    etag = headers.get("ETag", "")
    status, _, _ = await demo.get("/api/artists?release_limit=5", **{"If-None-Match": etag})
    demo.show("the same page", "polls again with If-None-Match", text=f"HTTP {status}")
    demo.expect(status == 304, "nothing changed: 304, no body")

    status, body, _ = await demo.get("/api/releases?limit=3")
    releases = json.loads(body).get("items", []) if status == 200 else []
    demo.show(
        "a web page",
        "GET /api/releases?limit=3",
        text=f"HTTP {status}, {len(releases)} releases: {_summary(releases, 'name')}",
    )
    demo.expect(len(releases) == 3, "/api/releases: the latest releases, as JSON")
    status, body, _ = await demo.get("/api/releases?limit=1000")
    demo.show("a careless client", "GET /api/releases?limit=1000", text=f"HTTP {status} {body}")
    demo.expect(status == 400 and "limit" in body, "a bad parameter is a 400 naming it")

    # A bug, simulated for the demo: the likes service fails in a way Encore did not foresee.
    likes = sandbox.services.likes

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug the demo put there")

    with demo.log_lines("bot.ui.errors") as logged:
        likes.page = broken
        try:
            reply = await demo.command(alice, "likes")
        finally:
            del likes.page
    incident = reply.text.split("incident `", 1)[-1].split("`", 1)[0] if reply.message else ""
    demo.show("the log", "says (with the traceback after it)", text="\n".join(logged))
    demo.expect(
        reply.ephemeral and len(incident) == 8,
        "an unexpected error shows an incident id, privately",
    )
    demo.expect(
        any(f"Incident {incident}" in line for line in logged),
        "the same id is in the log, where the owner finds the traceback",
    )
