"""Who may set up pitch days and fees, buy, pay, see attendees, check in, refund and see a receipt.

Every authorization rule of payments lives here. `bureau_id` is the bureau owning the challenge the
payment or event belongs to (None for a sponsorship, which no bureau owns: admins act for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.accounts.policies import can_act_for_bureau
from app.accounts.viewer import Viewer


@dataclass(frozen=True)
class TicketTypeFacts:
    """What policies need to know about a ticket type."""

    id: int
    bureau_id: int
    price_jpy: int
    sales_open_at: datetime
    sales_close_at: datetime


@dataclass(frozen=True)
class PaymentFacts:
    """What policies need to know about a payment."""

    id: int
    payer_id: int
    bureau_id: int | None
    purpose: str
    status: str


def acts_for(user: Viewer | None, bureau_id: int | None) -> bool:
    """Officials of the bureau (or admins); only admins when no bureau owns the thing."""
    if bureau_id is None:
        return user is not None and user.is_admin
    return can_act_for_bureau(user, bureau_id)


def can_manage_pitch_day(user: Viewer | None, bureau_id: int) -> bool:
    """The challenge's bureau sets up its pitch day and ticket types."""
    return acts_for(user, bureau_id)


def can_view_attendees(user: Viewer | None, bureau_id: int) -> bool:
    """The challenge's bureau sees who registered."""
    return acts_for(user, bureau_id)


def can_check_in(user: Viewer | None, bureau_id: int) -> bool:
    """The challenge's bureau checks people in at the door."""
    return acts_for(user, bureau_id)


def can_buy_ticket(user: Viewer | None, ticket_type: TicketTypeFacts, now: datetime) -> bool:
    """Any signed-in person, while the ticket type's sales window is open."""
    return user is not None and ticket_type.sales_open_at <= now < ticket_type.sales_close_at


def is_payer(user: Viewer | None, payment: PaymentFacts) -> bool:
    """The person a payment is for (the bureau may see it, but never pays it)."""
    return user is not None and user.id == payment.payer_id


def can_pay(user: Viewer | None, payment: PaymentFacts) -> bool:
    """Only the payer enters a card for their own payment, while it is not paid yet."""
    return is_payer(user, payment) and payment.status in {"created", "processing", "failed"}


def can_view_payment(user: Viewer | None, payment: PaymentFacts) -> bool:
    """The payer, and the officials of the bureau it was paid to (admins for sponsorships)."""
    if user is None:
        return False
    return user.id == payment.payer_id or acts_for(user, payment.bureau_id)


def can_view_receipt(user: Viewer | None, payment: PaymentFacts) -> bool:
    """A receipt (領収書) exists once money was received; the payer and the bureau see it."""
    received = payment.status in {"succeeded", "active", "partially_refunded", "refunded", "canceled"}
    return received and can_view_payment(user, payment)


def can_refund(user: Viewer | None, payment: PaymentFacts) -> bool:
    """Officials of the bureau refund what was paid to it (admins refund sponsorships); never their own."""
    return (
        user is not None
        and user.id != payment.payer_id
        and acts_for(user, payment.bureau_id)
        and payment.status in {"succeeded", "partially_refunded"}
        and payment.purpose in {"ticket", "entry_fee", "sponsorship"}
    )


def can_set_entry_fee(user: Viewer | None, bureau_id: int) -> bool:
    """The challenge's bureau sets its entry fee and issues waiver codes."""
    return acts_for(user, bureau_id)


def can_view_entry_fee(user: Viewer | None, organization_id: int, bureau_id: int) -> bool:
    """The applying organization's members, and the challenge's bureau, see an application's entry fee."""
    member = user is not None and organization_id in user.memberships
    return member or acts_for(user, bureau_id)


def pays_for_organization(user: Viewer | None, organization_id: int) -> bool:
    """Only members of the applying organization pay its entry fee or use a waiver (never the bureau)."""
    return user is not None and organization_id in user.memberships


def can_pay_entry_fee(
    user: Viewer | None, organization_id: int, deadline: datetime | None, now: datetime
) -> bool:
    """A member of the applying organization, before the application deadline."""
    return pays_for_organization(user, organization_id) and (deadline is None or now < deadline)


def can_sponsor(user: Viewer | None) -> bool:
    """Any signed-in person, company or municipality official may sponsor a published output."""
    return user is not None


def can_cancel_sponsorship(user: Viewer | None, payment: PaymentFacts) -> bool:
    """The sponsor (or an admin) stops a monthly sponsorship that is running."""
    if user is None or payment.purpose != "sponsorship" or payment.status != "active":
        return False
    return user.id == payment.payer_id or user.is_admin
