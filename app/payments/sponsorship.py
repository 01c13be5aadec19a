"""Sponsoring a catalogue output: one-off (a PaymentIntent) or monthly (a Subscription on a Plan)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar.exceptions import NotFoundException

from app.accounts.viewer import Viewer
from app.catalog.tables import Output
from app.payments import policies
from app.payments.forms import whole_number_field
from app.payments.gateway import CardDeclined, GatewayUnavailable, PaymentGateway
from app.payments.intents import start_intent
from app.payments.records import visible_payment
from app.payments.states import PaymentStatus
from app.payments.tables import Payment
from app.validation import InvalidInput
from app.web.i18n import gettext as _

MIN_JPY = 100
MAX_JPY = 10_000_000
COUNTED = ("succeeded", "active", "partially_refunded", "refunded", "canceled")


async def published_output(slug: str) -> dict[str, Any]:
    """A published catalogue entry (404 otherwise)."""
    row: dict[str, Any] | None = await (
        Output.select(Output.id, Output.slug, Output.name)
        .where((Output.slug == slug) & (Output.status == "published"))
        .first()
        .run()
    )
    if row is None:
        raise NotFoundException
    return row


async def total_raised(output_id: int) -> int:
    """Yen received for an output's maintenance, less refunds (one query)."""
    rows = await (
        Payment.select(Payment.collected_jpy, Payment.refunded_jpy)
        .where(
            (Payment.output == output_id)
            & (Payment.purpose == "sponsorship")
            & Payment.status.is_in(list(COUNTED))
        )
        .run()
    )
    return sum(row["collected_jpy"] - row["refunded_jpy"] for row in rows)


async def sponsors(output_id: int) -> list[dict[str, Any]]:
    """Named sponsors of an output, newest first."""
    rows: list[dict[str, Any]] = await (
        Payment.select(Payment.sponsor_name, Payment.monthly, Payment.status)
        .where(
            (Payment.output == output_id)
            & (Payment.purpose == "sponsorship")
            & Payment.status.is_in(["succeeded", "active", "partially_refunded"])
            & (Payment.sponsor_name != "")
        )
        .order_by(Payment.id, ascending=False)
        .limit(50)
        .run()
    )
    return rows


def parse_sponsorship(values: dict[str, str]) -> tuple[int, bool, str, dict[str, str]]:
    """Amount, whether monthly, the name to show, and errors per field."""
    errors: dict[str, str] = {}
    amount = whole_number_field(values, "amount_jpy", MIN_JPY, MAX_JPY, errors)
    monthly = values.get("frequency") == "monthly"
    if values.get("frequency") not in {"once", "monthly"}:
        errors["frequency"] = _("Choose one-off or monthly.")
    name = values.get("sponsor_name", "")
    if len(name) > 200:
        errors["sponsor_name"] = _("Use at most 200 characters.")
    return amount, monthly, name, errors


async def start_sponsorship(
    user: Viewer | None, slug: str, values: dict[str, str], gateway: PaymentGateway | None, *, now: datetime
) -> int:
    """Create a sponsorship payment; a one-off one gets its PaymentIntent now; returns the payment id.

    A monthly one is subscribed once the card is entered (`subscribe_with_card`).

    Raises:
        NotFoundException: no published output with this address.
        InvalidInput: amount, frequency or name invalid; payments unavailable; Stripe unreachable.
    """
    output = await published_output(slug)
    if user is None or not policies.can_sponsor(user):
        raise NotFoundException
    amount, monthly, name, errors = parse_sponsorship(values)
    if errors:
        raise InvalidInput(errors)
    if gateway is None:
        raise InvalidInput({"amount_jpy": _("Card payments are unavailable at the moment.")})
    rows = await Payment.insert(
        Payment(
            purpose="sponsorship",
            payer=user.id,
            amount_jpy=amount,
            output=output["id"],
            monthly=monthly,
            sponsor_name=name,
            created_at=now,
            updated_at=now,
        )
    ).run()
    payment_id = int(rows[0]["id"])
    if not monthly:
        await start_intent(payment_id, amount, {"kyoso_output": str(output["id"])}, gateway, now)
    return payment_id


async def subscribe_with_card(
    user: Viewer | None, payment_id: int, card_token: str, gateway: PaymentGateway, *, now: datetime
) -> str:
    """Start the monthly subscription with the card; invoice.paid then counts each month.

    Raises:
        NotFoundException: not the payer's monthly sponsorship, or already started.
        InvalidInput: the card was declined or Stripe could not be reached (the payment stays retryable).
    """
    row, facts = await visible_payment(user, payment_id)
    if user is None or not row["monthly"] or row["stripe_subscription"] or not policies.can_pay(user, facts):
        raise NotFoundException
    try:
        subscription = await gateway.subscribe_monthly(
            payment_id=payment_id,
            amount_jpy=row["amount_jpy"],
            card_token=card_token.strip(),
            email=user.email,
            product_name=f"Kyoso sponsorship: {row['output.name']}"[:200],
        )
    except CardDeclined as declined:
        await (
            Payment.update({Payment.status: "failed", Payment.last_error: str(declined)[:500]})
            .where(Payment.id == payment_id)
            .run()
        )
        raise InvalidInput(
            {"card": _("Your card was declined. Nothing was charged; try another card.")}
        ) from declined
    except GatewayUnavailable as error:
        raise InvalidInput(
            {"card": _("The card payment service could not be reached. Try again in a moment.")}
        ) from error
    await (
        Payment.update(
            {
                Payment.stripe_subscription: subscription.id,
                Payment.stripe_customer: subscription.customer,
                Payment.status: PaymentStatus.PROCESSING.value,
                Payment.updated_at: now,
            }
        )
        .where((Payment.id == payment_id) & Payment.status.is_in(["created", "failed"]))
        .run()
    )
    return subscription.id


async def cancel_sponsorship(user: Viewer | None, payment_id: int, gateway: PaymentGateway) -> None:
    """Stop a monthly sponsorship at Stripe; the webhook records the end.

    Raises:
        NotFoundException: the user may not cancel it.
        InvalidInput: Stripe could not be reached (nothing changed).
    """
    row, facts = await visible_payment(user, payment_id)
    if not policies.can_cancel_sponsorship(user, facts) or not row["stripe_subscription"]:
        raise NotFoundException
    try:
        await gateway.cancel_subscription(row["stripe_subscription"])
    except (GatewayUnavailable, CardDeclined) as error:
        raise InvalidInput(
            {"payment": _("The card payment service could not be reached. Nothing was changed.")}
        ) from error
