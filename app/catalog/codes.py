"""全国地方公共団体コード: six digits, the last a check digit computed from the first five (pure functions).

The check digit (総務省 rule, verified against all 1,788 rows of app/catalog/data/local-government-codes.csv):
weights 6, 5, 4, 3, 2 on the five digits, r = sum mod 11, check = (11 − r) mod 10, and 1 when r is 0. So
remainders 0 and 10 both give 1: a corruption that moves the sum between them keeps a valid-looking code,
which is why an adoption also requires the code to exist in the municipalities table.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum

WEIGHTS = (6, 5, 4, 3, 2)


class CodeProblem(StrEnum):
    """Why a code is refused."""

    NOT_SIX_DIGITS = "not_six_digits"
    WRONG_CHECK_DIGIT = "wrong_check_digit"


def normalize_code(text: str) -> str:
    """The ASCII digits of a typed code: full-width digits made plain (１３１０１－６ → 131016)."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isascii() and ch.isdecimal())


def check_digit(first_five: str) -> int:
    """The check digit of a five-digit prefix."""
    remainder = sum(int(digit) * weight for digit, weight in zip(first_five, WEIGHTS, strict=True)) % 11
    return 1 if remainder == 0 else (11 - remainder) % 10


def code_problem(text: str) -> CodeProblem | None:
    """What is wrong with a typed code, or None when it is six digits with the right check digit."""
    code = normalize_code(text)
    # Only digits, spaces and hyphens may be typed: "x131016" is not a code with junk around it.
    stray = {ch for ch in unicodedata.normalize("NFKC", text) if not (ch.isascii() and ch.isdecimal())} - {
        " ",
        "-",
    }
    if len(code) != 6 or stray:
        return CodeProblem.NOT_SIX_DIGITS
    if check_digit(code[:5]) != int(code[5]):
        return CodeProblem.WRONG_CHECK_DIGIT
    return None


def with_check_digit(first_five: str) -> str:
    """The full six-digit code of a five-digit prefix."""
    return first_five + str(check_digit(first_five))
