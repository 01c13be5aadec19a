"""A pitch-day ticket bought in Chromium with localstripe's fake Stripe.js and the card 4242 4242 4242 4242.

The app runs under uvicorn with STRIPE_API_BASE pointing at localstripe, which serves the fake Stripe.js
(loaded from that host only: the card page's CSP names it) and delivers its signed webhook to the live
server itself. The card page tokenizes the card with Stripe.js, the server confirms the PaymentIntent, the
status page polls "processing" until the webhook arrives, and then shows the ticket code.

localstripe's fake `confirmCardPayment` only completes 3-D Secure for an intent that already has a card, so
the page always tokenizes first (`createToken`) and calls `confirmCardPayment` only when Stripe asks.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from app.clock import utcnow
from app.database.engines import engine_from_url
from app.database.registry import current_engine, use_engine
from app.database.sqlite import KyosoSQLiteEngine
from app.payments.tables import Payment, PitchEvent, Ticket, TicketType
from tests.challenges.factories import make_challenge
from tests.e2e.conftest import BrowserLog
from tests.e2e.test_judging_in_browser import assert_clean, new_page, sign_in
from tests.support.live_server import LiveServer, start_live_server
from tests.support.people import Person, make_bureau, make_user
from tests.support.stripe import PUBLISHABLE_KEY, SECRET_KEY, WEBHOOK_SECRET, LocalStripe, run_localstripe

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stripe_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    """localstripe for this module."""
    folder = tmp_path_factory.mktemp("localstripe")
    with run_localstripe(folder / "store.pickle", folder / "log") as server:
        yield server


@pytest.fixture(scope="module")
def paying_server(
    tmp_path_factory: pytest.TempPathFactory, stripe_server: LocalStripe
) -> Iterator[LiveServer]:
    """The app under uvicorn configured for localstripe, which sends its webhooks to it."""
    keys = {
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": stripe_server.base_url,
    }
    saved = {name: os.environ.get(name) for name in keys}
    os.environ.update(keys)
    try:
        with start_live_server(tmp_path_factory.mktemp("paying-server"), on_postgres_url=None) as server:
            stripe_server.register_webhook(server.url("/payments/stripe/webhook"))
            yield server
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass(frozen=True)
class Event:
    """A pitch day with a ¥1,000 ticket and a visitor."""

    slug: str
    attendee: Person


@pytest.fixture
async def event(paying_server: LiveServer) -> AsyncIterator[Event]:
    """Rows written straight into the live server's database."""
    previous = current_engine()
    engine = engine_from_url(paying_server.database_url)
    use_engine(engine)
    try:
        run = secrets.token_hex(3)
        now = utcnow()
        bureau = await make_bureau(f"digital-{run}")
        official = await make_user(f"official-{run}@city.example.jp", role="official", bureau_id=bureau)
        attendee = await make_user(f"visitor-{run}@example.com")
        slug = f"pitch-{run}"
        challenge = await make_challenge(bureau_id=bureau, author_id=official.id, slug=slug, now=now)
        rows = await PitchEvent.insert(
            PitchEvent(
                challenge=challenge,
                starts_at=now + timedelta(days=7),
                venue="都庁",
                created_by=official.id,
                created_at=now,
            )
        ).run()
        await TicketType.insert(
            TicketType(event=rows[0]["id"], name_ja="懇親会付き", name_en="With reception", price_jpy=1000,
                       capacity=10, sales_open_at=now - timedelta(days=1),
                       sales_close_at=now + timedelta(days=6))
        ).run()  # fmt: skip
        yield Event(slug, attendee)
    finally:
        if isinstance(engine, KyosoSQLiteEngine):
            await engine.close_idle_connections()
        use_engine(previous)


async def test_buy_a_ticket_with_the_fake_stripe_js(
    browser: Browser, paying_server: LiveServer, stripe_server: LocalStripe, event: Event, artifacts_dir: Path
) -> None:
    log = BrowserLog()
    async with new_page(browser, paying_server, log) as page:
        path = f"/challenges/{event.slug}/pitch-day"
        await sign_in(page, event.attendee, path)
        await page.locator('form[action$="/pitch-day/register"] button[type="submit"]').click()
        await page.wait_for_url("**/payments/*/pay")
        csp = (await page.request.get(page.url)).headers["content-security-policy"]
        assert stripe_server.base_url in csp
        card = page.locator("#card-element")
        await card.locator('input[placeholder="number"]').fill("4242424242424242")
        await card.locator('input[placeholder="exp_month"]').fill("12")
        await card.locator('input[placeholder="exp_year"]').fill("34")
        await card.locator('input[placeholder="cvc"]').fill("123")
        await card.locator('input[placeholder="postal_code"]').fill("16380")
        await page.locator("#card-submit").click()
        await page.wait_for_url(re.compile(r"/payments/\d+$"))
        # "processing" until localstripe's webhook reaches the server, then the poll swaps in the result.
        await expect(page.locator('[data-status="succeeded"]')).to_be_visible(timeout=20_000)
        code = (await page.locator("#ticket-code").inner_text()).strip()
        await page.screenshot(path=artifacts_dir / "payments-ticket.png", full_page=True)
        await assert_clean(page, log)

    previous = current_engine()
    engine = engine_from_url(paying_server.database_url)
    use_engine(engine)
    try:
        ticket = await Ticket.select().where(Ticket.code == code).first().run()
        assert ticket is not None
        assert ticket["status"] == "valid"
        payment = await Payment.select().where(Payment.id == ticket["payment"]).first().run()
        assert payment is not None
        assert payment["status"] == "succeeded"
        assert payment["collected_jpy"] == 1000
    finally:
        if isinstance(engine, KyosoSQLiteEngine):
            await engine.close_idle_connections()
        use_engine(previous)
