"""Pitch-day tickets end to end on the server: register, pay a test card at localstripe, webhook, ticket."""

from __future__ import annotations

import pytest

from app.payments.tables import Payment, StripeEvent, Ticket
from tests.payments.conftest import PitchDay
from tests.payments.flows import buy_paid_ticket, deliver, intent_of, pay, payment_row, wait_for
from tests.support.client import WebClient
from tests.support.stripe import LocalStripe, WebhookInbox


async def test_a_free_ticket_is_valid_at_once_with_a_short_code(
    pay_client: WebClient, pitch_day: PitchDay
) -> None:
    await pay_client.sign_in(pitch_day.attendee.email, pitch_day.attendee.password)
    response = await pay_client.post(
        f"/challenges/{pitch_day.slug}/pitch-day/register", {"ticket_type": str(pitch_day.free_type)}
    )
    assert response.status_code == 303
    page = await pay_client.get(response.headers["location"])
    ticket = await Ticket.select().first().run()
    assert ticket is not None
    assert ticket["status"] == "valid"
    assert ticket["payment"] is None
    assert ticket["code"] in page.text
    assert await Payment.count().run() == 0


async def test_a_paid_ticket_is_processing_until_the_webhook_then_valid(
    pay_client: WebClient, pitch_day: PitchDay, stripe: LocalStripe, inbox: WebhookInbox
) -> None:
    await pay_client.sign_in(pitch_day.attendee.email, pitch_day.attendee.password)
    payment_id = await buy_paid_ticket(pay_client, pitch_day.slug, pitch_day.paid_type)
    card_page = await pay_client.get(f"/payments/{payment_id}/pay")
    assert card_page.status_code == 200
    csp = card_page.headers["content-security-policy"]
    assert f"script-src 'self' {stripe.base_url}" in csp
    assert f'src="{stripe.base_url}/js.stripe.com/v3/"' in card_page.text
    # Other pages keep the strict policy without the Stripe host.
    assert (
        stripe.base_url
        not in (await pay_client.get(f"/challenges/{pitch_day.slug}/pitch-day")).headers[
            "content-security-policy"
        ]
    )

    before = await pay_client.get(f"/payments/{payment_id}")
    assert 'data-status="created"' in before.text
    assert "every 2s" not in before.text  # nothing to wait for until a card is entered

    response = await pay(pay_client, stripe, payment_id, "4242424242424242")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "succeeded", "next": f"/payments/{payment_id}"}

    # The redirect alone proves nothing: until the webhook arrives the page says processing.
    status = await pay_client.get(f"/payments/{payment_id}")
    assert 'data-status="processing"' in status.text
    assert 'hx-trigger="every 2s"' in status.text
    assert (await payment_row(payment_id))["status"] == "processing"
    ticket = await Ticket.select().where(Ticket.payment == payment_id).first().run()
    assert ticket is not None
    assert ticket["status"] == "pending"

    delivery = await wait_for(inbox, "payment_intent.succeeded", await intent_of(payment_id))
    assert (await deliver(pay_client, delivery)).status_code == 200

    fragment = await pay_client.get(f"/payments/{payment_id}", htmx=True)
    assert 'data-status="succeeded"' in fragment.text
    assert "hx-trigger" not in fragment.text  # polling stops
    assert ticket["code"] in fragment.text
    row = await payment_row(payment_id)
    assert row["status"] == "succeeded"
    assert row["collected_jpy"] == 1000
    assert row["amount_jpy"] == 1000
    assert (await Ticket.select().where(Ticket.payment == payment_id).first().run())["status"] == "valid"  # type: ignore[index]
    # JPY is zero-decimal: ¥1,000 was sent to Stripe as amount=1000.
    assert stripe.get(f"/v1/payment_intents/{row['stripe_intent']}")["amount"] == 1000


async def test_a_declined_card_leaves_the_payment_failed_and_the_ticket_unissued(
    pay_client: WebClient, pitch_day: PitchDay, stripe: LocalStripe
) -> None:
    """localstripe declines 4000000000000002 when the card is saved to the customer (a 402)."""
    await pay_client.sign_in(pitch_day.attendee.email, pitch_day.attendee.password)
    payment_id = await buy_paid_ticket(pay_client, pitch_day.slug, pitch_day.paid_type)
    response = await pay(pay_client, stripe, payment_id, "4000000000000002")
    assert response.status_code == 422
    assert response.json()["error"] == "Your card was declined. Nothing was charged; try another card."
    row = await payment_row(payment_id)
    assert row["status"] == "failed"
    ticket = await Ticket.select().where(Ticket.payment == payment_id).first().run()
    assert ticket is not None
    assert ticket["status"] == "pending"
    page = await pay_client.get(f"/payments/{payment_id}")
    assert "Try another card" in page.text
    # A second card then succeeds.
    retry = await pay(pay_client, stripe, payment_id, "4242424242424242")
    assert retry.status_code == 200
    assert retry.json()["status"] == "succeeded"


async def test_sold_out_and_closed_sales_are_refused_with_nothing_saved(
    pay_client: WebClient, pitch_day: PitchDay
) -> None:
    from datetime import timedelta

    from app.clock import utcnow
    from app.payments.tables import TicketType

    await TicketType.update({TicketType.capacity: 1}).where(TicketType.id == pitch_day.free_type).run()
    await pay_client.sign_in(pitch_day.attendee.email, pitch_day.attendee.password)
    url = f"/challenges/{pitch_day.slug}/pitch-day/register"
    assert (await pay_client.post(url, {"ticket_type": str(pitch_day.free_type)})).status_code == 303
    again = await pay_client.post(url, {"ticket_type": str(pitch_day.free_type)})
    assert again.status_code == 422
    assert "This ticket type is sold out." in again.text
    await (
        TicketType.update({TicketType.sales_close_at: utcnow() - timedelta(minutes=1)})
        .where(TicketType.id == pitch_day.paid_type)
        .run()
    )
    closed = await pay_client.post(url, {"ticket_type": str(pitch_day.paid_type)})
    assert closed.status_code == 422
    assert "This ticket is not on sale now." in closed.text
    assert await Ticket.count().run() == 1
    assert await Payment.count().run() == 0
    assert await StripeEvent.count().run() == 0


@pytest.mark.parametrize("value", ["", "abc", "99999"])
async def test_an_unknown_ticket_type_is_refused(
    pay_client: WebClient, pitch_day: PitchDay, value: str
) -> None:
    await pay_client.sign_in(pitch_day.attendee.email, pitch_day.attendee.password)
    response = await pay_client.post(
        f"/challenges/{pitch_day.slug}/pitch-day/register", {"ticket_type": value}
    )
    assert response.status_code in {404, 422}
    assert await Ticket.count().run() == 0
