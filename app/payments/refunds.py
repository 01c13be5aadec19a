"""Refunds by officials: full or partial, through Stripe, recorded before and after the call."""

from __future__ import annotations

from datetime import datetime

from litestar.exceptions import NotFoundException

from app.accounts.viewer import Viewer
from app.payments import policies
from app.payments.forms import whole_number_field
from app.payments.gateway import GatewayUnavailable, PaymentGateway
from app.payments.records import visible_payment
from app.payments.states import PaymentStatus, forward, refund_status
from app.payments.tables import Payment, Refund, Ticket
from app.validation import InvalidInput
from app.web.i18n import gettext as _


async def refund_payment(
    user: Viewer | None, payment_id: int, values: dict[str, str], gateway: PaymentGateway, *, now: datetime
) -> int:
    """Refund `amount_jpy` (all that is left when empty) of a paid payment; returns the refunded total.

    The local Refund row exists before Stripe is called (its id is the idempotency key), so a retry after
    a lost answer never refunds twice.

    Raises:
        NotFoundException: the user may not see the payment or may not refund it.
        InvalidInput: the amount is not between ¥1 and what is left, or Stripe could not be reached.
    """
    row, facts = await visible_payment(user, payment_id)
    if user is None or not policies.can_refund(user, facts) or not row["stripe_intent"]:
        raise NotFoundException
    left = row["amount_jpy"] - row["refunded_jpy"]
    errors: dict[str, str] = {}
    text = values.get("amount_jpy") or str(left)
    amount = whole_number_field({"amount_jpy": text}, "amount_jpy", 1, left, errors)
    if errors:
        raise InvalidInput(errors)
    rows = await Refund.insert(
        Refund(
            payment=payment_id,
            amount_jpy=amount,
            reason=values.get("reason", "")[:500],
            requested_by=user.id,
            requested_at=now,
        )
    ).run()
    refund_id = int(rows[0]["id"])
    try:
        refund = await gateway.refund(refund_id=refund_id, intent_id=row["stripe_intent"], amount_jpy=amount)
    except GatewayUnavailable as error:
        await (
            Refund.update({Refund.status: "failed", Refund.reason: str(error)[:500]})
            .where(Refund.id == refund_id)
            .run()
        )
        raise InvalidInput(
            {"amount_jpy": _("The card payment service could not be reached. Nothing was refunded.")}
        ) from error
    return await record_refund(payment_id, refund_id, refund.id, now)


async def record_refund(payment_id: int, refund_id: int, stripe_refund: str, now: datetime) -> int:
    """Stripe confirmed the refund: add it (charge.refunded later sets the same cumulative total)."""
    async with Payment._meta.db.transaction():
        await (
            Refund.update({Refund.status: "succeeded", Refund.stripe_refund: stripe_refund})
            .where(Refund.id == refund_id)
            .run()
        )
        payment = await Payment.select().where(Payment.id == payment_id).first().run()
        if payment is None:
            raise NotFoundException
        # This and charge.refunded both give cumulative totals: the larger is right, whichever came first.
        succeeded = (
            await Refund.select(Refund.amount_jpy)
            .where((Refund.payment == payment_id) & (Refund.status == "succeeded"))
            .run()
        )
        refunded = max(payment["refunded_jpy"], sum(row["amount_jpy"] for row in succeeded))
        status = forward(
            PaymentStatus(payment["status"]),
            refund_status(payment["amount_jpy"], refunded) or PaymentStatus(payment["status"]),
        )
        await (
            Payment.update(
                {Payment.refunded_jpy: refunded, Payment.status: status.value, Payment.updated_at: now}
            )
            .where(Payment.id == payment_id)
            .run()
        )
        if status is PaymentStatus.REFUNDED:
            await Ticket.update({Ticket.status: "cancelled"}).where(Ticket.payment == payment_id).run()
    return int(refunded)
