"""The receipt page names the operator, its address and its invoice registration number from settings."""

from __future__ import annotations

import dataclasses

from litestar import Litestar

from app.asgi import create_app
from app.settings import DEFAULT_RECEIPT_OPERATOR, Settings
from tests.payments.conftest import PitchDay, fresh_client
from tests.payments.events import event, intent_object, signed
from tests.payments.flows import buy_paid_ticket, deliver, intent_of
from tests.support.client import WebClient
from tests.support.stripe import LocalStripe

OPERATOR = "東京都 デジタルサービス局（Kyoso 運営事務局）"
ADDRESS = "東京都新宿区西新宿二丁目8番1号"
REGISTRATION = "T8000020130001"


async def paid_receipt(client: WebClient, pitch_day: PitchDay) -> str:
    """The attendee's ticket paid (the success event signed here); the receipt page's HTML."""
    await client.sign_in(pitch_day.attendee.email, pitch_day.attendee.password)
    payment_id = await buy_paid_ticket(client, pitch_day.slug, pitch_day.paid_type)
    success = signed(event("payment_intent.succeeded", intent_object(await intent_of(payment_id), 1000)))
    assert (await deliver(client, success)).json()["outcome"] == "applied"
    page = await client.get(f"/payments/{payment_id}/receipt")
    assert page.status_code == 200
    return page.text


def test_settings_read_the_operator_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": "sqlite:///x.sqlite3",
            "SECRET_KEY": "k" * 40,
            "RECEIPT_OPERATOR_NAME": OPERATOR,
            "RECEIPT_OPERATOR_ADDRESS": ADDRESS,
            "RECEIPT_REGISTRATION_NUMBER": REGISTRATION,
        }
    )
    assert settings.receipt_operator_name == OPERATOR
    assert settings.receipt_operator_address == ADDRESS
    assert settings.receipt_registration_number == REGISTRATION


def test_the_operator_defaults_to_the_former_constant_and_nothing_else() -> None:
    settings = Settings.from_env({"DATABASE_URL": "sqlite:///x.sqlite3", "SECRET_KEY": "k" * 40})
    assert (
        settings.receipt_operator_name == DEFAULT_RECEIPT_OPERATOR == "Kyoso (Tokyo Metropolitan Government)"
    )
    assert settings.receipt_operator_address == ""
    assert settings.receipt_registration_number == ""


async def test_the_receipt_shows_the_configured_operator_address_and_registration_number(
    stripe_settings: Settings, pay_client: WebClient, pitch_day: PitchDay, stripe: LocalStripe
) -> None:
    configured: Litestar = create_app(
        dataclasses.replace(
            stripe_settings,
            receipt_operator_name=OPERATOR,
            receipt_operator_address=ADDRESS,
            receipt_registration_number=REGISTRATION,
        )
    )
    async for client in fresh_client(configured):
        text = await paid_receipt(client, pitch_day)
        assert OPERATOR in text
        assert DEFAULT_RECEIPT_OPERATOR not in text
        assert f'<dd class="receipt__address">{ADDRESS}</dd>' in text
        assert f'<dd class="receipt__registration">{REGISTRATION}</dd>' in text
        assert "Registration number (qualified invoice issuer)" in text


async def test_without_an_address_or_number_the_receipt_shows_the_default_operator_only(
    pay_client: WebClient, pitch_day: PitchDay, stripe: LocalStripe
) -> None:
    text = await paid_receipt(pay_client, pitch_day)
    assert DEFAULT_RECEIPT_OPERATOR in text
    assert "receipt__address" not in text
    assert "receipt__registration" not in text
