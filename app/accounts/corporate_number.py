"""法人番号 (corporate number): 13 digits whose first digit checks the other twelve.

Check digit = 9 - (Σ Pn × Qn mod 9), where Pn is the n-th of the 12 base digits counted from the right and
Qn is 1 for odd n, 2 for even n (国税庁, 法人番号の指定等に関する省令 第2条). Because the sum is taken mod 9,
replacing a base digit 0 with 9 (or 9 with 0) leaves the check digit unchanged: that one error is invisible.
"""

from __future__ import annotations

import unicodedata
from enum import Enum


class CorporateNumberProblem(Enum):
    """Why a string is not a valid 法人番号."""

    NOT_THIRTEEN_DIGITS = "not_thirteen_digits"
    WRONG_CHECK_DIGIT = "wrong_check_digit"


def check_digit(base_digits: str) -> int:
    """The check digit of the 12 base digits."""
    if len(base_digits) != 12 or not base_digits.isascii() or not base_digits.isdecimal():
        raise ValueError("The base of a corporate number is 12 ASCII digits")
    total = sum(
        int(digit) * (2 if position % 2 == 0 else 1)
        for position, digit in enumerate(reversed(base_digits), 1)
    )
    return 9 - total % 9


def normalize_corporate_number(text: str) -> str:
    """Full-width digits to ASCII, spaces and hyphens removed (people paste it in many shapes)."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if ch not in " -\u2010\u2011\u2012\u2013\u2212\u30fc")


def corporate_number_problem(text: str) -> CorporateNumberProblem | None:
    """None when `text` (already normalized) is a valid 法人番号, else the problem."""
    if len(text) != 13 or not text.isascii() or not text.isdecimal():
        return CorporateNumberProblem.NOT_THIRTEEN_DIGITS
    if int(text[0]) != check_digit(text[1:]):
        return CorporateNumberProblem.WRONG_CHECK_DIGIT
    return None


def with_check_digit(base_digits: str) -> str:
    """A full 法人番号 from 12 base digits (for demo data and tests)."""
    return f"{check_digit(base_digits)}{base_digits}"
