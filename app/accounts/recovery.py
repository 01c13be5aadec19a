"""Proving an email address and resetting a forgotten password, through signed links sent by email.

Accounts enqueue these messages through `app.notifications.outbox` (which imports only account tables),
in the same transaction as the change that causes them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.accounts.passwords import hash_password, password_message, password_problem
from app.accounts.tables import User
from app.notifications.outbox import notify_users
from app.validation import InvalidInput

VERIFY_LIFETIME = timedelta(days=3)
RESET_LIFETIME = timedelta(hours=1)


class LinkUnusable(Exception):
    """The link is forged, expired, already used, or its account changed since."""


def _serializer(secret_key: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=f"kyoso.accounts.{purpose}")


def _fingerprint(value: str | None) -> str:
    """A short digest that changes when the password (or address) changes: links then stop working."""
    return hashlib.sha256((value or "").encode()).hexdigest()[:16]


async def queue_verification(user_id: int, email: str, *, secret_key: str, now: datetime) -> None:
    """Send a link proving the user reads `email` (call inside the transaction that set the address)."""
    token = _serializer(secret_key, "verify").dumps({"u": user_id, "e": _fingerprint(email)})
    await notify_users(
        "verify_email", [user_id], {"verify_path": f"/account/verify/{token}"}, link="", now=now
    )


async def verify_email(token: str, *, secret_key: str, now: datetime) -> int:
    """Mark the address of the link's user as verified (idempotent); returns the user id.

    Raises:
        LinkUnusable: forged, older than 3 days, or the address changed since it was sent.
    """
    payload = _load(token, secret_key, "verify", VERIFY_LIFETIME)
    user = await User.select(User.id, User.email).where(User.id == payload.get("u")).first().run()
    if user is None or _fingerprint(user["email"]) != payload.get("e"):
        raise LinkUnusable
    await (
        User.update({User.email_verified_at: now})
        .where((User.id == user["id"]) & User.email_verified_at.is_null())
        .run()
    )
    user_id: int = user["id"]
    return user_id


async def request_password_reset(email: str, *, secret_key: str, now: datetime) -> None:
    """Email a reset link if an active account has this address; say nothing either way (no enumeration)."""
    async with User._meta.db.transaction():
        user = (
            await User.select(User.id, User.password_hash)
            .where((User.email == email.strip().lower()) & (User.is_active == True))  # noqa: E712 (Piccolo SQL)
            .first()
            .run()
        )
        if user is None:
            return
        token = _serializer(secret_key, "reset").dumps(
            {"u": user["id"], "p": _fingerprint(user["password_hash"])}
        )
        await notify_users(
            "password_reset", [user["id"]], {"reset_path": f"/password/reset/{token}"}, link="", now=now
        )


async def reset_user(token: str, *, secret_key: str) -> dict[str, object]:
    """The account a reset link is for (id, email).

    Raises:
        LinkUnusable: forged, older than an hour, already used (the password changed since), or inactive.
    """
    payload = _load(token, secret_key, "reset", RESET_LIFETIME)
    user = (
        await User.select(User.id, User.email, User.display_name, User.password_hash)
        .where((User.id == payload.get("u")) & (User.is_active == True))  # noqa: E712 (Piccolo SQL)
        .first()
        .run()
    )
    if user is None or _fingerprint(user["password_hash"]) != payload.get("p"):
        raise LinkUnusable
    return user


async def reset_password(token: str, password: str, *, secret_key: str, now: datetime) -> int:
    """Set a new password from a reset link (which then stops working); returns the user id.

    Raises:
        LinkUnusable: see `reset_user`.
        InvalidInput: the new password is too weak.
    """
    async with User._meta.db.transaction():
        user = await reset_user(token, secret_key=secret_key)
        if problem := password_problem(password, personal=(str(user["email"]), str(user["display_name"]))):
            raise InvalidInput({"password": password_message(problem)})
        await (
            User.update(
                {
                    User.password_hash: await hash_password(password),
                    # Opening the emailed link proved the address too.
                    User.email_verified_at: now,
                }
            )
            .where(User.id == user["id"])
            .run()
        )
    user_id = int(str(user["id"]))
    return user_id


def _load(token: str, secret_key: str, purpose: str, lifetime: timedelta) -> dict[str, object]:
    try:
        payload = _serializer(secret_key, purpose).loads(token, max_age=int(lifetime.total_seconds()))
    except (SignatureExpired, BadSignature) as error:
        raise LinkUnusable from error
    if not isinstance(payload, dict):
        raise LinkUnusable
    return payload
