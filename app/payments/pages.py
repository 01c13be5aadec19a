"""Shared pieces of payment pages: the Stripe-aware CSP, availability, and error re-rendering."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar.response import Template
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from app.payments.stripe_gateway import stripe_configured, stripe_js_url
from app.settings import Settings
from app.web.security import CONTENT_SECURITY_POLICY


def stripe_origin(settings: Settings) -> str:
    """The scheme and host Stripe.js is loaded from (the only third-party origin a payment page allows)."""
    parts = urlsplit(stripe_js_url(settings))
    return f"{parts.scheme}://{parts.netloc}"


def payment_page_csp(settings: Settings) -> str:
    """The site's CSP plus the Stripe host for scripts, XHR and frames, on payment pages only."""
    origin = stripe_origin(settings)
    api = settings.stripe_api_base.rstrip("/") if settings.stripe_api_base else "https://api.stripe.com"
    directives = []
    for directive in CONTENT_SECURITY_POLICY.split("; "):
        name = directive.split(" ", 1)[0]
        if name == "script-src":
            directive += f" {origin}"
        elif name == "connect-src":
            directive += f" {origin} {api}" if api != origin else f" {origin}"
        elif name == "frame-ancestors":
            directives.append(f"frame-src {origin}")
        directives.append(directive)
    return "; ".join(directives)


def availability(settings: Settings) -> dict[str, Any]:
    """What templates need to say whether card payments work here."""
    configured = stripe_configured(settings)
    return {
        "payments_available": configured,
        "stripe_js": stripe_js_url(settings) if configured else "",
        "publishable_key": settings.stripe_publishable_key or "",
    }


def with_errors(template: str, context: dict[str, Any], errors: dict[str, str]) -> Template:
    """Re-render a page with its errors (422), nothing having been saved."""
    return Template(
        template, context={**context, "errors": errors}, status_code=HTTP_422_UNPROCESSABLE_ENTITY
    )
