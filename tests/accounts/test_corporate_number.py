"""法人番号 check digit: what it catches, and the one single-digit error it cannot see."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.accounts.corporate_number import (
    CorporateNumberProblem,
    check_digit,
    corporate_number_problem,
    normalize_corporate_number,
    with_check_digit,
)

base_digits = st.text(alphabet="0123456789", min_size=12, max_size=12)


def test_known_numbers() -> None:
    # 国税庁's own corporate number, as published on its site.
    assert corporate_number_problem("7000012050002") is None
    assert corporate_number_problem("8000012050002") is CorporateNumberProblem.WRONG_CHECK_DIGIT


@given(base_digits)
def test_every_generated_number_is_valid(base: str) -> None:
    assert corporate_number_problem(with_check_digit(base)) is None


@given(base_digits, st.integers(min_value=0, max_value=12), st.integers(min_value=1, max_value=9))
def test_a_single_digit_change_is_rejected_except_a_zero_nine_swap_in_the_base(
    base: str, position: int, shift: int
) -> None:
    number = with_check_digit(base)
    changed_digit = (int(number[position]) + shift) % 10
    changed = number[:position] + str(changed_digit) + number[position + 1 :]
    invisible = position > 0 and {number[position], str(changed_digit)} == {"0", "9"}
    if invisible:
        # Σ is taken mod 9, and 0 and 9 are congruent mod 9: this is the only blind spot.
        assert corporate_number_problem(changed) is None
    else:
        assert corporate_number_problem(changed) is CorporateNumberProblem.WRONG_CHECK_DIGIT


def test_the_check_digit_is_never_zero() -> None:
    assert all(1 <= check_digit(f"{n:012d}") <= 9 for n in range(0, 10**12, 10**12 // 997))


@pytest.mark.parametrize("text", ["", "123", "12345678901234", "700001205000a", "７０００"])
def test_wrong_shapes(text: str) -> None:
    assert corporate_number_problem(text) is CorporateNumberProblem.NOT_THIRTEEN_DIGITS


def test_full_width_digits_spaces_and_hyphens_are_normalized() -> None:
    assert normalize_corporate_number("７０００-０１２０ ５０００２") == "7000012050002"
