"""Who may see and change notifications."""

from __future__ import annotations

from app.accounts.viewer import Viewer


def can_read_notifications(user: Viewer | None) -> bool:
    """Every signed-in user has a notification list of their own."""
    return user is not None


def can_read_notification(user: Viewer | None, recipient_id: int | None) -> bool:
    """Only the recipient opens or marks a notification (others get a 404)."""
    return user is not None and recipient_id == user.id


def can_view_outbox(user: Viewer | None) -> bool:
    """The outbox (every message, failures, what would have been sent) is for admins only."""
    return user is not None and user.is_admin


def can_retry_delivery(user: Viewer | None) -> bool:
    """Admins put a failed message back in the queue."""
    return can_view_outbox(user)
