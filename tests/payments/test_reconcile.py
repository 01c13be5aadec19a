"""`python -m app reconcile-payments`: payments compared with Stripe (localstripe), fixed or reported."""

from __future__ import annotations

import argparse
from datetime import timedelta

import pytest

from app import cli
from app.clock import utcnow
from app.payments.tables import Payment, Ticket
from tests.payments.conftest import PitchDay
from tests.payments.flows import buy_paid_ticket, intent_of, pay, payment_row
from tests.support.client import WebClient
from tests.support.stripe import PUBLISHABLE_KEY, SECRET_KEY, WEBHOOK_SECRET, LocalStripe


@pytest.fixture
def stripe_env(monkeypatch: pytest.MonkeyPatch, stripe: LocalStripe) -> None:
    """The command reads Stripe's settings from the environment, as in production."""
    monkeypatch.setenv("STRIPE_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", PUBLISHABLE_KEY)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("STRIPE_API_BASE", stripe.base_url)


async def test_missed_webhooks_and_dashboard_refunds_are_fixed_and_the_rest_reported(
    pay_client: WebClient,
    pitch_day: PitchDay,
    stripe: LocalStripe,
    stripe_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await pay_client.sign_in(pitch_day.attendee.email, pitch_day.attendee.password)
    # 1. Paid at Stripe, but the webhook never arrived.
    missed = await buy_paid_ticket(pay_client, pitch_day.slug, pitch_day.paid_type)
    assert (await pay(pay_client, stripe, missed, "4242424242424242")).status_code == 200
    # 2. Paid, and then refunded in Stripe's dashboard.
    refunded = await buy_paid_ticket(pay_client, pitch_day.slug, pitch_day.paid_type)
    assert (await pay(pay_client, stripe, refunded, "4242424242424242")).status_code == 200
    await Payment.update({Payment.status: "succeeded"}).where(Payment.id == refunded).run()
    stripe.post("/v1/refunds", {"payment_intent": await intent_of(refunded), "amount": "250"})
    # 3. "Paid" here, though nobody paid at Stripe: a person must look.
    wrong = await buy_paid_ticket(pay_client, pitch_day.slug, pitch_day.paid_type)
    await Payment.update({Payment.status: "succeeded"}).where(Payment.id == wrong).run()
    # 4. Never reached Stripe, long ago.
    await Payment.insert(
        Payment(purpose="ticket", payer=pitch_day.attendee.id, amount_jpy=1000,
                created_at=utcnow() - timedelta(hours=2), updated_at=utcnow() - timedelta(hours=2))
    ).run()  # fmt: skip

    status = await cli.reconcile_payments(argparse.Namespace())
    out = capsys.readouterr().out
    assert status == 1
    assert f"fixed: payment {missed}: processing → succeeded" in out
    assert f"fixed: payment {refunded}: refunded ¥250" in out
    assert f"unresolved: payment {wrong}: paid here but Stripe says requires_payment_method" in out
    assert "never reached Stripe → failed" in out
    assert (await payment_row(missed))["status"] == "succeeded"
    ticket = await Ticket.select().where(Ticket.payment == missed).first().run()
    assert ticket is not None
    assert ticket["status"] == "valid"
    row = await payment_row(refunded)
    assert row["status"] == "partially_refunded"
    assert row["refunded_jpy"] == 250

    # A second run finds only what a person must resolve.
    assert await cli.reconcile_payments(argparse.Namespace()) == 1
    again = capsys.readouterr().out
    assert "fixed:" not in again
    assert f"unresolved: payment {wrong}" in again


async def test_without_stripe_settings_the_command_says_so(
    database: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert await cli.reconcile_payments(argparse.Namespace()) == 2
    assert "Stripe is not available" in capsys.readouterr().err
