"""Failures a server owner causes or meets: what happened and what to do, never a traceback.

`encore` prints `OperatorError.render()` and exits with its status: 2 for configuration
(something in the settings or at Discord/Spotify/PostgreSQL that only the owner can change),
1 for a dependency that is down or unreachable.
"""

from __future__ import annotations

CONFIGURATION = 2
UNAVAILABLE = 1


class OperatorError(Exception):
    def __init__(self, what: str, todo: str, *, status: int = CONFIGURATION) -> None:
        self.what = what
        self.todo = todo
        self.status = status
        super().__init__(what)

    def render(self) -> str:
        return f"Encore stopped: {self.what}\n  What to do: {self.todo}"


def unavailable(what: str, todo: str) -> OperatorError:
    return OperatorError(what, todo, status=UNAVAILABLE)
