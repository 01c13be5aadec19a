"""Sponsoring a catalogue output: one-off and monthly (a Subscription on a Plan), cancel, total raised.

localstripe sends invoice.payment_succeeded for a subscription's invoice but never invoice.paid: the test
re-signs the invoice it actually produced as invoice.paid, the event Stripe sends and the app handles.
"""

from __future__ import annotations

import asyncio

import pytest
from piccolo.engine.base import Engine

from app.clock import utcnow
from tests.catalog.adoption_factories import make_output
from tests.payments.events import event, signed
from tests.payments.flows import deliver, intent_of, pay, payment_row, wait_for
from tests.support.client import WebClient
from tests.support.people import Person, make_user
from tests.support.stripe import LocalStripe, WebhookInbox


@pytest.fixture
async def sponsor(database: Engine) -> Person:  # type: ignore[type-arg]
    """A citizen who sponsors, and a published output by someone else."""
    maintainer = await make_user("maintainer@example.org")
    await make_output("bousai-map", created_by=maintainer.id, now=utcnow())
    return await make_user("citizen@example.com")


async def start(client: WebClient, frequency: str, amount: str = "3000") -> int:
    """Fill the sponsorship form; returns the payment id of the card page."""
    response = await client.post(
        "/catalog/bousai-map/sponsorship",
        {"amount_jpy": amount, "frequency": frequency, "sponsor_name": "Citizen K"},
    )
    assert response.status_code == 303, response.text
    return int(response.headers["location"].split("/")[2])


async def test_a_one_off_sponsorship_adds_to_the_total_raised(
    pay_client: WebClient, sponsor: Person, stripe: LocalStripe, inbox: WebhookInbox
) -> None:
    before = await pay_client.get("/catalog/bousai-map/sponsorship", htmx=True)
    assert 'id="total-raised">¥0<' in before.text
    await pay_client.sign_in(sponsor.email, sponsor.password)
    payment_id = await start(pay_client, "once")
    assert (await pay(pay_client, stripe, payment_id, "4242424242424242")).status_code == 200
    delivery = await wait_for(inbox, "payment_intent.succeeded", await intent_of(payment_id))
    assert (await deliver(pay_client, delivery)).status_code == 200
    after = await pay_client.get("/catalog/bousai-map/sponsorship", htmx=True)
    assert 'id="total-raised">¥3,000<' in after.text
    assert "Citizen K" in after.text


async def test_a_monthly_sponsorship_is_created_counted_per_invoice_and_cancelled(
    pay_client: WebClient, sponsor: Person, stripe: LocalStripe, inbox: WebhookInbox
) -> None:
    await pay_client.sign_in(sponsor.email, sponsor.password)
    payment_id = await start(pay_client, "monthly", "2,000")
    response = await pay(pay_client, stripe, payment_id, "4242424242424242")
    assert response.status_code == 200
    assert response.json()["status"] == "processing"
    row = await payment_row(payment_id)
    subscription_id = str(row["stripe_subscription"])
    assert subscription_id.startswith("sub_")
    assert row["status"] == "processing"
    assert stripe.get(f"/v1/subscriptions/{subscription_id}")["status"] == "active"

    invoice = (await wait_for_invoice(inbox, subscription_id)).event["data"]["object"]
    assert invoice["amount_paid"] == 2000
    paid = signed(event("invoice.paid", invoice))
    for _ in range(3):  # a replay adds nothing
        assert (await deliver(pay_client, paid)).status_code == 200
    row = await payment_row(payment_id)
    assert row["status"] == "active"
    assert row["collected_jpy"] == 2000
    # Next month's invoice (another event) adds again.
    second = signed(event("invoice.paid", {**invoice, "id": "in_next_month"}))
    assert (await deliver(pay_client, second)).status_code == 200
    assert (await payment_row(payment_id))["collected_jpy"] == 4000

    cancel = await pay_client.post(f"/payments/{payment_id}/cancel")
    assert cancel.status_code == 303
    assert stripe.get(f"/v1/subscriptions/{subscription_id}")["status"] == "canceled"
    deleted = await wait_for(inbox, "customer.subscription.deleted", subscription_id)
    assert (await deliver(pay_client, deleted)).status_code == 200
    row = await payment_row(payment_id)
    assert row["status"] == "canceled"
    assert row["collected_jpy"] == 4000
    total = await pay_client.get("/catalog/bousai-map/sponsorship", htmx=True)
    assert 'id="total-raised">¥4,000<' in total.text


async def wait_for_invoice(inbox: WebhookInbox, subscription_id: str) -> object:
    """localstripe's invoice.payment_succeeded for the subscription's first invoice."""

    def find() -> object:
        import time

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for delivery in inbox.deliveries():
                data = delivery.event
                if (
                    data["type"] == "invoice.payment_succeeded"
                    and data["data"]["object"].get("subscription") == subscription_id
                ):
                    return delivery
            time.sleep(0.05)
        raise AssertionError("no invoice.payment_succeeded")

    return await asyncio.to_thread(find)


async def test_someone_else_cannot_cancel_a_sponsorship(
    pay_client: WebClient,
    other_pay_client: WebClient,
    sponsor: Person,
    stripe: LocalStripe,
    inbox: WebhookInbox,
) -> None:
    await pay_client.sign_in(sponsor.email, sponsor.password)
    payment_id = await start(pay_client, "monthly")
    await pay(pay_client, stripe, payment_id, "4242424242424242")
    stranger = await make_user("stranger@example.com")
    await other_pay_client.sign_in(stranger.email, stranger.password)
    assert (await other_pay_client.post(f"/payments/{payment_id}/cancel")).status_code == 404
    row = await payment_row(payment_id)
    assert stripe.get(f"/v1/subscriptions/{row['stripe_subscription']}")["status"] == "active"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"amount_jpy": "50", "frequency": "once"}, "Enter a number from 100 to 10,000,000."),
        ({"amount_jpy": "1.5", "frequency": "once"}, "Enter a whole number."),
        ({"amount_jpy": "1000", "frequency": "yearly"}, "Choose one-off or monthly."),
    ],
)
async def test_bad_sponsorship_input_saves_nothing(
    pay_client: WebClient, sponsor: Person, values: dict[str, str], message: str
) -> None:
    from app.payments.tables import Payment

    await pay_client.sign_in(sponsor.email, sponsor.password)
    response = await pay_client.post("/catalog/bousai-map/sponsorship", values)
    assert response.status_code == 422
    assert message in response.text
    assert await Payment.count().run() == 0


async def test_a_draft_output_cannot_be_sponsored(pay_client: WebClient, sponsor: Person) -> None:
    await make_output("draft-tool", created_by=sponsor.id, status="draft")
    await pay_client.sign_in(sponsor.email, sponsor.password)
    assert (await pay_client.get("/catalog/draft-tool/sponsorship")).status_code == 404
    response = await pay_client.post(
        "/catalog/draft-tool/sponsorship", {"amount_jpy": "1000", "frequency": "once"}
    )
    assert response.status_code == 404
    # Its editor's page does not ask for the slot (it loaded a 404 error box into the draft's page).
    draft_page = await pay_client.get("/catalog/draft-tool")
    assert draft_page.status_code == 200
    assert "/catalog/draft-tool/sponsorship" not in draft_page.text
    assert 'hx-get="/catalog/bousai-map/sponsorship"' in (await pay_client.get("/catalog/bousai-map")).text
