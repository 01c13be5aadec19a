"""The rules an answer must meet at submit time (pure functions, checked by the thousand)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from app.submissions.answers import answer_problem, normalized_number
from app.submissions.state import count_characters, receipt_number

CHOICES = [{"ja": "A", "en": "A"}, {"ja": "B", "en": "B"}]


def field(kind: str, **extra: object) -> dict[str, object]:
    """A required field of `kind`."""
    return {"kind": kind, "required": True, "choices": CHOICES, **extra}


def test_characters_are_counted_as_readers_count_them() -> None:
    """A surrogate-pair kanji and an emoji are one character each; CRLF is one line break."""
    assert count_characters("𠮷野家") == 3
    assert count_characters("🚀\r\nあ") == 3
    assert answer_problem(field("long_text", max_chars=3), "𠮷野家", False) is None
    assert answer_problem(field("long_text", max_chars=2), "𠮷野家", False) is not None


def test_full_width_numbers_are_accepted() -> None:
    """１，２００ typed on a Japanese keyboard is 1200."""
    assert normalized_number("１，２００") == "1200"
    assert answer_problem(field("number"), "１，２００", False) is None
    assert answer_problem(field("number"), "twelve", False) is not None


def test_required_and_optional() -> None:
    """Empty is refused only when required; a required file needs an upload."""
    assert answer_problem(field("short_text"), "  ", False) is not None
    assert answer_problem({**field("short_text"), "required": False}, "", False) is None
    assert answer_problem(field("file"), None, False) is not None
    assert answer_problem(field("file"), None, True) is None


def test_urls_and_choices() -> None:
    """Only http(s) addresses; choices by their index, one for a single choice."""
    assert answer_problem(field("url"), "https://example.jp/pitch", False) is None
    assert answer_problem(field("url"), "javascript:alert(1)", False) is not None
    assert answer_problem(field("single_choice"), "1", False) is None
    assert answer_problem(field("single_choice"), "2", False) is not None
    assert answer_problem(field("multiple_choice"), ["0", "1"], False) is None
    assert answer_problem(field("multiple_choice"), ["0", "7"], False) is not None


@given(
    kind=st.sampled_from(
        ["short_text", "long_text", "number", "single_choice", "multiple_choice", "url", "file"]
    ),
    value=st.one_of(st.none(), st.text(), st.lists(st.text(max_size=5), max_size=5)),
    has_file=st.booleans(),
)
def test_any_input_gets_an_answer_never_an_exception(kind: str, value: object, has_file: bool) -> None:
    """Whatever a browser sends, the rule answers with None or a message."""
    problem = answer_problem(field(kind, max_chars=50), value, has_file)
    assert problem is None or isinstance(problem, str)


def test_receipt_numbers_use_the_japanese_year() -> None:
    """A submission at 2026-12-31 16:00 UTC is already 2027 in Tokyo."""
    assert receipt_number(42, 7, datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == "KY-2027-0042-0007"
