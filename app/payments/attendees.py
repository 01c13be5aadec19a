"""The attendee list of a pitch day (one query, whatever its length)."""

from __future__ import annotations

from typing import Any

from app.payments.tables import Ticket


async def attendee_list(event_id: int) -> list[dict[str, Any]]:
    """Tickets of the event with holder, type and payment, in registration order."""
    rows: list[dict[str, Any]] = await (
        Ticket.select(
            Ticket.id, Ticket.code, Ticket.status, Ticket.created_at, Ticket.checked_in_at,
            Ticket.holder.display_name, Ticket.holder.email, Ticket.ticket_type.name_ja,
            Ticket.ticket_type.name_en, Ticket.payment, Ticket.payment.status, Ticket.payment.amount_jpy,
            Ticket.payment.refunded_jpy, Ticket.payment.payer,
        )
        .where(Ticket.ticket_type._.event == event_id)
        .order_by(Ticket.id)
        .run()
    )  # fmt: skip
    return rows
