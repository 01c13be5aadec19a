"""Officials see attendees, check people in and refund (full or partial); the payer gets a 領収書."""

from __future__ import annotations

import pytest

from app.payments.tables import Payment, Refund, Ticket
from tests.payments.conftest import PitchDay
from tests.payments.events import event, refunded_charge, signed
from tests.payments.flows import buy_paid_ticket, deliver, intent_of, pay, payment_row, wait_for
from tests.support.client import WebClient
from tests.support.stripe import LocalStripe, WebhookInbox


async def paid_ticket(
    client: WebClient, pitch_day: PitchDay, stripe: LocalStripe, inbox: WebhookInbox
) -> int:
    """The attendee bought and paid a ¥1,000 ticket, and the webhook arrived."""
    await client.sign_in(pitch_day.attendee.email, pitch_day.attendee.password)
    payment_id = await buy_paid_ticket(client, pitch_day.slug, pitch_day.paid_type)
    assert (await pay(client, stripe, payment_id, "4242424242424242")).status_code == 200
    delivery = await wait_for(inbox, "payment_intent.succeeded", await intent_of(payment_id))
    assert (await deliver(client, delivery)).status_code == 200
    return payment_id


async def test_officials_refund_partly_then_fully_at_stripe(
    pay_client: WebClient,
    official_client: WebClient,
    pitch_day: PitchDay,
    stripe: LocalStripe,
    inbox: WebhookInbox,
) -> None:
    payment_id = await paid_ticket(pay_client, pitch_day, stripe, inbox)
    await official_client.sign_in(pitch_day.official.email, pitch_day.official.password)
    attendees = await official_client.get(f"/challenges/{pitch_day.slug}/pitch-day/attendees")
    assert attendees.status_code == 200
    assert "visitor@example.com" in attendees.text
    assert f"/payments/{payment_id}/refund" in attendees.text

    partial = await official_client.post(f"/payments/{payment_id}/refund", {"amount_jpy": "300"})
    assert partial.status_code == 303
    row = await payment_row(payment_id)
    assert row["status"] == "partially_refunded"
    assert row["refunded_jpy"] == 300
    charge = stripe.get(f"/v1/payment_intents/{row['stripe_intent']}")["latest_charge"]
    assert charge["amount_refunded"] == 300

    too_much = await official_client.post(f"/payments/{payment_id}/refund", {"amount_jpy": "800"})
    assert too_much.status_code == 303
    assert (await payment_row(payment_id))["refunded_jpy"] == 300
    assert await Refund.count().run() == 1

    # charge.refunded (built here: localstripe does not send it) with the same total changes nothing.
    same = signed(event("charge.refunded", refunded_charge(str(row["stripe_intent"]), 1000, 300)))
    assert (await deliver(pay_client, same)).status_code == 200
    assert (await payment_row(payment_id))["refunded_jpy"] == 300

    rest = await official_client.post(f"/payments/{payment_id}/refund", {"amount_jpy": ""})
    assert rest.status_code == 303
    row = await payment_row(payment_id)
    assert row["status"] == "refunded"
    assert row["refunded_jpy"] == 1000
    assert (
        stripe.get(f"/v1/payment_intents/{row['stripe_intent']}")["latest_charge"]["amount_refunded"] == 1000
    )
    ticket = await Ticket.select().where(Ticket.payment == payment_id).first().run()
    assert ticket is not None
    assert ticket["status"] == "cancelled"


async def test_the_receipt_shows_operator_amount_tax_date_and_purpose(
    pay_client: WebClient, pitch_day: PitchDay, stripe: LocalStripe, inbox: WebhookInbox
) -> None:
    payment_id = await paid_ticket(pay_client, pitch_day, stripe, inbox)
    receipt = await pay_client.get(f"/payments/{payment_id}/receipt")
    assert receipt.status_code == 200
    text = receipt.text
    assert "領収書" in text
    assert "¥1,000" in text  # amount
    assert "¥90" in text  # consumption tax inside ¥1,000 at 10 percent
    assert "Pitch-day ticket" in text
    assert "Disaster preparedness" in text
    assert "Kyoso" in text  # operator


async def test_receipts_and_payments_of_others_are_404(
    pay_client: WebClient,
    official_client: WebClient,
    pitch_day: PitchDay,
    stripe: LocalStripe,
    inbox: WebhookInbox,
) -> None:
    payment_id = await paid_ticket(pay_client, pitch_day, stripe, inbox)
    await official_client.sign_in(pitch_day.outsider_official.email, pitch_day.outsider_official.password)
    for url in (f"/payments/{payment_id}", f"/payments/{payment_id}/receipt", f"/payments/{payment_id}/pay"):
        assert (await official_client.get(url)).status_code == 404
    assert (await official_client.get(f"/challenges/{pitch_day.slug}/pitch-day/attendees")).status_code == 404
    refused = await official_client.post(f"/payments/{payment_id}/refund", {"amount_jpy": "100"})
    assert refused.status_code == 404
    assert (await payment_row(payment_id))["refunded_jpy"] == 0


async def test_the_payer_cannot_refund_their_own_payment(
    pay_client: WebClient, pitch_day: PitchDay, stripe: LocalStripe, inbox: WebhookInbox
) -> None:
    payment_id = await paid_ticket(pay_client, pitch_day, stripe, inbox)
    assert (await pay_client.post(f"/payments/{payment_id}/refund", {"amount_jpy": "100"})).status_code == 404
    assert await Refund.count().run() == 0


async def test_no_receipt_before_the_money_is_received(pay_client: WebClient, pitch_day: PitchDay) -> None:
    await pay_client.sign_in(pitch_day.attendee.email, pitch_day.attendee.password)
    payment_id = await buy_paid_ticket(pay_client, pitch_day.slug, pitch_day.paid_type)
    assert (await pay_client.get(f"/payments/{payment_id}/receipt")).status_code == 404


async def test_officials_check_people_in_once_and_unknown_codes_are_refused(
    pay_client: WebClient, official_client: WebClient, pitch_day: PitchDay
) -> None:
    await pay_client.sign_in(pitch_day.attendee.email, pitch_day.attendee.password)
    await pay_client.post(
        f"/challenges/{pitch_day.slug}/pitch-day/register", {"ticket_type": str(pitch_day.free_type)}
    )
    ticket = await Ticket.select().first().run()
    assert ticket is not None
    url = f"/challenges/{pitch_day.slug}/pitch-day/check-in"
    assert (await pay_client.post(url, {"code": ticket["code"]})).status_code == 404  # attendees cannot
    await official_client.sign_in(pitch_day.official.email, pitch_day.official.password)
    typed = ticket["code"].replace("-", "").lower()
    first = await official_client.post(url, {"code": typed})
    assert first.status_code == 200
    assert "Checked in" in first.text
    checked = await Ticket.select().first().run()
    assert checked is not None
    assert checked["checked_in_at"] is not None
    again = await official_client.post(url, {"code": ticket["code"]})
    assert again.status_code == 200
    assert (await Ticket.select().first().run())["checked_in_at"] == checked["checked_in_at"]  # type: ignore[index]
    unknown = await official_client.post(url, {"code": "ZZZZ-ZZZZ"})
    assert unknown.status_code == 422
    assert "No valid ticket has this code." in unknown.text


@pytest.mark.parametrize("who", ["anonymous", "attendee", "other_bureau"])
async def test_only_the_bureau_sets_up_the_pitch_day(
    pay_client: WebClient, pitch_day: PitchDay, who: str
) -> None:
    if who == "attendee":
        await pay_client.sign_in(pitch_day.attendee.email, pitch_day.attendee.password)
    elif who == "other_bureau":
        await pay_client.sign_in(pitch_day.outsider_official.email, pitch_day.outsider_official.password)
    before = await Payment.count().run()
    response = await pay_client.post(
        f"/challenges/{pitch_day.slug}/pitch-day/ticket-types",
        {"name_ja": "VIP", "price_jpy": "5000", "capacity": "5",
         "sales_open_at": "2026-01-01T10:00", "sales_close_at": "2026-12-31T10:00"},
    )  # fmt: skip
    assert response.status_code in {303, 404}
    assert response.status_code != 200
    if who != "anonymous":
        assert response.status_code == 404
    page = await pay_client.get(f"/challenges/{pitch_day.slug}/pitch-day")
    assert "Add a ticket type" not in page.text
    assert await Payment.count().run() == before


async def test_the_bureau_adds_a_ticket_type_and_bad_input_saves_nothing(
    official_client: WebClient, pitch_day: PitchDay
) -> None:
    from app.payments.tables import TicketType

    await official_client.sign_in(pitch_day.official.email, pitch_day.official.password)
    url = f"/challenges/{pitch_day.slug}/pitch-day/ticket-types"
    bad = await official_client.post(
        url,
        {"name_ja": "", "price_jpy": "-5", "capacity": "0",
         "sales_open_at": "2026-12-31T10:00", "sales_close_at": "2026-01-01T10:00"},
    )  # fmt: skip
    assert bad.status_code == 422
    for message in (
        "Enter the ticket&#39;s name.",
        "Enter a whole number.",
        "Sales must end after they start.",
    ):
        assert message in bad.text
    assert await TicketType.count().run() == 2
    good = await official_client.post(
        url,
        {"name_ja": "VIP", "price_jpy": "5,000", "capacity": "5",
         "sales_open_at": "2026-01-01T10:00", "sales_close_at": "2026-12-31T10:00"},
    )  # fmt: skip
    assert good.status_code == 303
    assert await TicketType.count().where(TicketType.price_jpy == 5000).run() == 1
