"""What each handled Stripe event does to the local payment; every change only moves state forward."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from app.payments.entry_fees import entry_fee_paid
from app.payments.receipts import queue_receipt
from app.payments.states import PaymentStatus, forward, refund_status
from app.payments.tables import Payment, Ticket

Effect = Callable[[dict[str, Any], datetime], Awaitable[int | None]]


async def payment_for_intent(intent: dict[str, Any]) -> dict[str, Any] | None:
    """The local payment of a PaymentIntent (by its id, else by the id we put in its metadata)."""
    row: dict[str, Any] | None = (
        await Payment.select().where(Payment.stripe_intent == intent.get("id")).first().run()
    )
    if row is None:
        local_id = str((intent.get("metadata") or {}).get("kyoso_payment", ""))
        if local_id.isdigit():
            row = await Payment.select().where(Payment.id == int(local_id)).first().run()
    return await locked(row)


async def locked(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """The payment re-read under a row lock on PostgreSQL, so concurrent events apply one after another.

    (SQLite write transactions are serialized already.)
    """
    engine = Payment._meta.db
    if row is None or not isinstance(engine, PostgresEngine):
        return row
    await Payment.raw("SELECT id FROM payment WHERE id = {} FOR UPDATE", row["id"]).run()
    fresh: dict[str, Any] | None = await Payment.select().where(Payment.id == row["id"]).first().run()
    return fresh


async def move(payment: dict[str, Any], proposed: PaymentStatus, now: datetime, **changes: Any) -> None:
    """Write the forward-only status (and any other columns) of a payment."""
    status = forward(PaymentStatus(payment["status"]), proposed)
    values: dict[Any, Any] = {Payment.status: status.value, Payment.updated_at: now}
    values.update({getattr(Payment, name): value for name, value in changes.items()})
    await Payment.update(values).where(Payment.id == payment["id"]).run()
    payment["status"] = status.value


async def intent_succeeded(intent: dict[str, Any], now: datetime) -> int | None:
    """Money received: the ticket becomes valid, an entry fee counts, a one-off sponsorship adds up.

    The payer is sent the receipt (領収書) by email.
    """
    payment = await payment_for_intent(intent)
    if payment is None:
        return None
    received = int(intent.get("amount_received") or intent.get("amount") or payment["amount_jpy"])
    await move(
        payment,
        PaymentStatus.SUCCEEDED,
        now,
        collected_jpy=max(payment["collected_jpy"], received),
        succeeded_at=payment["succeeded_at"] or now,
        last_error="",
    )
    if payment["status"] != PaymentStatus.REFUNDED:
        await (
            Ticket.update({Ticket.status: "valid"})
            .where((Ticket.payment == payment["id"]) & (Ticket.status == "pending"))
            .run()
        )
    if payment["purpose"] == "entry_fee" and payment["submission"] is not None:
        await entry_fee_paid(payment, now)
    # In the transaction of the event: the receipt goes exactly when the success is recorded, and once
    # per payment (its dedupe key) whatever later event or reconciliation reports the success again.
    await queue_receipt(int(payment["id"]), now)
    return int(payment["id"])


async def intent_failed(intent: dict[str, Any], now: datetime) -> int | None:
    """The attempt failed: shown to the payer, who may try another card (a later success still wins)."""
    payment = await payment_for_intent(intent)
    if payment is None:
        return None
    error = intent.get("last_payment_error") or {}
    message = str(error.get("message") or "") if isinstance(error, dict) else ""
    await move(payment, PaymentStatus.FAILED, now, last_error=message[:500])
    return int(payment["id"])


async def charge_refunded(charge: dict[str, Any], now: datetime) -> int | None:
    """Stripe's cumulative refunded amount (never lowered); a full refund cancels the ticket."""
    payment = await payment_for_intent(
        {"id": charge.get("payment_intent"), "metadata": charge.get("metadata")}
    )
    if payment is None:
        return None
    refunded = max(payment["refunded_jpy"], int(charge.get("amount_refunded") or 0))
    status = refund_status(payment["amount_jpy"], refunded) or PaymentStatus(payment["status"])
    await move(payment, status, now, refunded_jpy=refunded)
    if status is PaymentStatus.REFUNDED:
        await Ticket.update({Ticket.status: "cancelled"}).where(Ticket.payment == payment["id"]).run()
    return int(payment["id"])


async def payment_for_subscription(subscription_id: Any) -> dict[str, Any] | None:
    """The local payment of a subscription."""
    if not isinstance(subscription_id, str):
        return None
    row: dict[str, Any] | None = (
        await Payment.select().where(Payment.stripe_subscription == subscription_id).first().run()
    )
    return await locked(row)


async def invoice_paid(invoice: dict[str, Any], now: datetime) -> int | None:
    """A month of a sponsorship was paid: it adds to the total raised (each invoice once, by its event)."""
    payment = await payment_for_subscription(invoice.get("subscription"))
    if payment is None:
        return None
    amount = int(invoice.get("amount_paid") or 0)
    await move(
        payment,
        PaymentStatus.ACTIVE,
        now,
        collected_jpy=payment["collected_jpy"] + amount,
        succeeded_at=payment["succeeded_at"] or now,
    )
    return int(payment["id"])


async def subscription_deleted(subscription: dict[str, Any], now: datetime) -> int | None:
    """The monthly sponsorship ended; what was collected stays counted."""
    payment = await payment_for_subscription(subscription.get("id"))
    if payment is None:
        return None
    await move(payment, PaymentStatus.CANCELED, now)
    return int(payment["id"])


EFFECTS: dict[str, Effect] = {
    "payment_intent.succeeded": intent_succeeded,
    "payment_intent.payment_failed": intent_failed,
    "charge.refunded": charge_refunded,
    "invoice.paid": invoice_paid,
    "customer.subscription.deleted": subscription_deleted,
}
