"""Delivery of the outbox through a real SMTP server, on the database of the run (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import dataclasses
import email
import email.policy
import email.utils
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from piccolo.engine.base import Engine

from app.accounts.tables import User
from app.clock import utcnow
from app.notifications.delivery import LEASE, MAX_ATTEMPTS, claim_due, deliver_due, retry_delay
from app.notifications.messages import render_message
from app.notifications.outbox import notify_address, notify_users
from app.notifications.tables import MutedMessage, Notification
from app.notifications.unsubscribe import unsubscribe_url
from app.settings import Settings
from tests.support.people import Person, make_user
from tests.support.smtp import SmtpServer

# Non-ASCII in both languages, so both subjects need RFC 2047 encoding.
CHALLENGE: dict[str, Any] = {
    "slug": "bosai",
    "title_ja": "地域防災の課題",
    "title_en": "Disaster drills in 東京",
    "bureau": 1,
}
UPDATED = "followed_challenge_updated"  # an optional kind
UPDATE_CONTEXT: dict[str, Any] = {**CHALLENGE, "note": "締切を延長しました。"}
INVITATION_CONTEXT = {
    "organization": "株式会社テスト",
    "inviter": "担当者",
    "invitation_path": "/invitations/x",
    "expires": "2026-12-01 17:00 JST",
}


async def user_speaking(address: str, locale: str) -> Person:
    """A user whose messages are in `locale`."""
    person = await make_user(address)
    await User.update({User.locale: locale}).where(User.id == person.id).run()
    return person


async def rows() -> list[dict[str, Any]]:
    """Every notification row, oldest first."""
    return list(await Notification.select().order_by(Notification.id).run())


async def one_row() -> dict[str, Any]:
    """The only notification row."""
    found = await rows()
    assert len(found) == 1, found
    return found[0]


async def deliver_until_empty(settings: Settings, now: datetime) -> int:
    """Run deliver_due until a batch finds nothing due; returns how many rows were handled."""
    handled = 0
    while (report := await deliver_due(settings, now)).handled:
        handled += report.handled
    return handled


def part(message: EmailMessage, subtype: str) -> EmailMessage:
    """The text/<subtype> part of a message."""
    found = message.get_body(preferencelist=(subtype,))
    assert isinstance(found, EmailMessage), message
    assert found.get_content_type() == f"text/{subtype}"
    return found


def raw_header(raw: bytes, name: str) -> str:
    """A header as it travelled (unfolded, still encoded)."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ")
    prefix = f"{name.lower()}:"
    values = [
        line[len(prefix) :].strip() for line in unfolded.split("\r\n") if line.lower().startswith(prefix)
    ]
    assert len(values) == 1, (name, values)
    return values[0]


async def test_delivered_message_headers_parts_language_and_privacy(
    database: Engine[Any], mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    """A sent message has proper headers, a subject in the reader's language, UTF-8 parts, one recipient."""
    now = utcnow()
    japanese = await user_speaking("hanako@example.jp", "ja")
    english = await user_speaking("alice@example.com", "en")
    async with Notification._meta.db.transaction():
        written = await notify_users(
            UPDATED, [japanese.id, english.id], UPDATE_CONTEXT, link="/challenges/bosai", now=now
        )
    assert written == 2

    report = await deliver_due(mail_settings, now)

    assert (report.sent, report.retried, report.failed, report.skipped) == (2, 0, 0, 0)
    assert len(smtp_server.messages) == 2
    stored = {row["user"]: row for row in await rows()}
    for person, locale, other in ((japanese, "ja", english), (english, "en", japanese)):
        [received] = smtp_server.to(person.email)
        message = received.message
        stop_link = unsubscribe_url(mail_settings.base_url, mail_settings.secret_key, person.id, UPDATED)
        full_context = {**UPDATE_CONTEXT, "base_url": "http://testserver", "link": "/challenges/bosai"}
        expected = render_message(UPDATED, {**full_context, "unsubscribe_url": stop_link}, locale)
        assert received.rcpt_tos == (person.email,)
        assert other.email.encode() not in received.raw
        assert received.mail_from == "no-reply@kyoso.example"
        assert message["From"].addresses[0].addr_spec == "no-reply@kyoso.example"
        assert message["To"].addresses[0].addr_spec == person.email
        assert message["Message-ID"] == f"<notification-{stored[person.id]['id']}@kyoso.example>"
        sent_at = email.utils.parsedate_to_datetime(message["Date"])
        assert sent_at.tzinfo is not None
        assert abs(sent_at - utcnow()) < timedelta(minutes=5)
        # The subject went out RFC 2047-encoded and decodes back to exactly what was rendered.
        assert "=?utf-8?" in raw_header(received.raw, "Subject").lower()
        assert str(message["Subject"]) == expected.subject
        assert (CHALLENGE["title_ja"] if locale == "ja" else CHALLENGE["title_en"]) in expected.subject
        text, html = part(message, "plain"), part(message, "html")
        assert message.get_content_type() == "multipart/alternative"
        assert text.get_content_charset() == "utf-8"
        assert html.get_content_charset() == "utf-8"
        assert text.get_content().replace("\r\n", "\n") == expected.text
        assert html.get_content().replace("\r\n", "\n").rstrip("\n") == expected.html.rstrip("\n")
        assert UPDATE_CONTEXT["note"] in text.get_content()
        assert f'<html lang="{locale}">' in html.get_content()
        # An optional kind can be stopped in one click (RFC 8058).
        unsubscribe = str(message["List-Unsubscribe"])
        assert unsubscribe == f"<{stop_link}>"
        assert stop_link.startswith("http://testserver/notifications/unsubscribe/")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert unsubscribe.strip("<>") in text.get_content()
    assert (
        smtp_server.to(japanese.email)[0].message["Subject"]
        != smtp_server.to(english.email)[0].message["Subject"]
    )
    after = await rows()
    assert {row["email_status"] for row in after} == {"sent"}
    assert all(row["sent_at"] == now and row["attempts"] == 1 and row["lease_until"] is None for row in after)


async def test_required_message_has_no_unsubscribe_headers(
    database: Engine[Any], mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    """A required message (address confirmation) carries no List-Unsubscribe headers and no stop link."""
    now = utcnow()
    person = await user_speaking("taro@example.jp", "ja")
    await notify_users("verify_email", [person.id], {"verify_path": "/x"}, link="", now=now)

    assert (await deliver_due(mail_settings, now)).sent == 1

    [received] = smtp_server.messages
    assert received.message["List-Unsubscribe"] is None
    assert received.message["List-Unsubscribe-Post"] is None
    assert "/notifications/unsubscribe/" not in received.raw.decode("ascii", "replace")
    assert "http://testserver/x" in part(received.message, "plain").get_content()
    assert (
        str(received.message["Subject"])
        == render_message("verify_email", {"verify_path": "/x"}, "ja").subject
    )


async def test_rolled_back_change_queues_and_sends_nothing(
    database: Engine[Any], mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    """A message queued inside a transaction that then fails is neither stored nor delivered."""
    now = utcnow()
    person = await user_speaking("hanako@example.jp", "ja")

    written: list[int] = []

    async def change_that_fails() -> None:
        async with Notification._meta.db.transaction():
            written.append(await notify_users(UPDATED, [person.id], UPDATE_CONTEXT, link="/c", now=now))
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError, match="the change failed"):
        await change_that_fails()

    assert written == [1]

    assert await rows() == []
    assert (await deliver_due(mail_settings, now)).handled == 0
    assert smtp_server.messages == []


async def test_smtp_down_is_retried_later_then_delivered_once(
    database: Engine[Any], mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    """With SMTP down the row waits retry_delay(1); with the server back it is delivered exactly once."""
    now = utcnow()
    person = await user_speaking("hanako@example.jp", "ja")
    await notify_users(UPDATED, [person.id], UPDATE_CONTEXT, link="/c", now=now)
    smtp_server.stop()

    report = await deliver_due(mail_settings, now)

    assert (report.sent, report.retried, report.failed) == (0, 1, 0)
    row = await one_row()
    assert row["email_status"] == "pending"
    assert row["attempts"] == 1
    assert row["next_attempt_at"] == now + retry_delay(1) > now
    assert row["lease_until"] is None
    assert "connect" in row["last_error"]

    smtp_server.start()
    # Not due before its time, even though the server is back.
    assert (await deliver_due(mail_settings, now + retry_delay(1) - timedelta(seconds=1))).handled == 0
    assert smtp_server.messages == []
    later = now + retry_delay(1) + timedelta(seconds=1)
    assert (await deliver_due(mail_settings, later)).sent == 1
    assert await deliver_until_empty(mail_settings, later + timedelta(hours=1)) == 0

    assert len(smtp_server.messages) == 1
    assert smtp_server.message_ids() == {f"<notification-{row['id']}@kyoso.example>": 1}
    row = await one_row()
    assert (row["email_status"], row["attempts"], row["sent_at"]) == ("sent", 2, later)


@pytest.mark.parametrize("stage", ["rcpt", "data"])
async def test_temporary_refusal_retries_until_max_attempts(
    database: Engine[Any], mail_settings: Settings, smtp_server: SmtpServer, stage: str
) -> None:
    """A 451 answer is retried with growing delays, and the row fails after MAX_ATTEMPTS attempts."""
    now = utcnow()
    person = await user_speaking("hanako@example.jp", "ja")
    await notify_users(UPDATED, [person.id], UPDATE_CONTEXT, link="/c", now=now)
    (smtp_server.fail_rcpt if stage == "rcpt" else smtp_server.fail_data)("451 4.3.0 Mailbox busy")

    for attempt in range(1, MAX_ATTEMPTS):
        report = await deliver_due(mail_settings, now)
        assert (report.sent, report.retried, report.failed) == (0, 1, 0), attempt
        row = await one_row()
        assert (row["email_status"], row["attempts"]) == ("pending", attempt)
        assert row["next_attempt_at"] == now + retry_delay(attempt)
        assert "451" in row["last_error"]
        now = row["next_attempt_at"]
    assert [retry_delay(n) for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (1, 2, 4)]

    report = await deliver_due(mail_settings, now)

    assert (report.sent, report.retried, report.failed) == (0, 0, 1)
    row = await one_row()
    assert (row["email_status"], row["attempts"]) == ("failed", MAX_ATTEMPTS)
    assert "451" in row["last_error"]
    assert smtp_server.handler.refused == MAX_ATTEMPTS
    smtp_server.accept()
    assert (await deliver_due(mail_settings, now + timedelta(days=2))).handled == 0
    assert smtp_server.messages == []


@pytest.mark.parametrize("stage", ["rcpt", "data"])
async def test_permanent_refusal_fails_at_once(
    database: Engine[Any], mail_settings: Settings, smtp_server: SmtpServer, stage: str
) -> None:
    """A 550 answer fails the row on the first attempt and records the server's reason."""
    now = utcnow()
    person = await user_speaking("nobody@example.jp", "ja")
    await notify_users(UPDATED, [person.id], UPDATE_CONTEXT, link="/c", now=now)
    (smtp_server.fail_rcpt if stage == "rcpt" else smtp_server.fail_data)("550 5.1.1 No such user here")

    report = await deliver_due(mail_settings, now)

    assert (report.sent, report.retried, report.failed) == (0, 0, 1)
    row = await one_row()
    assert (row["email_status"], row["attempts"]) == ("failed", 1)
    assert "550" in row["last_error"]
    assert "No such user" in row["last_error"]
    smtp_server.accept()
    assert (await deliver_due(mail_settings, now + timedelta(days=2))).handled == 0
    assert smtp_server.messages == []


async def test_one_refused_recipient_does_not_block_the_rest_of_the_batch(
    database: Engine[Any], mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    """After a refusal on the batch's shared connection, the next messages of the batch still go out."""
    now = utcnow()
    people = [await user_speaking(f"user{n}@example.jp", "ja") for n in range(3)]
    await notify_users(UPDATED, [p.id for p in people], UPDATE_CONTEXT, link="/c", now=now)

    smtp_server.refuse(people[1].email, "550 5.1.1 No such user")

    report = await deliver_due(mail_settings, now)

    assert (report.sent, report.failed) == (2, 1)
    delivered = {received.rcpt_tos[0] for received in smtp_server.messages}
    assert delivered == {people[0].email, people[2].email}


async def test_expired_lease_is_delivered_by_a_later_run(
    database: Engine[Any], mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    """A row claimed by a worker that crashed before recording is delivered once its lease expires."""
    now = utcnow()
    person = await user_speaking("hanako@example.jp", "ja")
    await notify_users(UPDATED, [person.id], UPDATE_CONTEXT, link="/c", now=now)
    claimed = await claim_due(now)  # ... and the worker dies here
    assert len(claimed) == 1
    row = await one_row()
    assert (row["email_status"], row["lease_until"]) == ("sending", now + LEASE)

    assert (await deliver_due(mail_settings, now + LEASE - timedelta(seconds=1))).handled == 0
    assert smtp_server.messages == []
    after_lease = now + LEASE + timedelta(seconds=1)
    assert (await deliver_due(mail_settings, after_lease)).sent == 1

    assert len(smtp_server.to(person.email)) == 1
    row = await one_row()
    assert (row["email_status"], row["attempts"], row["sent_at"]) == ("sent", 2, after_lease)


async def test_muted_kind_is_not_queued_for_that_user(
    database: Engine[Any], mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    """notify_users leaves out a user who muted that optional kind, and only them."""
    now = utcnow()
    muted = await user_speaking("quiet@example.jp", "ja")
    listening = await user_speaking("loud@example.jp", "ja")
    await MutedMessage.insert(MutedMessage(user=muted.id, kind=UPDATED, muted_at=now)).run()

    written = await notify_users(UPDATED, [muted.id, listening.id], UPDATE_CONTEXT, link="/c", now=now)

    assert written == 1
    assert [row["user"] for row in await rows()] == [listening.id]
    # Muting one kind does not mute a required one.
    assert await notify_users("verify_email", [muted.id], {"verify_path": "/x"}, link="", now=now) == 1
    await deliver_until_empty(mail_settings, now)
    assert sorted(received.rcpt_tos[0] for received in smtp_server.messages) == [
        listening.email,
        muted.email,
    ]
    assert str(smtp_server.to(muted.email)[0].message["Subject"]) == (
        render_message("verify_email", {"verify_path": "/x"}, "ja").subject
    )


async def test_muted_after_enqueue_is_skipped_at_delivery(
    database: Engine[Any], mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    """A message muted between enqueue and delivery is marked skipped and never sent."""
    now = utcnow()
    person = await user_speaking("quiet@example.jp", "ja")
    await notify_users(UPDATED, [person.id], UPDATE_CONTEXT, link="/c", now=now)
    await MutedMessage.insert(MutedMessage(user=person.id, kind=UPDATED, muted_at=now)).run()

    report = await deliver_due(mail_settings, now)

    assert (report.sent, report.skipped) == (0, 1)
    assert (await one_row())["email_status"] == "skipped"
    assert smtp_server.messages == []


async def test_without_smtp_messages_are_written_as_eml_files(
    database: Engine[Any], settings: Settings, tmp_path: Path
) -> None:
    """With no SMTP_URL each message becomes a complete .eml file under DATA_DIR/mail."""
    now = utcnow()
    file_settings = dataclasses.replace(settings, smtp_url=None, data_dir=tmp_path / "data")
    person = await user_speaking("hanako@example.jp", "ja")
    await notify_users(UPDATED, [person.id], UPDATE_CONTEXT, link="/c", now=now)

    assert (await deliver_due(file_settings, now)).sent == 1

    files = list((tmp_path / "data" / "mail").iterdir())
    assert [file.suffix for file in files] == [".eml"]
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message["To"].addresses[0].addr_spec == person.email
    assert str(message["Subject"]) == render_message(UPDATED, UPDATE_CONTEXT, "ja").subject
    assert (await one_row())["email_status"] == "sent"


async def test_concurrent_workers_deliver_each_row_exactly_once(
    database: Engine[Any], mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    """Two deliver_due loops running at once over 200 queued rows send every row exactly once."""
    now = utcnow()
    addresses = [f"invitee{n:03d}@example.jp" for n in range(200)]
    async with Notification._meta.db.transaction():
        for address in addresses:
            await notify_address("organization_invitation", address, "ja", INVITATION_CONTEXT, now=now)

    async def worker() -> int:
        return await deliver_until_empty(mail_settings, now)

    handled = await asyncio.gather(worker(), worker())

    assert sum(handled) == 200
    ids = smtp_server.message_ids()
    assert len(ids) == 200
    assert set(ids.values()) == {1}
    assert sorted(received.rcpt_tos[0] for received in smtp_server.messages) == addresses
    stored = await rows()
    assert {row["email_status"] for row in stored} == {"sent"}
    assert {row["attempts"] for row in stored} == {1}
    assert set(ids) == {f"<notification-{row['id']}@kyoso.example>" for row in stored}


async def test_unsendable_address_fails_without_holding_back_the_batch(
    database: Engine[Any], mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    """A message to an address SMTP cannot carry fails at once, and the messages queued after it still go."""
    now = utcnow()
    await notify_address("organization_invitation", "bad address@@example", "ja", INVITATION_CONTEXT, now=now)
    await notify_address("organization_invitation", "good@example.jp", "ja", INVITATION_CONTEXT, now=now)

    report = await deliver_due(mail_settings, now)

    assert (report.sent, report.failed) == (1, 1)
    bad, good = await rows()
    assert (bad["email_status"], bad["attempts"]) == ("failed", 1)
    assert "invalid address" in bad["last_error"]
    assert good["email_status"] == "sent"
    assert [received.rcpt_tos for received in smtp_server.messages] == [("good@example.jp",)]
