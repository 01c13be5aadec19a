"""The payment gateway on the official `stripe` SDK: StripeClient, async through its HTTPX client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stripe

from app.payments.gateway import (
    CardDeclined,
    GatewayUnavailable,
    IntentState,
    PaymentGateway,
    RefundState,
    SubscriptionState,
)
from app.settings import Settings

CURRENCY = "jpy"
TIMEOUT_SECONDS = 15


class StripeGateway:
    """PaymentGateway backed by Stripe (or localstripe when STRIPE_API_BASE points at it)."""

    def __init__(self, secret_key: str, api_base: str | None = None) -> None:
        base: Any = {"api": api_base.rstrip("/")} if api_base else None
        self._http = stripe.HTTPXClient(timeout=TIMEOUT_SECONDS)
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses=base,
            http_client=self._http,
            # Retries reuse the idempotency key, so a retried create never charges twice.
            max_network_retries=1,
        )

    async def create_intent(
        self, *, payment_id: int, amount_jpy: int, metadata: Mapping[str, str]
    ) -> IntentState:
        """Create a PaymentIntent in JPY (zero-decimal: amount is whole yen)."""
        intent = await self._call(
            self._client.v1.payment_intents.create_async(
                {"amount": amount_jpy, "currency": CURRENCY, "metadata": dict(metadata)},
                {"idempotency_key": f"kyoso-payment-{payment_id}-intent"},
            )
        )
        return intent_state(intent)

    async def pay_with_card(
        self, *, payment_id: int, intent_id: str, card_token: str, email: str
    ) -> IntentState:
        """Save the card on a new customer, then set it on the PaymentIntent and confirm."""
        key = f"kyoso-payment-{payment_id}-{card_token}"
        customer = await self._call(
            self._client.v1.customers.create_async({"email": email}, {"idempotency_key": key + "-customer"})
        )
        card = await self._call(
            self._client.v1.customers.payment_sources.create_async(
                customer["id"], {"source": card_token}, {"idempotency_key": key + "-card"}
            )
        )
        await self._call(
            self._client.v1.payment_intents.update_async(
                intent_id, {"payment_method": card["id"], "customer": customer["id"]}
            )
        )
        intent = await self._call(
            self._client.v1.payment_intents.confirm_async(
                intent_id, {}, {"idempotency_key": key + "-confirm"}
            )
        )
        return intent_state(intent)

    async def retrieve_intent(self, intent_id: str) -> IntentState:
        """The PaymentIntent with its latest charge's refunded amount."""
        intent = await self._call(self._client.v1.payment_intents.retrieve_async(intent_id))
        refunded = 0
        charge = intent.get("latest_charge")
        if isinstance(charge, str):
            charge = await self._call(self._client.v1.charges.retrieve_async(charge))
        if charge:
            refunded = int(charge.get("amount_refunded") or 0)
        return intent_state(intent, refunded)

    async def refund(self, *, refund_id: int, intent_id: str, amount_jpy: int) -> RefundState:
        """Refund `amount_jpy` of the PaymentIntent's charge."""
        refund = await self._call(
            self._client.v1.refunds.create_async(
                {"payment_intent": intent_id, "amount": amount_jpy},
                {"idempotency_key": f"kyoso-refund-{refund_id}"},
            )
        )
        return RefundState(id=refund["id"], status=str(refund["status"]), amount_jpy=int(refund["amount"]))

    async def subscribe_monthly(
        self, *, payment_id: int, amount_jpy: int, card_token: str, email: str, product_name: str
    ) -> SubscriptionState:
        """Customer with the card as default source, a monthly Plan, and the subscription on it."""
        key = f"kyoso-payment-{payment_id}"
        customer = await self._call(
            self._client.v1.customers.create_async(
                {"email": email, "source": card_token}, {"idempotency_key": key + "-customer"}
            )
        )
        product = await self._call(
            self._client.v1.products.create_async(
                {"name": product_name}, {"idempotency_key": key + "-product"}
            )
        )
        plan = await self._call(
            self._client.v1.plans.create_async(
                {"amount": amount_jpy, "currency": CURRENCY, "interval": "month", "product": product["id"]},
                {"idempotency_key": key + "-plan"},
            )
        )
        subscription = await self._call(
            self._client.v1.subscriptions.create_async(
                {
                    "customer": customer["id"],
                    "items": [{"plan": plan["id"]}],
                    "metadata": {"kyoso_payment": str(payment_id)},
                },
                {"idempotency_key": key + "-subscription"},
            )
        )
        return SubscriptionState(
            id=subscription["id"], status=str(subscription["status"]), customer=customer["id"]
        )

    async def cancel_subscription(self, subscription_id: str) -> SubscriptionState:
        """Cancel at once (no proration: the month already paid is kept)."""
        subscription = await self._call(self._client.v1.subscriptions.cancel_async(subscription_id))
        return SubscriptionState(
            id=subscription["id"], status=str(subscription["status"]), customer=str(subscription["customer"])
        )

    async def retrieve_subscription(self, subscription_id: str) -> SubscriptionState:
        """The subscription's status now."""
        subscription = await self._call(self._client.v1.subscriptions.retrieve_async(subscription_id))
        return SubscriptionState(
            id=subscription["id"], status=str(subscription["status"]), customer=str(subscription["customer"])
        )

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._http.close_async()  # type: ignore[no-untyped-call]  # the SDK leaves it untyped

    @staticmethod
    async def _call(request: Any) -> Any:
        """Await a Stripe request, turning its errors into the gateway's two kinds."""
        try:
            answer = await request
        except stripe.CardError as error:
            raise CardDeclined(error.user_message or str(error)) from error
        except stripe.InvalidRequestError as error:
            if (error.code or "") == "card_declined" or error.http_status == 402:
                raise CardDeclined(error.user_message or "Your card was declined.") from error
            raise GatewayUnavailable(str(error)) from error
        except stripe.StripeError as error:
            raise GatewayUnavailable(str(error)) from error
        # Plain dicts from here: StripeObject refuses dict methods such as get().
        return answer.to_dict() if hasattr(answer, "to_dict") else answer


def intent_state(intent: Any, refunded_jpy: int = 0) -> IntentState:
    """The gateway's view of a PaymentIntent object."""
    error = intent.get("last_payment_error") or {}
    return IntentState(
        id=intent["id"],
        status=str(intent["status"]),
        amount_jpy=int(intent["amount"]),
        client_secret=str(intent.get("client_secret") or ""),
        refunded_jpy=refunded_jpy,
        error=str(error.get("message") or "") if isinstance(error, dict) else "",
    )


def gateway_from_settings(settings: Settings) -> PaymentGateway | None:
    """The configured gateway, or None when Stripe is not configured (paid features show unavailable)."""
    if not stripe_configured(settings) or settings.stripe_secret_key is None:
        return None
    return StripeGateway(settings.stripe_secret_key, settings.stripe_api_base)


def stripe_configured(settings: Settings) -> bool:
    """All three keys are set: secret (server calls), publishable (Stripe.js) and webhook secret."""
    return bool(
        settings.stripe_secret_key and settings.stripe_publishable_key and settings.stripe_webhook_secret
    )


def stripe_js_url(settings: Settings) -> str:
    """Where Stripe.js comes from: js.stripe.com, or localstripe's fake at <api base>/js.stripe.com/v3/."""
    if settings.stripe_api_base:
        return settings.stripe_api_base.rstrip("/") + "/js.stripe.com/v3/"
    return "https://js.stripe.com/v3/"
