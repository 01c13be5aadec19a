"""Search costs bounded: snippets cut from around the first match, candidates capped without a count."""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh import query
from whoosh.index import create_in

from app.search import query as search_query
from app.search.documents import SearchDocument
from app.search.index import CARD, access_filter, build_schema, write_batch
from app.search.snippets import SNIPPET_AFTER, SNIPPET_BEFORE, snippet_window


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


def test_candidates_say_when_there_were_more_than_are_rechecked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With room for 3: three matches are not capped, four are (and only three are kept)."""
    index = create_in(str(tmp_path), build_schema())
    with index.writer() as writer:
        for number in range(4):
            writer.add_document(key=f"challenge:{number}", kind="challenge", access="public", text="防災訓練")
    monkeypatch.setattr(search_query, "MAX_CANDIDATES", 3)
    with index.searcher() as searcher:
        found = search_query.build_queries("防災")[0]
        allow = access_filter({"public"})
        four, capped = search_query.find_candidates(searcher, found, allow, "relevance")
        assert (len(four), capped) == (3, True)
        only_three = query.And([found, query.Not(query.Term("key", "challenge:0"))])
        three, capped = search_query.find_candidates(searcher, only_three, allow, "relevance")
        assert (len(three), capped) == (3, False)


def test_candidates_read_from_the_card_column_match_the_stored_fields(tmp_path: Path) -> None:
    """The card column and an index built before it (stored fields only) give the same candidates."""
    document = SearchDocument(
        key="output:7",
        kind="output",
        title_ja="防災マップ",
        title_en="Hazard map",
        body_ja="避難所の地図",
        body_en="",
        url="/catalog/map",
        date=None,
        facets={"licence": ["MIT"], "theme": ["防災", "地図, GIS"], "prefecture": ["東京都"]},
    )
    for name in ("new", "old"):
        (tmp_path / name).mkdir()
    with_card = create_in(str(tmp_path / "new"), build_schema())
    old_schema = build_schema()
    old_schema.remove(CARD)
    without_card = create_in(str(tmp_path / "old"), old_schema)
    for index in (with_card, without_card):
        assert write_batch(index, (), [document])
    with with_card.searcher() as new, without_card.searcher() as old:
        assert CARD not in old.schema
        from_card = search_query.candidate_cards(new, [0])
        from_stored = search_query.candidate_cards(old, [0])
    assert from_card == from_stored
    assert from_card[0].values["theme"] == frozenset({"防災", "地図  GIS"})
    assert from_card[0].key == "output:7"
