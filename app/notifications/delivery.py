"""The outbox worker's delivery step: claim due rows, send each, record the result, back off on failure.

At least once, never zero: a row is marked `sending` with a lease before it is sent and `sent` after. A
worker that crashes between the two leaves the lease to expire; another claim then sends it again, so a
crash can at worst send a message twice. PostgreSQL claimers skip each other's rows (FOR UPDATE SKIP
LOCKED); on SQLite the claim is an IMMEDIATE transaction, so one claimer at a time.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from app.notifications.mailer import DeliveryFailed, MailTransport, compose, sender_domain, transport_for
from app.notifications.messages import KINDS, render_message
from app.notifications.tables import MutedMessage, Notification
from app.notifications.unsubscribe import unsubscribe_url
from app.settings import Settings

BATCH_SIZE = 100
# SMTP connections one batch is sent over at once (the batch's rows are shared among them).
SMTP_CONNECTIONS = 4
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
log = logging.getLogger(__name__)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: 1, 2, 4, ... minutes after each failed attempt, at most 6 hours."""
    delay: timedelta = min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)
    return delay


@dataclass
class DeliveryReport:
    """What one batch did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def handled(self) -> int:
        """Rows this batch finished with, one way or another."""
        return self.sent + self.retried + self.failed + self.skipped


async def claim_due(now: datetime, limit: int = BATCH_SIZE) -> list[int]:
    """Mark up to `limit` due rows as being sent by this worker (a lease), and return their ids."""
    due = ((Notification.email_status == "pending") & (Notification.next_attempt_at <= now)) | (
        (Notification.email_status == "sending") & (Notification.lease_until <= now)
    )
    async with Notification._meta.db.transaction():
        query = Notification.select(Notification.id).where(due).order_by(Notification.id).limit(limit)
        if isinstance(Notification._meta.db, PostgresEngine):
            query = query.lock_rows("UPDATE", skip_locked=True, of=(Notification,))
        ids = [row["id"] for row in await query.run()]
        if ids:
            await (
                Notification.update(
                    {
                        Notification.email_status: "sending",
                        Notification.lease_until: now + LEASE,
                        Notification.attempts: Notification.attempts + 1,
                    }
                )
                .where(Notification.id.is_in(ids))
                .run()
            )
    return ids


async def load_claimed(ids: list[int]) -> list[dict[str, Any]]:
    """The claimed rows with their recipient's current address, language and mutes."""
    rows = await (
        Notification.select(
            *Notification.all_columns(),
            Notification.user.email.as_alias("user_email"),
            Notification.user.locale.as_alias("user_locale"),
            Notification.user.is_active.as_alias("user_active"),
        )
        .where(Notification.id.is_in(ids))
        .order_by(Notification.id)
        .output(load_json=True)
        .run()
    )
    user_ids = [row["user"] for row in rows if row["user"] is not None]
    muted = set()
    if user_ids:
        muted = {
            (row["user"], row["kind"])
            for row in await MutedMessage.select(MutedMessage.user, MutedMessage.kind)
            .where(MutedMessage.user.is_in(user_ids))
            .run()
        }
    for row in rows:
        row["muted"] = (row["user"], row["kind"]) in muted and not KINDS[row["kind"]].required
    return rows


async def deliver_due(
    settings: Settings,
    now: datetime,
    *,
    transport: MailTransport | None = None,
    connections: int = SMTP_CONNECTIONS,
) -> DeliveryReport:
    """Claim one batch and deliver it over up to `connections` connections at once; returns what happened.

    Each connection takes the next row of the batch when it is free, so a slow relay's round trips overlap
    with composing the next messages. A `transport` given by the caller is used alone (one connection).
    """
    report = DeliveryReport()
    ids = await claim_due(now)
    if not ids:
        return report
    rows = await load_claimed(ids)
    queue = iter(rows)  # shared by the lanes: each row is taken by exactly one

    async def lane(mail: MailTransport) -> None:
        for row in queue:
            await deliver_one(settings, mail, row, now, report)

    async def lane_with_own_transport() -> None:
        async with transport_for(settings.smtp_url, settings.data_dir / "mail") as mail:
            await lane(mail)

    if transport is not None:
        async with transport as mail:
            await lane(mail)
        return report
    async with asyncio.TaskGroup() as lanes:
        for _ in range(max(1, min(connections, len(rows)))):
            lanes.create_task(lane_with_own_transport())
    return report


async def deliver_one(
    settings: Settings, mail: MailTransport, row: dict[str, Any], now: datetime, report: DeliveryReport
) -> None:
    """Send one claimed row and record the outcome."""
    recipient = row["user_email"] if row["user"] is not None else row["email_to"]
    if row["muted"] or (row["user"] is not None and not row["user_active"]) or not recipient:
        await record(row["id"], {Notification.email_status: "skipped", Notification.lease_until: None})
        report.skipped += 1
        return
    try:
        message = message_for(settings, row, recipient)
    except Exception as error:
        log.exception("Cannot compose notification %s", row["id"])
        await record_failure(row, f"cannot compose: {error!r}", temporary=False, now=now, report=report)
        return
    try:
        await mail.send(message, name=f"{row['created_at']:%Y%m%dT%H%M%S}-{row['id']:08d}")
    except DeliveryFailed as failure:
        await record_failure(row, str(failure), temporary=failure.temporary, now=now, report=report)
        return
    await record(
        row["id"],
        {Notification.email_status: "sent", Notification.sent_at: now, Notification.lease_until: None},
    )
    report.sent += 1


def message_for(settings: Settings, row: dict[str, Any], recipient: str) -> Any:
    """The MIME message of a row, in its recipient's language."""
    locale = row["user_locale"] or row["locale"]
    context = row["context"] if isinstance(row["context"], dict) else json.loads(row["context"] or "{}")
    optional = row["user"] is not None and not KINDS[row["kind"]].required
    link = (
        unsubscribe_url(settings.base_url, settings.secret_key, row["user"], row["kind"])
        if optional
        else None
    )
    rendered = render_message(
        row["kind"],
        {**context, "base_url": settings.base_url, "link": row["link"], "unsubscribe_url": link},
        locale,
    )
    return compose(
        rendered,
        sender=settings.mail_from,
        recipient=recipient,
        message_id=f"<notification-{row['id']}@{sender_domain(settings.mail_from)}>",
        unsubscribe_url=link,
    )


async def record_failure(
    row: dict[str, Any], reason: str, *, temporary: bool, now: datetime, report: DeliveryReport
) -> None:
    """Retry a temporary failure later; give up on a permanent one or after MAX_ATTEMPTS."""
    attempts = row["attempts"]
    if temporary and attempts < MAX_ATTEMPTS:
        await record(
            row["id"],
            {
                Notification.email_status: "pending",
                Notification.next_attempt_at: now + retry_delay(attempts),
                Notification.lease_until: None,
                Notification.last_error: reason[:2000],
            },
        )
        report.retried += 1
        return
    await record(
        row["id"],
        {
            Notification.email_status: "failed",
            Notification.lease_until: None,
            Notification.last_error: reason[:2000],
        },
    )
    report.failed += 1


async def record(notification_id: int, values: dict[Any, Any]) -> None:
    """Write the outcome of one row (only while this worker still holds it)."""
    await (
        Notification.update(values)
        .where((Notification.id == notification_id) & (Notification.email_status == "sending"))
        .run()
    )


async def retry_failed(notification_id: int, now: datetime) -> bool:
    """Put a failed message back in the queue (an admin's decision); False if it had not failed."""
    updated = await (
        Notification.update(
            {
                Notification.email_status: "pending",
                Notification.attempts: 0,
                Notification.next_attempt_at: now,
                Notification.last_error: "",
            }
        )
        .where((Notification.id == notification_id) & (Notification.email_status == "failed"))
        .returning(Notification.id)
        .run()
    )
    return bool(updated)
