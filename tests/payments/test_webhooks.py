"""The webhook endpoint: signature on the raw body, one effect per event, forward-only state, 5xx on error."""

from __future__ import annotations

import asyncio
import time

import pytest

from app.payments import effects
from app.payments.tables import Payment, StripeEvent, Ticket
from tests.payments.conftest import PitchDay
from tests.payments.events import event, intent_object, refunded_charge, signed
from tests.payments.flows import WEBHOOK, buy_paid_ticket, deliver, intent_of, pay, payment_row, wait_for
from tests.support.client import WebClient
from tests.support.stripe import LocalStripe, WebhookInbox


async def paid_and_signed(
    client: WebClient, pitch_day: PitchDay, stripe: LocalStripe, inbox: WebhookInbox
) -> tuple[int, bytes, str]:
    """A ticket paid at localstripe, and the payment_intent.succeeded it signed (not yet delivered)."""
    await client.sign_in(pitch_day.attendee.email, pitch_day.attendee.password)
    payment_id = await buy_paid_ticket(client, pitch_day.slug, pitch_day.paid_type)
    assert (await pay(client, stripe, payment_id, "4242424242424242")).status_code == 200
    delivery = await wait_for(inbox, "payment_intent.succeeded", await intent_of(payment_id))
    return payment_id, delivery.body, delivery.signature


async def effects_applied(payment_id: int) -> int:
    """How many stored events changed this payment."""
    return await StripeEvent.count().where(StripeEvent.payment == payment_id).run()


async def test_a_replay_three_times_in_sequence_has_one_effect(
    pay_client: WebClient, pitch_day: PitchDay, stripe: LocalStripe, inbox: WebhookInbox
) -> None:
    payment_id, body, signature = await paid_and_signed(pay_client, pitch_day, stripe, inbox)
    outcomes = []
    for _ in range(3):
        response = await pay_client.http.post(WEBHOOK, content=body, headers={"Stripe-Signature": signature})
        assert response.status_code == 200
        outcomes.append(response.json()["outcome"])
    assert outcomes == ["applied", "duplicate", "duplicate"]
    assert await effects_applied(payment_id) == 1
    assert (await payment_row(payment_id))["collected_jpy"] == 1000


async def test_ten_concurrent_deliveries_have_exactly_one_effect(
    pay_client: WebClient,
    pitch_day: PitchDay,
    stripe: LocalStripe,
    inbox: WebhookInbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payment_id, body, signature = await paid_and_signed(pay_client, pitch_day, stripe, inbox)
    calls = []
    original = effects.EFFECTS["payment_intent.succeeded"]

    async def counting(stripe_object: dict[str, object], now: object) -> int | None:
        calls.append(1)
        await asyncio.sleep(0.01)  # widen the window a second delivery could slip through
        return await original(stripe_object, now)  # type: ignore[arg-type]

    monkeypatch.setitem(effects.EFFECTS, "payment_intent.succeeded", counting)
    responses = await asyncio.gather(
        *(
            pay_client.http.post(WEBHOOK, content=body, headers={"Stripe-Signature": signature})
            for _ in range(10)
        )
    )
    assert [r.status_code for r in responses] == [200] * 10
    assert sorted(r.json()["outcome"] for r in responses) == ["applied"] + ["duplicate"] * 9
    assert len(calls) == 1
    assert await effects_applied(payment_id) == 1
    assert (await payment_row(payment_id))["collected_jpy"] == 1000


@pytest.mark.parametrize(
    "tamper",
    ["wrong_secret", "changed_body", "no_header", "garbage_header", "old_timestamp"],
)
async def test_a_bad_signature_or_an_old_timestamp_is_400_and_writes_nothing(
    pay_client: WebClient, pitch_day: PitchDay, stripe: LocalStripe, inbox: WebhookInbox, tamper: str
) -> None:
    payment_id = await unpaid_ticket(pay_client, pitch_day)
    intent = await intent_of(payment_id)
    good = event("payment_intent.succeeded", intent_object(intent, 1000))
    delivery = signed(good)
    body, headers = delivery.body, {"Stripe-Signature": delivery.signature}
    if tamper == "wrong_secret":
        headers["Stripe-Signature"] = signed(good, secret="whsec_someone_else").signature
    elif tamper == "changed_body":
        body = body.replace(b'"amount": 1000', b'"amount": 9000')
    elif tamper == "no_header":
        headers = {}
    elif tamper == "garbage_header":
        headers["Stripe-Signature"] = "nonsense"
    else:
        headers["Stripe-Signature"] = signed(good, timestamp=int(time.time()) - 301).signature
    response = await pay_client.http.post(WEBHOOK, content=body, headers=headers)
    assert response.status_code == 400
    assert await StripeEvent.count().run() == 0
    assert (await payment_row(payment_id))["status"] == "created"


async def unpaid_ticket(client: WebClient, pitch_day: PitchDay) -> int:
    """The attendee registered for a paid ticket (a PaymentIntent exists, nothing paid); the payment id."""
    await client.sign_in(pitch_day.attendee.email, pitch_day.attendee.password)
    return await buy_paid_ticket(client, pitch_day.slug, pitch_day.paid_type)


async def test_a_timestamp_within_300_seconds_is_accepted(pay_client: WebClient, pitch_day: PitchDay) -> None:
    payment_id = await unpaid_ticket(pay_client, pitch_day)
    delivery = signed(
        event("payment_intent.succeeded", intent_object(await intent_of(payment_id), 1000)),
        timestamp=int(time.time()) - 240,
    )
    assert (await deliver(pay_client, delivery)).status_code == 200
    assert (await payment_row(payment_id))["status"] == "succeeded"


async def test_out_of_order_events_reach_the_same_final_state(
    pay_client: WebClient, pitch_day: PitchDay
) -> None:
    """charge.refunded is built here: localstripe never sends it (it sends no event for refunds)."""
    payment_id = await unpaid_ticket(pay_client, pitch_day)
    intent = await intent_of(payment_id)
    failed = signed(
        event(
            "payment_intent.payment_failed",
            intent_object(
                intent, 1000, "requires_payment_method", last_payment_error={"message": "declined"}
            ),
        )
    )
    succeeded = signed(event("payment_intent.succeeded", intent_object(intent, 1000)))
    partly = signed(event("charge.refunded", refunded_charge(intent, 1000, 400)))
    # Stripe's order: failed attempt, success, refund. Delivered: refund, success, failure.
    for delivery in (partly, succeeded, failed):
        assert (await deliver(pay_client, delivery)).status_code == 200
    row = await payment_row(payment_id)
    assert row["status"] == "partially_refunded"
    assert row["refunded_jpy"] == 400
    assert row["collected_jpy"] == 1000
    ticket = await Ticket.select().where(Ticket.payment == payment_id).first().run()
    assert ticket is not None
    assert ticket["status"] == "valid"
    # An older cumulative refund total arriving late never lowers it.
    older = signed(event("charge.refunded", refunded_charge(intent, 1000, 100)))
    assert (await deliver(pay_client, older)).status_code == 200
    assert (await payment_row(payment_id))["refunded_jpy"] == 400
    full = signed(event("charge.refunded", refunded_charge(intent, 1000, 1000)))
    assert (await deliver(pay_client, full)).status_code == 200
    row = await payment_row(payment_id)
    assert row["status"] == "refunded"
    assert (await Ticket.select().where(Ticket.payment == payment_id).first().run())["status"] == "cancelled"  # type: ignore[index]


async def test_unknown_event_types_are_acknowledged_and_ignored(
    pay_client: WebClient, database: object
) -> None:
    delivery = signed(event("customer.created", {"id": "cus_123", "object": "customer"}))
    response = await deliver(pay_client, delivery)
    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored"
    assert await Payment.count().run() == 0


async def test_an_event_about_no_local_payment_is_acknowledged_as_unmatched(
    pay_client: WebClient, database: object
) -> None:
    response = await deliver(
        pay_client, signed(event("payment_intent.succeeded", intent_object("pi_unknown", 500)))
    )
    assert response.status_code == 200
    assert response.json()["outcome"] == "unmatched"


async def test_a_failure_is_5xx_and_rolls_back_the_event_id_so_the_retry_applies_it(
    pay_client: WebClient, pitch_day: PitchDay, monkeypatch: pytest.MonkeyPatch
) -> None:
    payment_id = await unpaid_ticket(pay_client, pitch_day)
    delivery = signed(event("payment_intent.succeeded", intent_object(await intent_of(payment_id), 1000)))
    original = effects.EFFECTS["payment_intent.succeeded"]

    async def broken(stripe_object: dict[str, object], now: object) -> int | None:
        await original(stripe_object, now)  # type: ignore[arg-type]
        raise RuntimeError("database went away half-way")

    monkeypatch.setitem(effects.EFFECTS, "payment_intent.succeeded", broken)
    response = await deliver(pay_client, delivery)
    assert response.status_code >= 500
    assert await StripeEvent.count().run() == 0
    assert (await payment_row(payment_id))["status"] == "created"
    monkeypatch.setitem(effects.EFFECTS, "payment_intent.succeeded", original)
    retry = await deliver(pay_client, delivery)
    assert retry.status_code == 200
    assert retry.json()["outcome"] == "applied"
    assert (await payment_row(payment_id))["status"] == "succeeded"


async def test_the_webhook_needs_no_csrf_token_but_other_payment_posts_do(
    pay_client: WebClient, pitch_day: PitchDay
) -> None:
    payment_id = await unpaid_ticket(pay_client, pitch_day)
    refused = await pay_client.post(f"/payments/{payment_id}/card", {"token": "tok_x"}, csrf=False)
    assert refused.status_code == 403
    assert (await payment_row(payment_id))["status"] == "created"


async def test_the_webhook_is_503_when_stripe_is_not_configured(client: WebClient) -> None:
    delivery = signed(event("payment_intent.succeeded", intent_object("pi_x", 500)))
    response = await client.http.post(
        WEBHOOK, content=delivery.body, headers={"Stripe-Signature": delivery.signature}
    )
    assert response.status_code == 503
    assert await StripeEvent.count().run() == 0
