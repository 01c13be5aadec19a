"""Password rules (NIST SP 800-63B) and hashing."""

from __future__ import annotations

import pytest

from app.accounts.passwords import PasswordProblem, hash_password, password_problem, verify_password


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", PasswordProblem.TOO_SHORT),
        ("elevenchars", PasswordProblem.TOO_SHORT),
        ("x" * 257, PasswordProblem.TOO_LONG),
        ("password1234", PasswordProblem.TOO_COMMON),
        ("aaaaaaaaaaaa", PasswordProblem.TOO_COMMON),
        ("qwertyuiopas", PasswordProblem.TOO_COMMON),
        ("kyoso-demo-2026", PasswordProblem.TOO_COMMON),
        ("tsukiji fish market sunrise", None),
        ("富士山の朝焼けとカレーパン二個", None),
    ],
)
def test_rules(password: str, problem: PasswordProblem | None) -> None:
    assert password_problem(password) is problem


def test_personal_details_do_not_make_a_password() -> None:
    assert password_problem("hanako.yamada2026", personal=("hanako.yamada2026@example.jp",)) is not None


async def test_hash_round_trip_and_missing_hash() -> None:
    stored = await hash_password("tsukiji fish market sunrise")
    assert stored.startswith("$argon2id$")
    assert await verify_password(stored, "tsukiji fish market sunrise")
    assert not await verify_password(stored, "tsukiji fish market sunset")
    assert not await verify_password(None, "anything at all here")
    assert not await verify_password("not-a-hash", "anything at all here")
