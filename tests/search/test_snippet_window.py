"""Snippets are cut from around the first match, so a long body costs no more than a short one."""

from __future__ import annotations

from app.search.query import SNIPPET_AFTER, SNIPPET_BEFORE, snippet_window


def test_a_match_deep_in_a_long_body_is_inside_the_window() -> None:
    body = "前置き。" * 2_000 + "避難所の混雑状況を地図で示します。" + "後書き。" * 2_000

    window = snippet_window(body, "避難所")

    assert "避難所の混雑状況" in window
    assert len(window) == SNIPPET_BEFORE + SNIPPET_AFTER


def test_english_words_are_found_whatever_their_case() -> None:
    body = "x " * 3_000 + "Open Data portal for residents" + " y" * 3_000

    assert "Open Data portal" in snippet_window(body, "open data")


def test_no_match_gives_the_start_and_a_short_body_is_kept_whole() -> None:
    body = "はじめに。" * 1_000

    assert snippet_window(body, "見つからない語") == body[: SNIPPET_BEFORE + SNIPPET_AFTER]
    assert snippet_window("短い本文", "本文") == "短い本文"
