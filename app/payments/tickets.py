"""Registering for a pitch day: a seat is held, a free ticket is valid at once, a paid one after Stripe."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from litestar.exceptions import NotFoundException

from app.accounts.viewer import Viewer
from app.payments import policies
from app.payments.gateway import PaymentGateway
from app.payments.intents import start_intent
from app.payments.pitch_days import locked_ticket_type, seats_taken
from app.payments.policies import TicketTypeFacts
from app.payments.tables import Payment, Ticket, TicketType
from app.validation import InvalidInput
from app.web.i18n import gettext as _

# No 0/O or 1/I/L: the code is read aloud and typed at the door.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_ticket_code() -> str:
    """A short random code such as K7QM-3XPA (40 bits)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


async def ticket_type_facts(ticket_type_id: int) -> tuple[dict[str, Any], TicketTypeFacts]:
    """A ticket type with its event's challenge (404 when it does not exist)."""
    row = await (
        TicketType.select(
            *TicketType.all_columns(),
            TicketType.event._.challenge._.bureau,
            TicketType.event._.challenge._.id,
            TicketType.event._.challenge._.slug,
        )
        .where(TicketType.id == ticket_type_id)
        .first()
        .run()
    )
    if row is None:
        raise NotFoundException
    facts = TicketTypeFacts(
        id=row["id"],
        bureau_id=row["event.challenge.bureau"],
        price_jpy=row["price_jpy"],
        sales_open_at=row["sales_open_at"],
        sales_close_at=row["sales_close_at"],
    )
    return row, facts


async def hold_seat(user: Viewer, ticket_type: dict[str, Any], facts: TicketTypeFacts, now: datetime) -> int:
    """In one transaction: check capacity, write the ticket (and its payment if paid); returns its id."""
    async with Ticket._meta.db.transaction():
        # Read under the lock, not before it: an edit may have lowered the capacity meanwhile.
        locked = await locked_ticket_type(facts.id)
        capacity = int(locked["capacity"]) if locked else 0
        taken = (await seats_taken([facts.id], now)).get(facts.id, 0)
        if taken >= capacity:
            raise InvalidInput({"ticket_type": _("This ticket type is sold out.")})
        payment_id = None
        if facts.price_jpy > 0:
            rows = await Payment.insert(
                Payment(
                    purpose="ticket",
                    payer=user.id,
                    amount_jpy=facts.price_jpy,
                    challenge=ticket_type["event.challenge.id"],
                    created_at=now,
                    updated_at=now,
                )
            ).run()
            payment_id = rows[0]["id"]
        rows = await Ticket.insert(
            Ticket(
                ticket_type=facts.id,
                holder=user.id,
                code=new_ticket_code(),
                status="pending" if payment_id else "valid",
                payment=payment_id,
                created_at=now,
            )
        ).run()
        return int(rows[0]["id"])


async def register_for_pitch_day(
    user: Viewer | None, ticket_type_id: int, gateway: PaymentGateway | None, *, now: datetime
) -> dict[str, Any]:
    """Take a ticket; a paid one gets a PaymentIntent created with the payment's id as idempotency key.

    Returns the ticket with its payment id (None for a free ticket).

    Raises:
        NotFoundException: no such ticket type.
        InvalidInput: not on sale, sold out, or payments unavailable (no seat kept, no payment pending).
    """
    ticket_type, facts = await ticket_type_facts(ticket_type_id)
    if not policies.can_buy_ticket(user, facts, now) or user is None:
        raise InvalidInput({"ticket_type": _("This ticket is not on sale now.")})
    if facts.price_jpy > 0 and gateway is None:
        raise InvalidInput({"ticket_type": _("Card payments are unavailable at the moment.")})
    ticket_id = await hold_seat(user, ticket_type, facts, now)
    ticket: dict[str, Any] | None = await Ticket.select().where(Ticket.id == ticket_id).first().run()
    if ticket is None:
        raise NotFoundException
    if ticket["payment"] is None or gateway is None:
        return ticket
    await start_intent(ticket["payment"], facts.price_jpy, {"kyoso_ticket": str(ticket_id)}, gateway, now)
    return ticket


async def check_in(
    user: Viewer | None, event_id: int, bureau_id: int, ticket_code: str, *, now: datetime
) -> dict[str, Any]:
    """Mark a valid ticket of this event as checked in (a second scan reports the first time).

    Raises:
        NotFoundException: the user may not check people in for this bureau.
        InvalidInput: no valid ticket of this event has this code.
    """
    if not policies.can_check_in(user, bureau_id) or user is None:
        raise NotFoundException
    code = ticket_code.strip().upper()
    if len(code) == CODE_LENGTH and "-" not in code:
        code = f"{code[:4]}-{code[4:]}"
    ticket = await (
        Ticket.select(*Ticket.all_columns(), Ticket.ticket_type.event)
        .where(Ticket.code == code)
        .first()
        .run()
    )
    if ticket is None or ticket["status"] != "valid" or ticket["ticket_type.event"] != event_id:
        raise InvalidInput({"code": _("No valid ticket has this code.")})
    if ticket["checked_in_at"] is None:
        await (
            Ticket.update({Ticket.checked_in_at: now, Ticket.checked_in_by: user.id})
            .where((Ticket.id == ticket["id"]) & Ticket.checked_in_at.is_null())
            .run()
        )
        ticket["checked_in_at"] = now
    return ticket


async def visible_ticket(user: Viewer | None, ticket_id: int) -> dict[str, Any]:
    """A ticket its holder (or the event's bureau) may see; 404 for anyone else."""
    row: dict[str, Any] | None = await (
        Ticket.select(
            *Ticket.all_columns(),
            Ticket.ticket_type.name_ja,
            Ticket.ticket_type.name_en,
            Ticket.ticket_type.price_jpy,
            Ticket.ticket_type._.event._.starts_at,
            Ticket.ticket_type._.event._.venue,
            Ticket.ticket_type._.event._.challenge._.slug,
            Ticket.ticket_type._.event._.challenge._.title_ja,
            Ticket.ticket_type._.event._.challenge._.title_en,
            Ticket.ticket_type._.event._.challenge._.bureau,
            Ticket.payment.status,
        )
        .where(Ticket.id == ticket_id)
        .first()
        .run()
    )
    if row is None or user is None:
        raise NotFoundException
    if row["holder"] != user.id and not policies.can_view_attendees(
        user, row["ticket_type.event.challenge.bureau"]
    ):
        raise NotFoundException
    return row
