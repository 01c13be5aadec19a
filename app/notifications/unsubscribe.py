"""Signed one-click unsubscribe links: they work without signing in and cannot be forged."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "kyoso.notifications.unsubscribe"


def unsubscribe_token(secret_key: str, user_id: int, kind: str) -> str:
    """A token naming one user and one optional message kind."""
    return str(URLSafeSerializer(secret_key, salt=SALT).dumps({"u": user_id, "k": kind}))


def read_unsubscribe_token(secret_key: str, token: str) -> tuple[int, str] | None:
    """(user id, kind) of a genuine token, or None for anything forged or damaged."""
    try:
        payload = URLSafeSerializer(secret_key, salt=SALT).loads(token)
    except BadSignature:
        return None
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("u"), int)
        or not isinstance(payload.get("k"), str)
    ):
        return None
    return payload["u"], payload["k"]


def unsubscribe_url(base_url: str, secret_key: str, user_id: int, kind: str) -> str:
    """The absolute link placed in List-Unsubscribe and in the message footer."""
    return f"{base_url}/notifications/unsubscribe/{unsubscribe_token(secret_key, user_id, kind)}"
