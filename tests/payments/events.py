"""Signed Stripe events built in the test, for what localstripe never sends (or to control timing).

localstripe signs with `t=<event.created>` exactly as Stripe does; these use the same scheme
(HMAC-SHA256 of "<t>.<body>" with the webhook secret), so the app verifies both the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from tests.support.stripe import WEBHOOK_SECRET, Delivery


def signed(event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> Delivery:
    """`event` as Stripe would POST it, signed at `timestamp` (default: now)."""
    moment = int(time.time()) if timestamp is None else timestamp
    body = json.dumps(event, sort_keys=True).encode()
    signature = hmac.new(secret.encode(), b"%d.%s" % (moment, body), hashlib.sha256).hexdigest()
    return Delivery(body=body, signature=f"t={moment},v1={signature}")


def event(event_type: str, stripe_object: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    """A Stripe event envelope around `stripe_object`."""
    return {
        "id": event_id or f"evt_{secrets.token_hex(8)}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "api_version": "2017-08-15",
        "data": {"object": stripe_object},
    }


def intent_object(intent_id: str, amount: int, status: str = "succeeded", **extra: Any) -> dict[str, Any]:
    """A PaymentIntent as Stripe sends it in an event."""
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount if status == "succeeded" else 0,
        "currency": "jpy",
        "status": status,
        "metadata": {},
        **extra,
    }


def refunded_charge(intent_id: str, amount: int, amount_refunded: int) -> dict[str, Any]:
    """A charge after a refund, as in charge.refunded (amount_refunded is cumulative)."""
    return {
        "id": f"ch_{secrets.token_hex(6)}",
        "object": "charge",
        "amount": amount,
        "amount_refunded": amount_refunded,
        "currency": "jpy",
        "payment_intent": intent_id,
        "refunded": amount_refunded >= amount,
        "metadata": {},
    }
