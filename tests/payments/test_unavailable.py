"""Stripe not configured (paid features say unavailable) or unreachable (clear message, no stuck state)."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from app.asgi import create_app
from app.payments.tables import Payment, Ticket
from app.settings import Settings
from tests.payments.conftest import PitchDay, fresh_client
from tests.payments.flows import buy_paid_ticket, payment_row
from tests.support.client import WebClient


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connection refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def unreachable_app(stripe_settings: Settings) -> Litestar:
    """The app configured for a Stripe that does not answer."""
    return create_app(
        dataclasses.replace(stripe_settings, stripe_api_base=f"http://127.0.0.1:{closed_port()}")
    )


@pytest.fixture
async def unreachable_client(unreachable_app: Litestar, database: Engine) -> AsyncIterator[WebClient]:  # type: ignore[type-arg]
    """A client of that app."""
    async for web in fresh_client(unreachable_app):
        yield web


@pytest.fixture
async def unconfigured_client(app: Litestar, database: Engine) -> AsyncIterator[WebClient]:  # type: ignore[type-arg]
    """A client of the app without any Stripe settings."""
    async for web in fresh_client(app):
        yield web


async def test_without_stripe_paid_tickets_are_shown_unavailable_and_free_ones_work(
    unconfigured_client: WebClient, pitch_day: PitchDay
) -> None:
    page = await unconfigured_client.get(f"/challenges/{pitch_day.slug}/pitch-day")
    assert page.status_code == 200
    assert "Card payments are unavailable at the moment." in page.text
    await unconfigured_client.sign_in(pitch_day.attendee.email, pitch_day.attendee.password)
    url = f"/challenges/{pitch_day.slug}/pitch-day/register"
    paid = await unconfigured_client.post(url, {"ticket_type": str(pitch_day.paid_type)})
    assert paid.status_code == 422
    assert "Card payments are unavailable at the moment." in paid.text
    assert await Payment.count().run() == 0
    assert await Ticket.count().run() == 0
    free = await unconfigured_client.post(url, {"ticket_type": str(pitch_day.free_type)})
    assert free.status_code == 303


async def test_when_stripe_is_unreachable_the_payment_is_closed_and_the_seat_released(
    unreachable_client: WebClient, pitch_day: PitchDay
) -> None:
    await unreachable_client.sign_in(pitch_day.attendee.email, pitch_day.attendee.password)
    response = await unreachable_client.post(
        f"/challenges/{pitch_day.slug}/pitch-day/register", {"ticket_type": str(pitch_day.paid_type)}
    )
    assert response.status_code == 422
    assert (
        "The card payment service could not be reached. Nothing was charged; try again later."
        in response.text
    )
    payment = await Payment.select().first().run()
    assert payment is not None
    assert payment["status"] == "failed"
    assert payment["stripe_intent"] is None
    ticket = await Ticket.select().first().run()
    assert ticket is not None
    assert ticket["status"] == "cancelled"
    # The page shows all seats free again.
    page = await unreachable_client.get(f"/challenges/{pitch_day.slug}/pitch-day")
    assert "50 / 50" in page.text


async def test_when_stripe_goes_away_during_card_entry_the_payment_keeps_its_state(
    pay_client: WebClient, unreachable_app: Litestar, pitch_day: PitchDay
) -> None:
    await pay_client.sign_in(pitch_day.attendee.email, pitch_day.attendee.password)
    payment_id = await buy_paid_ticket(pay_client, pitch_day.slug, pitch_day.paid_type)
    async for other in fresh_client(unreachable_app):
        await other.sign_in(pitch_day.attendee.email, pitch_day.attendee.password)
        response = await other.post(
            f"/payments/{payment_id}/card", {"token": "tok_abc"}, headers={"Accept": "application/json"}
        )
        assert response.status_code == 422
        assert response.json() == {
            "error": "The card payment service could not be reached. Try again in a moment."
        }
    row = await payment_row(payment_id)
    assert row["status"] == "created"
    assert row["stripe_intent"]
