"""The receipt mail: queued with the success in the webhook's transaction, once per payment, really sent."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from email.message import EmailMessage

import pytest

from app.accounts.tables import User
from app.clock import utcnow
from app.notifications.delivery import deliver_due
from app.notifications.messages import KINDS, render_message
from app.notifications.tables import Notification
from app.payments import effects
from app.payments.tables import StripeEvent
from app.settings import Settings
from tests.payments.conftest import PitchDay
from tests.payments.events import event, intent_object, signed
from tests.payments.flows import buy_paid_ticket, deliver, intent_of, pay, payment_row, wait_for
from tests.support.client import WebClient
from tests.support.smtp import SmtpServer
from tests.support.stripe import LocalStripe, WebhookInbox


async def receipts() -> list[dict[str, object]]:
    """Every queued receipt message."""
    return list(
        await Notification.select()
        .where(Notification.kind == "payment_receipt")
        .order_by(Notification.id)
        .run()
    )


async def registered(client: WebClient, pitch_day: PitchDay) -> tuple[int, str]:
    """The attendee holds an unpaid paid ticket: its payment id and PaymentIntent id."""
    await client.sign_in(pitch_day.attendee.email, pitch_day.attendee.password)
    payment_id = await buy_paid_ticket(client, pitch_day.slug, pitch_day.paid_type)
    return payment_id, await intent_of(payment_id)


def text_of(message: EmailMessage, subtype: str) -> str:
    """The text/<subtype> part's content."""
    part = message.get_body(preferencelist=(subtype,))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


def test_the_receipt_is_a_required_message() -> None:
    assert KINDS["payment_receipt"].required


async def test_a_paid_ticket_sends_one_receipt_mail_with_the_receipt_link(
    pay_client: WebClient,
    pitch_day: PitchDay,
    stripe: LocalStripe,
    inbox: WebhookInbox,
    stripe_settings: Settings,
    smtp_server: SmtpServer,
) -> None:
    payment_id, intent = await registered(pay_client, pitch_day)
    await User.update({User.locale: "en"}).where(User.id == pitch_day.attendee.id).run()
    assert (await pay(pay_client, stripe, payment_id, "4242424242424242")).status_code == 200
    assert await receipts() == []  # the redirect proves nothing: no receipt before the webhook

    delivery = await wait_for(inbox, "payment_intent.succeeded", intent)
    outcomes = [(await deliver(pay_client, delivery)).json()["outcome"] for _ in range(3)]
    assert outcomes == ["applied", "duplicate", "duplicate"]
    # Another event reporting the same success (Stripe may send one again with a new id): still one mail.
    again = signed(event("payment_intent.succeeded", intent_object(intent, 1000)))
    assert (await deliver(pay_client, again)).json()["outcome"] == "applied"

    [row] = await receipts()
    assert row["user"] == pitch_day.attendee.id
    assert row["dedupe_key"] == f"payment_receipt:{payment_id}"
    assert row["link"] == f"/payments/{payment_id}/receipt"
    context = json.loads(str(row["context"]))
    assert context["amount_jpy"] == 1000
    assert context["tax_jpy"] == 90
    assert context["receipt_number"] == f"KY-PAY-{payment_id:06d}"

    mail_settings = dataclasses.replace(stripe_settings, smtp_url=smtp_server.url)
    report = await deliver_due(mail_settings, utcnow())
    assert report.sent == 1
    assert (await deliver_due(mail_settings, utcnow())).handled == 0
    [received] = smtp_server.to(pitch_day.attendee.email)
    assert len(smtp_server.messages) == 1
    message = received.message
    assert message["Subject"] == f"Payment receipt: KY-PAY-{payment_id:06d}"
    text = text_of(message, "plain")
    assert f"http://testserver/payments/{payment_id}/receipt" in text
    assert "¥1,000" in text
    assert "¥90" in text
    assert "Pitch-day ticket" in text
    html = text_of(message, "html")
    assert f'href="http://testserver/payments/{payment_id}/receipt"' in html
    assert "領収書" in html
    # A required message: no way to unsubscribe from receipts.
    assert message["List-Unsubscribe"] is None

    # The link in the mail opens the payer's receipt.
    page = await pay_client.get(f"/payments/{payment_id}/receipt")
    assert page.status_code == 200
    assert f"KY-PAY-{payment_id:06d}" in page.text


async def test_ten_concurrent_deliveries_queue_one_receipt(
    pay_client: WebClient, pitch_day: PitchDay
) -> None:
    payment_id, intent = await registered(pay_client, pitch_day)
    delivery = signed(event("payment_intent.succeeded", intent_object(intent, 1000)))
    responses = await asyncio.gather(*(deliver(pay_client, delivery) for _ in range(10)))
    assert sorted(r.json()["outcome"] for r in responses) == ["applied"] + ["duplicate"] * 9
    assert len(await receipts()) == 1
    assert (await payment_row(payment_id))["status"] == "succeeded"


async def test_a_failed_payment_sends_no_receipt(pay_client: WebClient, pitch_day: PitchDay) -> None:
    payment_id, intent = await registered(pay_client, pitch_day)
    failed = intent_object(
        intent, 1000, status="requires_payment_method", last_payment_error={"message": "declined"}
    )
    assert (await deliver(pay_client, signed(event("payment_intent.payment_failed", failed)))).json()[
        "outcome"
    ] == "applied"
    assert (await payment_row(payment_id))["status"] == "failed"
    assert await receipts() == []


async def test_an_effect_that_fails_after_queueing_rolls_the_receipt_back(
    pay_client: WebClient, pitch_day: PitchDay, monkeypatch: pytest.MonkeyPatch
) -> None:
    payment_id, intent = await registered(pay_client, pitch_day)
    original = effects.queue_receipt

    async def queue_then_fail(paid_id: int, now: object) -> int:
        await original(paid_id, now)  # type: ignore[arg-type]
        raise RuntimeError("the database went away after the receipt was queued")

    monkeypatch.setattr(effects, "queue_receipt", queue_then_fail)
    delivery = signed(event("payment_intent.succeeded", intent_object(intent, 1000)))
    assert (await deliver(pay_client, delivery)).status_code == 500  # Stripe retries a 5xx
    assert await receipts() == []
    assert await StripeEvent.count().run() == 0
    assert (await payment_row(payment_id))["status"] == "created"

    monkeypatch.setattr(effects, "queue_receipt", original)
    assert (await deliver(pay_client, delivery)).json()["outcome"] == "applied"  # Stripe's retry
    assert len(await receipts()) == 1


# (The Japanese wording comes from the compiled catalogue; the amounts and titles follow the locale.)
@pytest.mark.parametrize(("locale", "amount"), [("ja", "1,000円"), ("en", "¥1,000")])
def test_the_receipt_renders_in_both_languages_for_every_purpose(locale: str, amount: str) -> None:
    base = {
        "receipt_number": "KY-PAY-000042",
        "amount_jpy": 1000,
        "tax_jpy": 90,
        "paid_on": "2026-11-28",
        "monthly": False,
        "output_name": "",
        "base_url": "https://kyoso.example",
        "link": "/payments/42/receipt",
        "unsubscribe_url": "",
    }
    challenge = {"title_ja": "スマートシティ", "title_en": "Smart city"}
    title = "スマートシティ" if locale == "ja" else "Smart city"
    for purpose, context, shown in (
        ("ticket", challenge, title),
        ("entry_fee", challenge, title),
        ("sponsorship", {"output_name": "防災マップ", "monthly": True}, "防災マップ"),
    ):
        rendered = render_message("payment_receipt", {**base, "purpose": purpose, **context}, locale)
        assert "KY-PAY-000042" in rendered.subject
        assert amount in rendered.text
        assert shown in rendered.text
        assert shown in rendered.html
        assert "https://kyoso.example/payments/42/receipt" in rendered.text
        assert "{{" not in rendered.text + rendered.html
