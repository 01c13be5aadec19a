"""The payment gateway interface the rest of the feature uses (Stripe is its one implementation)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class GatewayUnavailable(Exception):
    """The payment provider is not configured or could not be reached; nothing was charged."""


class CardDeclined(Exception):
    """The card issuer refused the card; the message is the provider's, shown to the payer."""


@dataclass(frozen=True)
class IntentState:
    """What the provider says about a one-off payment."""

    id: str
    status: str  # the provider's PaymentIntent status
    amount_jpy: int
    client_secret: str = ""
    refunded_jpy: int = 0
    error: str = ""


@dataclass(frozen=True)
class SubscriptionState:
    """What the provider says about a monthly subscription."""

    id: str
    status: str
    customer: str


@dataclass(frozen=True)
class RefundState:
    """A refund the provider made."""

    id: str
    status: str
    amount_jpy: int


class PaymentGateway(Protocol):
    """Create, confirm, look up, refund and cancel payments; idempotency keys come from local ids."""

    async def create_intent(
        self, *, payment_id: int, amount_jpy: int, metadata: Mapping[str, str]
    ) -> IntentState:
        """Create a PaymentIntent in JPY for the local payment `payment_id`."""
        ...

    async def pay_with_card(
        self, *, payment_id: int, intent_id: str, card_token: str, email: str
    ) -> IntentState:
        """Attach the tokenized card to a customer and confirm the PaymentIntent (CardDeclined on refusal)."""
        ...

    async def retrieve_intent(self, intent_id: str) -> IntentState:
        """The PaymentIntent as the provider has it now."""
        ...

    async def refund(self, *, refund_id: int, intent_id: str, amount_jpy: int) -> RefundState:
        """Refund part or all of a payment (the idempotency key is the local refund's id)."""
        ...

    async def subscribe_monthly(
        self, *, payment_id: int, amount_jpy: int, card_token: str, email: str, product_name: str
    ) -> SubscriptionState:
        """Start a monthly subscription of `amount_jpy` (a Plan, as Prices are not used)."""
        ...

    async def cancel_subscription(self, subscription_id: str) -> SubscriptionState:
        """Cancel a subscription now."""
        ...

    async def retrieve_subscription(self, subscription_id: str) -> SubscriptionState:
        """The subscription as the provider has it now."""
        ...

    async def close(self) -> None:
        """Release network resources."""
        ...
