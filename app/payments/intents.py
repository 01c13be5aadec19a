"""Creating a payment's PaymentIntent, and closing a payment that never reached Stripe."""

from __future__ import annotations

from datetime import datetime

from app.payments.gateway import GatewayUnavailable, PaymentGateway
from app.payments.states import PaymentStatus
from app.payments.tables import Payment, Ticket
from app.validation import InvalidInput
from app.web.i18n import gettext as _


async def start_intent(
    payment_id: int, amount_jpy: int, metadata: dict[str, str], gateway: PaymentGateway, now: datetime
) -> str:
    """Create the payment's PaymentIntent; if Stripe cannot be reached, the payment is marked failed.

    Raises:
        InvalidInput: Stripe is unreachable (the payment and its ticket are closed, not left pending).
    """
    try:
        intent = await gateway.create_intent(
            payment_id=payment_id,
            amount_jpy=amount_jpy,
            metadata={"kyoso_payment": str(payment_id), **metadata},
        )
    except GatewayUnavailable as error:
        await abandon_payment(payment_id, str(error), now)
        raise InvalidInput(
            {
                "payment": _(
                    "The card payment service could not be reached. Nothing was charged; try again later."
                )
            }
        ) from error
    await (
        Payment.update(
            {
                Payment.stripe_intent: intent.id,
                Payment.status: PaymentStatus.CREATED.value,
                Payment.updated_at: now,
            }
        )
        .where(Payment.id == payment_id)
        .run()
    )
    return intent.id


async def abandon_payment(payment_id: int, reason: str, now: datetime) -> None:
    """Close a payment that never reached Stripe: failed, and its ticket's seat released."""
    async with Payment._meta.db.transaction():
        await (
            Payment.update(
                {
                    Payment.status: PaymentStatus.FAILED.value,
                    Payment.last_error: reason[:500],
                    Payment.updated_at: now,
                }
            )
            .where((Payment.id == payment_id) & Payment.stripe_intent.is_null())
            .run()
        )
        await (
            Ticket.update({Ticket.status: "cancelled"})
            .where((Ticket.payment == payment_id) & (Ticket.status == "pending"))
            .run()
        )
