"""Enqueue a message in the caller's transaction: written with the change that causes it, or not at all."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from app.notifications.messages import KINDS
from app.notifications.tables import MutedMessage, Notification

# An in-process worker waits on its loop's event between polls; enqueueing sets it so mail leaves promptly.
_wake: dict[asyncio.AbstractEventLoop, asyncio.Event] = {}


def wake_worker() -> None:
    """Tell an in-process worker that there may be new rows."""
    event = _wake.get(asyncio.get_running_loop())
    if event is not None:
        event.set()


async def wait_for_work(seconds: float) -> None:
    """Sleep until woken or `seconds` pass."""
    event = _wake.setdefault(asyncio.get_running_loop(), asyncio.Event())
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
    event.clear()


async def notify_users(
    kind: str,
    user_ids: Iterable[int],
    context: Mapping[str, Any],
    *,
    link: str,
    now: datetime,
    dedupe_key: str | None = None,
) -> int:
    """Queue `kind` for each user who has not muted it; returns how many rows were written.

    Call inside the transaction of the change that causes the message. `dedupe_key` (with `{user}` filled
    in per recipient) makes a message go at most once, however many workers or restarts try again.
    """
    message = KINDS[kind]
    recipients = sorted(set(user_ids))
    if not recipients:
        return 0
    if not message.required:
        muted = await (
            MutedMessage.select(MutedMessage.user)
            .where((MutedMessage.kind == kind) & MutedMessage.user.is_in(recipients))
            .run()
        )
        recipients = [user_id for user_id in recipients if user_id not in {row["user"] for row in muted}]
    written = 0
    for user_id in recipients:
        key = dedupe_key.format(user=user_id) if dedupe_key else None
        written += await insert_notification(
            Notification(
                kind=kind,
                user=user_id,
                email_to="",
                context=json.dumps(dict(context), ensure_ascii=False, default=str),
                link=link,
                dedupe_key=key,
                created_at=now,
                in_app=message.in_app,
                email_status="pending",
                next_attempt_at=now,
                last_error="",
            )
        )
    wake_worker()
    return written


async def notify_address(
    kind: str, email: str, locale: str, context: Mapping[str, Any], *, now: datetime
) -> None:
    """Queue a required message to an address that may not belong to a user yet (an invitation)."""
    await insert_notification(
        Notification(
            kind=kind,
            user=None,
            email_to=email,
            locale=locale,
            context=json.dumps(dict(context), ensure_ascii=False, default=str),
            link="",
            created_at=now,
            in_app=False,
            email_status="pending",
            next_attempt_at=now,
            last_error="",
        )
    )
    wake_worker()


async def insert_notification(row: Notification) -> int:
    """Insert one row; a row whose dedupe key exists already is skipped (returns 0)."""
    query = Notification.insert(row)
    if row.dedupe_key:
        query = query.on_conflict(target=Notification.dedupe_key, action="DO NOTHING")
    inserted = await query.returning(Notification.id).run()
    return len(inserted)
