"""Paying a payment with a card tokenized by Stripe.js; the outcome is learned from the webhook."""

from __future__ import annotations

from datetime import datetime

from litestar.exceptions import NotFoundException

from app.accounts.viewer import Viewer
from app.payments import policies
from app.payments.gateway import CardDeclined, GatewayUnavailable, IntentState, PaymentGateway
from app.payments.records import visible_payment
from app.payments.states import PaymentStatus
from app.payments.tables import Payment
from app.validation import InvalidInput
from app.web.i18n import gettext as _

MAX_TOKEN_LENGTH = 100


async def pay_with_card(
    user: Viewer | None, payment_id: int, card_token: str, gateway: PaymentGateway, *, now: datetime
) -> IntentState:
    """Confirm the payment's PaymentIntent with the card; success itself waits for the webhook.

    A declined card is recorded (failed, with Stripe's message) and may be replaced by another card.

    Raises:
        NotFoundException: not the payer's payment, or nothing is left to pay.
        InvalidInput: no card token, the card was declined, or Stripe could not be reached.
    """
    row, facts = await visible_payment(user, payment_id)
    if not policies.can_pay(user, facts) or user is None or not row["stripe_intent"]:
        raise NotFoundException
    token = card_token.strip()
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.replace("_", "").isalnum():
        raise InvalidInput({"card": _("Enter your card details.")})
    try:
        intent = await gateway.pay_with_card(
            payment_id=payment_id, intent_id=row["stripe_intent"], card_token=token, email=user.email
        )
    except CardDeclined as declined:
        await record_attempt(payment_id, PaymentStatus.FAILED, str(declined), now)
        raise InvalidInput(
            {"card": _("Your card was declined. Nothing was charged; try another card.")}
        ) from declined
    except GatewayUnavailable as error:
        # The state stays as it was: the next attempt (or the reconciliation) finds out what Stripe did.
        raise InvalidInput(
            {"card": _("The card payment service could not be reached. Try again in a moment.")}
        ) from error
    if intent.status == "requires_payment_method":
        await record_attempt(payment_id, PaymentStatus.FAILED, intent.error, now)
        raise InvalidInput({"card": _("Your card was declined. Nothing was charged; try another card.")})
    # Stripe said it is under way (or done); only the webhook makes it "succeeded" here.
    await record_attempt(payment_id, PaymentStatus.PROCESSING, "", now)
    return intent


async def record_attempt(payment_id: int, status: PaymentStatus, error: str, now: datetime) -> None:
    """Note an attempt's outcome without moving a state backwards (a webhook may have come first)."""
    allowed_from = {"created", "processing", "failed"}
    await (
        Payment.update(
            {Payment.status: status.value, Payment.last_error: error[:500], Payment.updated_at: now}
        )
        .where((Payment.id == payment_id) & Payment.status.is_in(list(allowed_from)))
        .run()
    )
