"""Loading payments with the facts policies need, and opening the configured gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar.exceptions import NotFoundException

from app.accounts.viewer import Viewer
from app.payments import policies
from app.payments.gateway import GatewayUnavailable, PaymentGateway
from app.payments.policies import PaymentFacts
from app.payments.stripe_gateway import gateway_from_settings
from app.payments.tables import Payment
from app.settings import Settings

PAYMENT_COLUMNS = (
    Payment.id,
    Payment.purpose,
    Payment.payer,
    Payment.amount_jpy,
    Payment.collected_jpy,
    Payment.refunded_jpy,
    Payment.status,
    Payment.stripe_intent,
    Payment.stripe_subscription,
    Payment.monthly,
    Payment.last_error,
    Payment.challenge,
    Payment.submission,
    Payment.output,
    Payment.sponsor_name,
    Payment.created_at,
    Payment.succeeded_at,
    Payment.challenge.bureau,
    Payment.challenge.slug,
    Payment.challenge.title_ja,
    Payment.challenge.title_en,
    Payment.output.slug,
    Payment.output.name,
    Payment.payer.display_name,
    Payment.payer.email,
)


def payment_facts(row: dict[str, Any]) -> PaymentFacts:
    """The policy facts of a payment row selected with PAYMENT_COLUMNS."""
    return PaymentFacts(
        id=row["id"],
        payer_id=row["payer"],
        bureau_id=row["challenge.bureau"],
        purpose=row["purpose"],
        status=row["status"],
    )


async def load_payment(payment_id: int) -> dict[str, Any] | None:
    """A payment with its challenge, output and payer (one query)."""
    row: dict[str, Any] | None = (
        await Payment.select(*PAYMENT_COLUMNS).where(Payment.id == payment_id).first().run()
    )
    return row


async def visible_payment(user: Viewer | None, payment_id: int) -> tuple[dict[str, Any], PaymentFacts]:
    """A payment the user may see; 404 otherwise (someone else's payment does not leak)."""
    row = await load_payment(payment_id)
    if row is None:
        raise NotFoundException
    facts = payment_facts(row)
    if not policies.can_view_payment(user, facts):
        raise NotFoundException
    return row, facts


@asynccontextmanager
async def open_gateway(settings: Settings) -> AsyncIterator[PaymentGateway]:
    """The configured gateway for one request (GatewayUnavailable when Stripe is not configured)."""
    gateway = gateway_from_settings(settings)
    if gateway is None:
        raise GatewayUnavailable("Stripe is not configured")
    try:
        yield gateway
    finally:
        await gateway.close()
