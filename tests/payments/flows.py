"""Steps of the payment flow as a browser (and Stripe) would take them, shared by the tests."""

from __future__ import annotations

import asyncio
import re

import httpx

from app.payments.tables import Payment
from tests.support.client import WebClient
from tests.support.stripe import Delivery, LocalStripe, WebhookInbox

WEBHOOK = "/payments/stripe/webhook"


async def buy_paid_ticket(client: WebClient, slug: str, ticket_type: int) -> int:
    """Register for a paid ticket; returns the payment id the card page is for."""
    response = await client.post(f"/challenges/{slug}/pitch-day/register", {"ticket_type": str(ticket_type)})
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/payments/(\d+)/pay", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


async def pay(client: WebClient, stripe: LocalStripe, payment_id: int, card: str) -> httpx.Response:
    """Tokenize `card` as Stripe.js does and post the token as the card page's script does."""
    token = await asyncio.to_thread(stripe.card_token, card)
    return await client.post(
        f"/payments/{payment_id}/card", {"token": token}, headers={"Accept": "application/json"}
    )


async def intent_of(payment_id: int) -> str:
    """The PaymentIntent id of a local payment."""
    row = await Payment.select(Payment.stripe_intent).where(Payment.id == payment_id).first().run()
    assert row is not None
    assert row["stripe_intent"]
    return str(row["stripe_intent"])


async def wait_for(inbox: WebhookInbox, event_type: str, object_id: str) -> Delivery:
    """The webhook localstripe sent about `object_id` (it sends about a second later)."""
    return await asyncio.to_thread(inbox.wait_for, event_type, object_id)


async def deliver(client: WebClient, delivery: Delivery) -> httpx.Response:
    """Hand the exact signed bytes to the app, as Stripe's POST would."""
    return await client.http.post(
        WEBHOOK,
        content=delivery.body,
        headers={"Stripe-Signature": delivery.signature, "Content-Type": "application/json"},
    )


async def payment_row(payment_id: int) -> dict[str, object]:
    """The local payment."""
    row = await Payment.select().where(Payment.id == payment_id).first().run()
    assert row is not None
    return row
