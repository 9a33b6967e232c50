"""Demo scenarios, run in file-name order by `encore demo` and by the end-to-end test.

Each module has a `TITLE` and `async def run(demo: Demo) -> None`; a new feature adds a
file here. `10_linking` links the demo's people: alice (Spotify `alice`, Premium) and
bob (Spotify `bob`); carol stays unlinked; `demo.admin` owns the server.
"""
