"""Password hashing (argon2id) and the rules for a new password (NIST SP 800-63B)."""

from __future__ import annotations

import asyncio
from enum import Enum

import zxcvbn
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.web.i18n import gettext as _

MIN_LENGTH = 12
# Long enough for any passphrase; bounded so hashing cannot be abused with megabyte inputs.
MAX_LENGTH = 256
# zxcvbn score 3 = at least 10^8 guesses: rejects common, keyboard, repeated and dictionary passwords.
MIN_STRENGTH = 3
# Demo accounts' passwords are printed in the README: nobody may choose them for a real account.
DEMO_PASSWORDS = frozenset({"kyoso-demo-2026"})

# OWASP's argon2id parameters (19 MiB, 2 passes, 1 lane): ~0.1 s here; RFC 9106's 64 MiB took 0.4-0.5 s,
# too slow for a busy sign-in page on two cores.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verifying against this keeps sign-in for an unknown email as slow as for a known one.
_DUMMY_HASH = _hasher.hash("not a real password, only for equal timing")


class PasswordProblem(Enum):
    """Why a new password is refused."""

    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    TOO_COMMON = "too_common"


async def hash_password(password: str) -> str:
    """An argon2id hash of `password`, computed off the event loop (it takes ~0.1 s of CPU)."""
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; a missing hash still costs one verification, off the event loop."""
    return await asyncio.to_thread(_verify, password_hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, *, personal: tuple[str, ...] = ()) -> PasswordProblem | None:
    """None if `password` may be used; `personal` (email, name) must not make it guessable."""
    if len(password) < MIN_LENGTH:
        return PasswordProblem.TOO_SHORT
    if len(password) > MAX_LENGTH:
        return PasswordProblem.TOO_LONG
    if password.lower() in DEMO_PASSWORDS:
        return PasswordProblem.TOO_COMMON
    hints = [part for value in personal for part in (value, value.split("@")[0]) if part]
    if zxcvbn.zxcvbn(password[:100], user_inputs=[*hints, "kyoso"])["score"] < MIN_STRENGTH:
        return PasswordProblem.TOO_COMMON
    return None


def password_message(problem: PasswordProblem) -> str:
    """The reader-facing text for a refused password."""
    return {
        PasswordProblem.TOO_SHORT: _("Use at least 12 characters."),
        PasswordProblem.TOO_LONG: _("Use at most 256 characters."),
        PasswordProblem.TOO_COMMON: _(
            "This password is too easy to guess. Try a longer phrase of unrelated words."
        ),
    }[problem]
