"""The bell, the notification list, message settings, unsubscribe links and the admins' outbox pages."""

from __future__ import annotations

from app.clock import utcnow
from app.notifications.outbox import notify_users
from app.notifications.tables import MutedMessage, Notification
from app.notifications.unsubscribe import unsubscribe_token
from app.settings import Settings
from tests.support.client import WebClient
from tests.support.people import make_user

ANSWER = {
    "slug": "bousai",
    "title_ja": "防災情報の多言語化",
    "title_en": "Multilingual alerts",
    "answer": "3か月",
}


async def queue_answer(user_id: int) -> int:
    """One in-app (and email) message for `user_id`; returns its id."""
    await notify_users(
        "question_answered", [user_id], ANSWER, link="/challenges/bousai#question-1", now=utcnow()
    )
    row = await Notification.select(Notification.id).order_by(Notification.id, ascending=False).first().run()
    return int(row["id"])


async def test_bell_list_open_and_mark_read(client: WebClient) -> None:
    """The bell counts unread; opening one marks it read and leads to its page; 'mark all' clears it."""
    reader = await make_user("reader@example.jp")
    first = await queue_answer(reader.id)
    await queue_answer(reader.id)
    await client.sign_in(reader.email, reader.password)
    bell = await client.get("/notifications/bell", htmx=True)
    assert 'badge--count">2<' in bell.text
    assert bell.headers["cache-control"] == "no-store"
    listing = await client.get("/notifications")
    assert listing.text.count("防災情報の多言語化") == 2
    opened = await client.get(f"/notifications/{first}")
    assert opened.status_code in (301, 302, 303, 307)
    assert opened.headers["location"] == "/challenges/bousai#question-1"
    assert "badge--count" in (await client.get("/notifications/bell")).text
    await client.post("/notifications/read")
    assert "badge--count" not in (await client.get("/notifications/bell")).text


async def test_the_list_speaks_the_readers_language(client: WebClient) -> None:
    """The same notification reads in English for an English reader."""
    reader = await make_user("en@example.jp")
    await queue_answer(reader.id)
    await client.sign_in(reader.email, reader.password)
    await client.get("/locale/en")
    assert "Multilingual alerts" in (await client.get("/notifications")).text


async def test_someone_elses_notification_is_404(client: WebClient) -> None:
    """Opening another user's notification does not leak or mark it."""
    owner = await make_user("owner@example.jp")
    other = await make_user("other@example.jp")
    notification_id = await queue_answer(owner.id)
    await client.sign_in(other.email, other.password)
    assert (await client.get(f"/notifications/{notification_id}")).status_code == 404
    assert (await Notification.select(Notification.read_at).first().run())["read_at"] is None
    assert (await client.get("/notifications")).text.count("防災情報の多言語化") == 0


async def test_anonymous_visitors_are_sent_to_sign_in(client: WebClient) -> None:
    """The list and the settings page need an account."""
    for path in ("/notifications", "/account/notifications", "/notifications/bell"):
        response = await client.get(path)
        assert response.status_code in (302, 303, 401), path


async def test_settings_mute_optional_messages_only(client: WebClient) -> None:
    """Unticking mutes an optional kind; a required kind cannot be muted even by a crafted form."""
    person = await make_user("settings@example.jp")
    await client.sign_in(person.email, person.password)
    page = await client.get("/account/notifications")
    assert 'value="verify_email"' in page.text
    assert "disabled" in page.text
    saved = await client.post("/account/notifications", {"kind": ["question_answered"]})
    assert saved.status_code == 303
    muted = {row["kind"] for row in await MutedMessage.select(MutedMessage.kind).run()}
    assert "question_answered" not in muted
    assert "followed_deadline_reminder" in muted
    assert "verify_email" not in muted
    assert "password_reset" not in muted
    assert await notify_users("followed_deadline_reminder", [person.id], ANSWER, link="/", now=utcnow()) == 0
    assert await notify_users("verify_email", [person.id], {"verify_path": "/x"}, link="", now=utcnow()) == 1


async def test_unsubscribe_link_works_without_signing_in_and_cannot_be_forged(
    client: WebClient, settings: Settings
) -> None:
    """GET asks, POST mutes; a forged token or a required kind is refused with 400."""
    person = await make_user("unsub@example.jp")
    token = unsubscribe_token(settings.secret_key, person.id, "followed_challenge_answer")
    confirm = await client.get(f"/notifications/unsubscribe/{token}")
    assert confirm.status_code == 200
    assert await MutedMessage.count().run() == 0  # a link checker opening the page changes nothing
    done = await client.post(f"/notifications/unsubscribe/{token}", csrf=False)
    assert done.status_code == 200
    assert await MutedMessage.select(MutedMessage.user, MutedMessage.kind).run() == [
        {"user": person.id, "kind": "followed_challenge_answer"}
    ]
    forged = unsubscribe_token("another-secret-key-0123456789-0123456789", person.id, "question_answered")
    assert (await client.post(f"/notifications/unsubscribe/{forged}", csrf=False)).status_code == 400
    assert (await client.post(f"/notifications/unsubscribe/{token[:-2]}xx", csrf=False)).status_code == 400
    required = unsubscribe_token(settings.secret_key, person.id, "password_reset")
    assert (await client.post(f"/notifications/unsubscribe/{required}", csrf=False)).status_code == 400
    assert await MutedMessage.count().run() == 1


async def test_outbox_is_for_admins_and_failures_can_be_retried(client: WebClient) -> None:
    """Non-admins get 404; an admin sees a failure with its error, reads the message, and queues it again."""
    reader = await make_user("reader@example.jp")
    judge = await make_user("judge@example.jp", role="judge")
    admin = await make_user("admin@example.jp", role="admin")
    notification_id = await queue_answer(reader.id)
    await (
        Notification.update(
            {Notification.email_status: "failed", Notification.last_error: "550 mailbox unavailable"}
        )
        .where(Notification.id == notification_id)
        .run()
    )
    await client.sign_in(judge.email, judge.password)
    assert (await client.get("/admin/notifications")).status_code == 404
    assert (await client.get(f"/admin/notifications/{notification_id}")).status_code == 404
    assert (await client.post(f"/admin/notifications/{notification_id}/retry")).status_code == 404
    await client.sign_out()
    await client.sign_in(admin.email, admin.password)
    outbox = await client.get("/admin/notifications?status=failed")
    assert "550 mailbox unavailable" in outbox.text
    assert "reader@example.jp" in outbox.text
    message = await client.get(f"/admin/notifications/{notification_id}")
    assert "防災情報の多言語化" in message.text
    assert "List-Unsubscribe" in message.text
    retried = await client.post(f"/admin/notifications/{notification_id}/retry")
    assert retried.status_code == 303
    row = await Notification.select(Notification.email_status, Notification.attempts).first().run()
    assert row == {"email_status": "pending", "attempts": 0}
