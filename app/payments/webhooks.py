"""Stripe webhooks: verify the signature on the raw body, then apply each event exactly once."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import stripe

from app.payments.effects import EFFECTS
from app.payments.tables import StripeEvent

TOLERANCE_SECONDS = 300


class BadSignature(Exception):
    """The body was not signed with our webhook secret within the tolerance (or is not an event)."""


def verified_event(raw_body: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    """The event, if Stripe signed exactly these bytes less than 300 s ago."""
    try:
        event = stripe.Webhook.construct_event(raw_body, signature, secret, tolerance=TOLERANCE_SECONDS)
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise BadSignature(str(error)) from error
    payload: dict[str, Any] = event.to_dict()
    if not isinstance(payload.get("id"), str) or not isinstance(payload.get("type"), str):
        raise BadSignature("not an event")
    return payload


# Deliveries of one event that arrive together in this process wait for the first instead of each queuing
# for a write transaction; across processes the UNIQUE event id below is what guarantees one effect.
_in_flight: dict[str, asyncio.Future[str]] = {}


async def apply_event(event: dict[str, Any], *, now: datetime) -> str:
    """Apply an event once: an id already stored is a duplicate; concurrent copies share one attempt."""
    event_id = event["id"]
    running = _in_flight.get(event_id)
    if running is not None:
        outcome = await asyncio.shield(running)
        return "duplicate" if outcome != "failed" else await apply_event(event, now=now)
    if await StripeEvent.exists().where(StripeEvent.event_id == event_id).run():
        return "duplicate"
    future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    _in_flight[event_id] = future
    try:
        outcome = await record_and_apply(event, now=now)
    except BaseException:
        future.set_result("failed")
        raise
    else:
        future.set_result(outcome)
    finally:
        _in_flight.pop(event_id, None)
    return outcome


async def record_and_apply(event: dict[str, Any], *, now: datetime) -> str:
    """Record the event id and its effect in one transaction; a duplicate changes nothing.

    Returns "duplicate", "ignored" (a type we do not handle), "unmatched" (no local payment) or
    "applied". Any exception rolls back both the id and the effect, so Stripe's retry applies it later.
    """
    effect = EFFECTS.get(event["type"])
    async with StripeEvent._meta.db.transaction():
        inserted = await (
            StripeEvent.insert(
                StripeEvent(
                    event_id=event["id"],
                    event_type=event["type"][:60],
                    outcome="ignored" if effect is None else "applied",
                    received_at=now,
                )
            )
            .on_conflict(target=StripeEvent.event_id, action="DO NOTHING")
            .returning(StripeEvent.id)
            .run()
        )
        if not inserted:
            return "duplicate"
        if effect is None:
            return "ignored"
        payment_id = await effect(event["data"]["object"], now)
        if payment_id is None:
            await (
                StripeEvent.update({StripeEvent.outcome: "unmatched"})
                .where(StripeEvent.id == inserted[0]["id"])
                .run()
            )
            return "unmatched"
        await (
            StripeEvent.update({StripeEvent.payment: payment_id})
            .where(StripeEvent.id == inserted[0]["id"])
            .run()
        )
        return "applied"
