"""Reconciliation: compare local payments with Stripe (fetched by id), fix what it can, report the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.payments import effects
from app.payments.gateway import GatewayUnavailable, PaymentGateway
from app.payments.intents import abandon_payment
from app.payments.states import PAID_STATUSES, PaymentStatus
from app.payments.tables import Payment

# A payment that never got a PaymentIntent this long after creation was abandoned by a failure.
STALE_AFTER = timedelta(hours=1)


@dataclass
class ReconciliationReport:
    """What was checked, fixed and left for a person."""

    checked: int = 0
    fixed: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)


async def reconcile_payments(gateway: PaymentGateway, *, now: datetime) -> ReconciliationReport:
    """Check every payment that Stripe knows about (and stale ones it never heard of)."""
    report = ReconciliationReport()
    rows = await Payment.select().order_by(Payment.id).run()
    for row in rows:
        report.checked += 1
        try:
            if row["stripe_intent"]:
                await reconcile_intent(row, gateway, report, now)
            elif row["stripe_subscription"]:
                await reconcile_subscription(row, gateway, report, now)
            elif row["status"] == "created" and not row["monthly"] and row["created_at"] < now - STALE_AFTER:
                await abandon_payment(row["id"], "never reached Stripe", now)
                report.fixed.append(f"payment {row['id']}: never reached Stripe → failed")
        except GatewayUnavailable as error:
            report.unresolved.append(f"payment {row['id']}: Stripe could not be asked ({error})")
    return report


async def reconcile_intent(
    row: dict[str, Any], gateway: PaymentGateway, report: ReconciliationReport, now: datetime
) -> None:
    """Bring a one-off payment up to what its PaymentIntent says."""
    intent = await gateway.retrieve_intent(row["stripe_intent"])
    local = PaymentStatus(row["status"])
    stripe_object = {"id": intent.id, "amount": intent.amount_jpy, "metadata": {}}
    async with Payment._meta.db.transaction():
        if intent.status == "succeeded" and local not in PAID_STATUSES | {PaymentStatus.REFUNDED}:
            await effects.intent_succeeded(stripe_object, now)
            report.fixed.append(f"payment {row['id']}: {local} → succeeded (as Stripe says)")
        elif (
            intent.status == "requires_payment_method" and intent.error and local is PaymentStatus.PROCESSING
        ):
            await effects.intent_failed(
                {**stripe_object, "last_payment_error": {"message": intent.error}}, now
            )
            report.fixed.append(f"payment {row['id']}: processing → failed (as Stripe says)")
        elif intent.status != "succeeded" and local in PAID_STATUSES:
            report.unresolved.append(
                f"payment {row['id']}: paid here but Stripe says {intent.status}; check it in the dashboard"
            )
        if intent.refunded_jpy > row["refunded_jpy"]:
            await effects.charge_refunded(
                {"payment_intent": intent.id, "amount_refunded": intent.refunded_jpy}, now
            )
            report.fixed.append(f"payment {row['id']}: refunded ¥{intent.refunded_jpy:,} (as Stripe says)")
        elif intent.refunded_jpy < row["refunded_jpy"]:
            report.unresolved.append(
                f"payment {row['id']}: ¥{row['refunded_jpy']:,} refunded here, "
                f"¥{intent.refunded_jpy:,} at Stripe"
            )


async def reconcile_subscription(
    row: dict[str, Any], gateway: PaymentGateway, report: ReconciliationReport, now: datetime
) -> None:
    """Bring a monthly sponsorship up to what its Subscription says."""
    subscription = await gateway.retrieve_subscription(row["stripe_subscription"])
    local = PaymentStatus(row["status"])
    if subscription.status == "canceled" and local is not PaymentStatus.CANCELED:
        async with Payment._meta.db.transaction():
            await effects.subscription_deleted({"id": subscription.id}, now)
        report.fixed.append(f"payment {row['id']}: {local} → canceled (as Stripe says)")
    elif subscription.status == "active" and local is PaymentStatus.PROCESSING:
        report.unresolved.append(
            f"payment {row['id']}: Stripe says active but no invoice.paid arrived; check its invoices"
        )
