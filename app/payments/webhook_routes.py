"""The Stripe webhook endpoint: exempt from CSRF (the signature is the authority), from nothing else."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Controller, MediaType, Request, Response, post
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_200_OK, HTTP_400_BAD_REQUEST, HTTP_503_SERVICE_UNAVAILABLE

from app.clock import utcnow
from app.payments.webhooks import BadSignature, apply_event, verified_event
from app.settings import Settings

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/payments/stripe/webhook"


class StripeWebhookController(Controller):
    """Receives Stripe's signed events."""

    @post(WEBHOOK_PATH, status_code=HTTP_200_OK, include_in_schema=False)
    async def receive(
        self, request: Request[Any, Any, Any], settings: NamedDependency[Settings]
    ) -> Response[dict[str, str]]:
        """400 for a bad signature (nothing written), 200 once applied or known, 5xx so Stripe retries."""
        if not settings.stripe_webhook_secret:
            return Response(
                {"error": "payments are not configured"}, status_code=HTTP_503_SERVICE_UNAVAILABLE
            )
        raw = await request.body()
        try:
            event = verified_event(
                raw, request.headers.get("stripe-signature"), settings.stripe_webhook_secret
            )
        except BadSignature as error:
            log.warning("Rejected a Stripe webhook: %s", error)
            return Response(
                {"error": "bad signature"}, status_code=HTTP_400_BAD_REQUEST, media_type=MediaType.JSON
            )
        # Any exception from here is a 500: the event id was rolled back with its effect, Stripe retries.
        outcome = await apply_event(event, now=utcnow())
        return Response({"received": event["id"], "outcome": outcome}, media_type=MediaType.JSON)


CONTROLLERS = [StripeWebhookController]
