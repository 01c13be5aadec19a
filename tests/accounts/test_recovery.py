"""Email verification and password reset, through the links that actually arrive by email."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import re
from pathlib import Path

from app.accounts.tables import User
from app.clock import utcnow
from app.notifications.delivery import deliver_due
from app.notifications.tables import Notification
from app.settings import Settings
from tests.support.client import WebClient
from tests.support.people import make_organization, make_user


async def delivered_links(settings: Settings, mail_dir: Path) -> list[str]:
    """Deliver the queue into .eml files and return every link to this site found in their text parts."""
    report = await deliver_due(
        dataclasses.replace(settings, smtp_url=None, data_dir=mail_dir.parent), utcnow()
    )
    assert report.failed == 0
    links = []
    for path in sorted(mail_dir.glob("*.eml")):  # noqa: ASYNC240 (a few small files in a test)
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        links += re.findall(r"http://testserver(/\S+)", body.get_content())
        path.unlink()
    return links


async def test_sign_up_sends_a_link_that_confirms_the_address(
    client: WebClient, settings: Settings, tmp_path: Path
) -> None:
    """The emailed link marks the address confirmed; the account page says so."""
    await client.post(
        "/signup",
        {"display_name": "未来 創", "email": "founder@example.jp", "password": "tsukiji fish market sunrise"},
    )
    assert "/account/verify" in (await client.get("/account")).text  # the resend button
    links = [
        link
        for link in await delivered_links(settings, tmp_path / "mail")
        if link.startswith("/account/verify/")
    ]
    assert len(links) == 1
    confirmed = await client.get(links[0])
    assert confirmed.status_code == 200
    # A handler typed "-> Any" was served as application/json: the browser showed the page's source.
    assert confirmed.headers["content-type"].startswith("text/html")
    user = await User.select(User.email_verified_at).where(User.email == "founder@example.jp").first().run()
    assert user["email_verified_at"] is not None
    assert 'action="/account/verify"' not in (await client.get("/account")).text


async def test_a_forged_or_stale_verification_link_is_refused(
    client: WebClient, settings: Settings, tmp_path: Path
) -> None:
    """A tampered token, or one for an address the account no longer has, confirms nothing."""
    await client.post(
        "/signup",
        {"display_name": "未来 創", "email": "founder@example.jp", "password": "tsukiji fish market sunrise"},
    )
    link = (await delivered_links(settings, tmp_path / "mail"))[0]
    forged = await client.get(link[:-3] + "abc")
    assert forged.status_code == 400
    assert forged.headers["content-type"].startswith("text/html")
    await User.update({User.email: "moved@example.jp"}).where(User.email == "founder@example.jp").run()
    assert (await client.get(link)).status_code == 400
    assert (await User.select(User.email_verified_at).first().run())["email_verified_at"] is None


async def test_password_reset_works_once_and_does_not_reveal_accounts(
    client: WebClient, other_client: WebClient, settings: Settings, tmp_path: Path
) -> None:
    """Known and unknown addresses get the same answer; the link sets a new password once."""
    person = await make_user("member@example.jp")
    known = await client.post("/password/forgot", {"email": "member@example.jp"})
    unknown = await client.post("/password/forgot", {"email": "nobody@example.jp"})
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("member@example.jp", "") == unknown.text.replace("nobody@example.jp", "")
    assert await Notification.count().where(Notification.kind == "password_reset").run() == 1
    links = await delivered_links(settings, tmp_path / "mail")
    reset = next(link for link in links if link.startswith("/password/reset/"))
    assert (await client.get(reset)).status_code == 200
    weak = await client.post(reset, {"password": "short"})
    assert weak.status_code == 422
    assert weak.headers["content-type"].startswith("text/html")
    done = await client.post(reset, {"password": "a brand new harbour lantern"})
    assert done.status_code == 303
    assert (await client.get("/account")).status_code == 200  # signed in
    assert (await client.get(reset)).status_code == 400  # used: the password changed
    assert (await client.post(reset, {"password": "yet another quiet mountain"})).status_code == 400
    await other_client.post("/signin", {"email": person.email, "password": person.password})
    assert (await other_client.get("/account")).status_code != 200  # the old password no longer works
    await other_client.sign_in(person.email, "a brand new harbour lantern")


async def test_an_invitation_is_emailed_to_the_invitee(
    client: WebClient, settings: Settings, tmp_path: Path
) -> None:
    """The owner's invitation arrives at the invited address with a working link."""
    owner = await make_user("owner@example.jp")
    organization_id = await make_organization(owner)
    await client.sign_in(owner.email, owner.password)
    invited = await client.post(
        f"/organizations/{organization_id}/invitations", {"email": "new@example.jp", "role": "member"}
    )
    assert invited.status_code == 200
    row = await Notification.select(Notification.email_to, Notification.kind).first().run()
    assert row == {"email_to": "new@example.jp", "kind": "organization_invitation"}
    links = await delivered_links(settings, tmp_path / "mail")
    assert any(link.startswith("/invitations/") for link in links)
