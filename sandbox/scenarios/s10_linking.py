"""Linking: /link sends a personal link by DM; following it links the Spotify account."""

from __future__ import annotations

from sandbox.demo import Demo

TITLE = "Linking a Spotify account"


async def run(demo: Demo) -> None:
    sandbox = demo.sandbox
    alice, bob, carol = demo.people["alice"], demo.people["bob"], demo.people["carol"]

    reply = await demo.command(carol, "account")
    demo.expect(reply, "an unlinked user is told to /link", contains="/link")

    reply = await demo.command(alice, "link")
    demo.expect(reply, "/link answers privately that a DM was sent", contains="direct message")
    dms = await sandbox.dms(alice)
    link_url = sandbox.link_in_dms(dms)
    demo.show("Encore", "sends alice a DM", text=demo.sandbox.seen(dms[-1]) if dms else "(none)")
    demo.expect(link_url is not None, "the DM holds a personal link")
    if link_url is None:
        return
    forwarded = await sandbox.follow_link(link_url, "bob", discord_user=bob)
    demo.show(
        "bob",
        "opens alice's link (forwarded to him) and signs in to Discord as himself",
        text=f"browser shows: HTTP {forwarded.status}, 'This link is for someone else'",
    )
    demo.expect(
        forwarded.status == 403 and "someone else" in forwarded.page,
        "a link opened by another Discord account is refused, nothing stored",
    )
    outcome = await sandbox.follow_link(link_url, "alice")
    demo.show(
        "alice",
        "opens the link: it says it is hers; she confirms, signs in to Discord, allows Spotify",
        text=f"browser shows: HTTP {outcome.status}, 'Linked as Alice'",
    )
    demo.expect(
        outcome.status == 200 and "Linked as" in outcome.page,
        "the browser says the account is linked",
    )
    dm = await sandbox.wait_for_dm(alice, "is now linked")
    demo.show("Encore", "DMs alice", text=demo.sandbox.seen(dm))
    demo.expect(True, "alice gets a DM confirming the link")

    replay = await sandbox.follow_link(link_url, "alice")
    demo.show("someone", "opens alice's link again", text=f"browser shows: HTTP {replay.status}")
    demo.expect(replay.status in (400, 410), "a used link cannot be used again")

    outcome = await sandbox.link(bob, "bob")
    demo.expect(outcome.status == 200, "bob links his account too")

    reply = await demo.command(alice, "account")
    demo.expect(reply, "/account shows the linked account and its expiry", contains="Renew within")
