"""What admins see of the outbox: counts by state, the latest messages, and one message as sent."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from litestar.exceptions import NotFoundException
from piccolo.query.functions.aggregate import Count

from app.notifications.delivery import load_claimed, message_for
from app.notifications.tables import Notification
from app.settings import Settings

STATES = ("pending", "sending", "sent", "failed", "skipped")
LISTED = 100


async def outbox_summary(status: str | None) -> dict[str, Any]:
    """Counts per state and the latest rows (of one state when `status` is given)."""
    counted = await (
        Notification.select(Notification.email_status, Count(Notification.id, alias="count"))
        .group_by(Notification.email_status)
        .run()
    )
    counts = {state: 0 for state in STATES} | {row["email_status"]: row["count"] for row in counted}
    query = Notification.select(
        Notification.id, Notification.kind, Notification.email_status, Notification.attempts,
        Notification.created_at, Notification.sent_at, Notification.next_attempt_at, Notification.last_error,
        Notification.email_to, Notification.user.email.as_alias("user_email"),
    ).order_by(Notification.id, ascending=False).limit(LISTED)  # fmt: skip
    if status in STATES:
        query = query.where(Notification.email_status == status)
    return {"counts": counts, "rows": await query.run(), "status": status if status in STATES else None}


async def outbox_message(settings: Settings, notification_id: int) -> dict[str, Any]:
    """One row with the message its recipient gets (rendered now, in their language)."""
    rows = await load_claimed([notification_id])
    if not rows:
        raise NotFoundException
    row = rows[0]
    recipient = row["user_email"] if row["user"] is not None else row["email_to"]
    message: EmailMessage = message_for(settings, row, recipient or "")
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return {
        "row": row,
        "recipient": recipient,
        "headers": [(name, str(value)) for name, value in message.items()],
        "text": text.get_content() if isinstance(text, EmailMessage) else "",
        "html": html.get_content() if isinstance(html, EmailMessage) else "",
        "mail_file": None if settings.smtp_url else str(settings.data_dir / "mail"),
    }
