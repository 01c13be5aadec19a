"""Reading, marking and choosing notifications: the actions behind the bell and the settings page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar.exceptions import NotFoundException

from app.accounts.viewer import Viewer
from app.notifications import policies
from app.notifications.messages import KINDS, render_summary
from app.notifications.tables import MutedMessage, Notification

PAGE_SIZE = 30


async def unread_count(user: Viewer) -> int:
    """How many in-app notifications the user has not read."""
    count: int = (
        await Notification.count()
        .where(
            (Notification.user == user.id) & (Notification.in_app == True) & Notification.read_at.is_null()  # noqa: E712 (Piccolo SQL)
        )
        .run()
    )
    return count


async def recent_notifications(user: Viewer, locale: str, before: int | None = None) -> list[dict[str, Any]]:
    """The user's latest in-app notifications (one page, newest first), each with its text in `locale`."""
    query = (
        Notification.select(
            Notification.id,
            Notification.kind,
            Notification.context,
            Notification.link,
            Notification.created_at,
            Notification.read_at,
        )
        .where((Notification.user == user.id) & (Notification.in_app == True))  # noqa: E712 (Piccolo SQL)
        .order_by(Notification.id, ascending=False)
        .limit(PAGE_SIZE + 1)
        .output(load_json=True)
    )
    if before is not None:
        query = query.where(Notification.id < before)
    rows = await query.run()
    for row in rows:
        row["text"] = render_summary(row["kind"], row["context"], locale)
    return rows


async def open_notification(user: Viewer | None, notification_id: int, *, now: datetime) -> str:
    """Mark one notification read and return where it leads.

    Raises:
        NotFoundException: no such notification, or it is someone else's.
    """
    row = await (
        Notification.select(Notification.user, Notification.link)
        .where(Notification.id == notification_id)
        .first()
        .run()
    )
    if row is None or not policies.can_read_notification(user, row["user"]):
        raise NotFoundException
    await (
        Notification.update({Notification.read_at: now})
        .where((Notification.id == notification_id) & Notification.read_at.is_null())
        .run()
    )
    link: str = row["link"] or "/notifications"
    return link


async def mark_all_read(user: Viewer, *, now: datetime) -> None:
    """Mark every notification of the user read."""
    await (
        Notification.update({Notification.read_at: now})
        .where((Notification.user == user.id) & Notification.read_at.is_null())
        .run()
    )


async def muted_kinds(user_id: int) -> set[str]:
    """The optional messages the user turned off."""
    rows = await MutedMessage.select(MutedMessage.kind).where(MutedMessage.user == user_id).run()
    return {row["kind"] for row in rows}


async def choose_messages(user_id: int, wanted: set[str], *, now: datetime) -> None:
    """Keep exactly the optional messages in `wanted` switched on (required ones cannot be turned off)."""
    optional = {name for name, kind in KINDS.items() if not kind.required}
    async with MutedMessage._meta.db.transaction():
        muted = await muted_kinds(user_id)
        to_mute = optional - wanted - muted
        to_unmute = (muted & wanted) | (muted - optional)
        if to_unmute:
            await (
                MutedMessage.delete()
                .where((MutedMessage.user == user_id) & MutedMessage.kind.is_in(sorted(to_unmute)))
                .run()
            )
        if to_mute:
            await MutedMessage.insert(
                *(MutedMessage(user=user_id, kind=kind, muted_at=now) for kind in sorted(to_mute))
            ).run()


async def mute(user_id: int, kind: str, *, now: datetime) -> bool:
    """Turn one optional message off (from an unsubscribe link); False for a required or unknown kind."""
    if kind not in KINDS or KINDS[kind].required:
        return False
    async with MutedMessage._meta.db.transaction():
        muted = await muted_kinds(user_id)
        if kind not in muted:
            await MutedMessage.insert(MutedMessage(user=user_id, kind=kind, muted_at=now)).run()
    return True
