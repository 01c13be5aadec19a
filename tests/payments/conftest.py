"""Fixtures of payment tests: localstripe on 127.0.0.1, a webhook inbox, an app configured for Stripe."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from litestar import Litestar
from piccolo.engine.base import Engine

from app.accounts.viewer import forget_viewer
from app.asgi import create_app
from app.clock import utcnow
from app.payments.tables import PitchEvent, TicketType
from app.settings import Settings
from tests.challenges.factories import make_challenge
from tests.support.client import WebClient
from tests.support.people import Person, make_bureau, make_user
from tests.support.stripe import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    LocalStripe,
    WebhookInbox,
    run_localstripe,
)


@pytest.fixture(scope="session")
def localstripe(session_dir: Path) -> Iterator[LocalStripe]:
    """One localstripe for the run (its store in this run's folder), emptied before each test."""
    with run_localstripe(session_dir / "localstripe.pickle", session_dir / "localstripe.log") as server:
        yield server


@pytest.fixture(scope="session")
def inbox() -> Iterator[WebhookInbox]:
    """Where localstripe sends its signed webhooks."""
    receiver = WebhookInbox()
    yield receiver
    receiver.close()


@pytest.fixture
def stripe(localstripe: LocalStripe, inbox: WebhookInbox) -> LocalStripe:
    """localstripe with no objects, sending webhooks to the inbox."""
    localstripe.flush()
    localstripe.register_webhook(inbox.url)
    inbox.clear()
    return localstripe


@pytest.fixture(scope="session")
def stripe_settings(settings: Settings, localstripe: LocalStripe) -> Settings:
    """The test settings with Stripe pointed at localstripe."""
    return dataclasses.replace(
        settings,
        stripe_secret_key=SECRET_KEY,
        stripe_publishable_key=PUBLISHABLE_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=localstripe.base_url,
    )


@pytest.fixture(scope="session")
def pay_app(stripe_settings: Settings) -> Litestar:
    """The app configured for Stripe."""
    return create_app(stripe_settings)


async def fresh_client(app: Litestar) -> AsyncIterator[WebClient]:
    """A client with emptied stores (like the `client` fixture) for `app`."""
    forget_viewer()
    for name in ("sessions", "rate_limit"):
        with contextlib.suppress(FileNotFoundError):
            await app.stores.get(name).delete_all()
    async with WebClient.for_app(app) as web:
        web.http.cookies.set("locale", "en")
        yield web


@pytest.fixture
async def pay_client(pay_app: Litestar, database: Engine, stripe: LocalStripe) -> AsyncIterator[WebClient]:  # type: ignore[type-arg]
    """A browser-like client of the Stripe-configured app (English pages)."""
    async for web in fresh_client(pay_app):
        yield web


@pytest.fixture
async def official_client(pay_app: Litestar, pay_client: WebClient) -> AsyncIterator[WebClient]:
    """A second visitor (the official) on the same app and database."""
    async with WebClient.for_app(pay_app) as web:
        web.http.cookies.set("locale", "en")
        yield web


@pytest.fixture
async def other_pay_client(pay_app: Litestar, pay_client: WebClient) -> AsyncIterator[WebClient]:
    """Another visitor of the Stripe-configured app."""
    async with WebClient.for_app(pay_app) as web:
        web.http.cookies.set("locale", "en")
        yield web


@dataclass(frozen=True)
class PitchDay:
    """A published challenge with a pitch day, a free and a paid ticket type, and the people around it."""

    slug: str
    challenge_id: int
    bureau_id: int
    event_id: int
    free_type: int
    paid_type: int
    official: Person
    attendee: Person
    outsider_official: Person


async def make_pitch_day(now: datetime, *, paid_price: int = 1000, capacity: int = 50) -> PitchDay:
    """The world most payment tests start from."""
    bureau_id = await make_bureau("digital")
    other_bureau = await make_bureau("housing")
    official = await make_user("official@city.example.jp", role="official", bureau_id=bureau_id)
    outsider = await make_user("other@city.example.jp", role="official", bureau_id=other_bureau)
    attendee = await make_user("visitor@example.com")
    challenge_id = await make_challenge(
        bureau_id=bureau_id,
        author_id=official.id,
        slug="smart-city",
        now=now,
        pitch_at=now + timedelta(days=20),
    )
    rows = await PitchEvent.insert(
        PitchEvent(
            challenge=challenge_id,
            starts_at=now + timedelta(days=20),
            venue="都庁第一本庁舎",
            created_by=official.id,
            created_at=now,
        )
    ).run()
    event_id = int(rows[0]["id"])
    window = {"sales_open_at": now - timedelta(days=1), "sales_close_at": now + timedelta(days=19)}
    free = await TicketType.insert(
        TicketType(
            event=event_id,
            name_ja="一般（無料）",
            name_en="General (free)",
            price_jpy=0,
            capacity=capacity,
            **window,
        )
    ).run()
    paid = await TicketType.insert(
        TicketType(
            event=event_id,
            name_ja="懇親会付き",
            name_en="With reception",
            price_jpy=paid_price,
            capacity=capacity,
            **window,
        )
    ).run()
    return PitchDay(
        "smart-city",
        challenge_id,
        bureau_id,
        event_id,
        int(free[0]["id"]),
        int(paid[0]["id"]),
        official,
        attendee,
        outsider,
    )


@pytest.fixture
async def pitch_day(database: Engine) -> PitchDay:  # type: ignore[type-arg]
    """A pitch day open for registration now."""
    return await make_pitch_day(utcnow())
