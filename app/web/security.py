"""Security headers on every response."""

from __future__ import annotations

from litestar.types import BeforeMessageSendHookHandler, Message, Scope

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def security_headers(https: bool) -> dict[str, str]:
    """The headers every response carries; HSTS only when the site is served over https."""
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "DENY",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if https:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return headers


def security_headers_hook(https: bool) -> BeforeMessageSendHookHandler:
    """A `before_send` hook adding the headers to every HTTP response, 404s for unknown routes included."""
    fixed = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in security_headers(https).items()
    ]

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        raw = list(message.get("headers", []))
        present = {name.lower() for name, _ in raw}
        # A response may set its own (file downloads send a stricter CSP); keep what it chose.
        raw.extend((name, value) for name, value in fixed if name not in present)
        message["headers"] = raw

    return add_security_headers
