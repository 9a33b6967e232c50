"""When linking meets trouble: closed DMs, an account development mode does not serve, and a
link Spotify stopped accepting (`invalid_grant`), healed by linking again."""

from __future__ import annotations

from sandbox.demo import Demo

TITLE = "Linking: closed DMs, development mode, a link Spotify stopped accepting"


async def run(demo: Demo) -> None:
    sandbox = demo.sandbox
    bob = demo.people["bob"]

    dana = demo.people["dana"] = await sandbox.user("dana", dms_open=False)
    reply = await demo.command(dana, "link")
    demo.expect(
        sandbox.link_in(reply) is not None and reply.ephemeral,
        "dana's DMs are closed: her personal link comes in the private reply instead",
    )
    demo.expect(await sandbox.dms(dana) == [], "and no DM was sent")

    erin = demo.people["erin"] = await sandbox.user("erin")
    outcome = await sandbox.link(erin, "outsider")
    demo.show(
        "erin",
        "follows her link and signs in to Spotify as 'outsider', whom the app's owner has not "
        "added to its allowlist",
        text=f"browser shows: HTTP {outcome.status}, "
        + ("'… at most 5 users … allowlist …'" if "allowlist" in outcome.page else outcome.page),
    )
    demo.expect(
        outcome.status == 403 and "allowlist" in outcome.page,
        "development mode: Spotify refuses accounts off the allowlist, and the page explains it",
    )
    dm = await sandbox.wait_for_dm(erin, "allowlist")
    demo.show("Encore", "DMs erin", text=sandbox.seen(dm))
    reply = await demo.command(erin, "account")
    demo.expect(reply, "nothing was stored: erin is still not linked", contains="/link")

    # Six months pass, or bob revokes Encore's access on Spotify's site: the refresh token
    # is refused (`invalid_grant`) the next time Encore needs a fresh access token.
    await sandbox.spotify.revoke_tokens("bob")
    await sandbox.spotify.expire_tokens("bob")
    demo.show(
        "bob",
        "removes Encore from the apps on his Spotify account page",
        text="Spotify refuses Encore's tokens for bob from now on (invalid_grant)",
    )
    with demo.log_lines("bot.spotify") as logged:
        reply = await demo.command(bob, "np")
    demo.expect(reply, "bob's next command says to link again", contains="/link")
    demo.show("the log", "says", text="\n".join(logged) or "(nothing)")
    dm = await sandbox.wait_for_dm(bob, "no longer accepts")
    demo.show("Encore", "DMs bob, once", text=sandbox.seen(dm))
    reply = await demo.command(bob, "account")
    demo.expect(reply, "/account says the link needs renewing", contains="no longer accepts")
    outcome = await sandbox.link(bob, "bob")
    demo.show("bob", "runs /link and follows the new link", text=f"HTTP {outcome.status}")
    reply = await demo.command(bob, "np")
    demo.expect(reply, "linking again heals it: /np answers again", contains="Nothing is playing")
