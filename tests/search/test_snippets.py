"""Marked titles and snippets: the query's words as written first, else the field's analyzer."""

from __future__ import annotations

import re

from app.search.index import build_schema
from app.search.snippets import (
    FRAGMENT_CHARS,
    FRAGMENT_SURROUND,
    marked_snippet,
    marked_title,
    query_words,
)

SCHEMA = build_schema()
MARK = re.compile(r'<mark class="search-hit term\d">(.*?)</mark>')


def marks(html: str) -> list[str]:
    """The marked words of a snippet, in order."""
    return MARK.findall(html)


def test_a_japanese_compound_is_marked_inside_a_longer_word() -> None:
    html = marked_snippet(SCHEMA, "区の子育て支援策を見直します。", "子育て支援", query_words("子育て支援"))

    assert marks(html) == ["子育て支援"]
    assert html == '区の<mark class="search-hit term0">子育て支援</mark>策を見直します。'


def test_the_parts_of_a_query_are_marked_where_they_stand_apart() -> None:
    html = marked_snippet(SCHEMA, "子育てと仕事の両立を支援する。", "子育て支援", query_words("子育て支援"))

    assert marks(html) == ["子育て", "支援"]


def test_english_words_are_marked_by_stem_and_never_inside_another_word() -> None:
    text = "Challenges of the city: a category of cats and one cat."
    html = marked_snippet(SCHEMA, text, "cat challenge", query_words("cat challenge"))

    assert marks(html) == ["Challenges", "cats", "cat"]


def test_the_text_around_and_inside_marks_is_escaped() -> None:
    html = marked_title(SCHEMA, "<b>防災</b> & 避難", "防災", query_words("防災"))

    assert html == '&lt;b&gt;<mark class="search-hit term0">防災</mark>&lt;/b&gt; &amp; 避難'


def test_a_variant_spelling_falls_back_to_the_analyzer() -> None:
    html = marked_snippet(SCHEMA, "引っ越し手続きの案内", "引越し", query_words("引越し"))

    assert marks(html), html
    assert marks(html)[0].startswith("引っ越")


def test_half_width_text_is_found_through_the_analyzer_and_shown_normalized() -> None:
    html = marked_snippet(SCHEMA, "ｻｰﾊﾞｰの更新", "サーバー", query_words("サーバー"))

    assert marks(html) == ["サーバー"]


def test_nothing_found_gives_no_snippet() -> None:
    assert marked_snippet(SCHEMA, "まったく関係のない文章", "防災", query_words("防災")) == ""


def test_at_most_two_pieces_with_the_most_marks_in_reading_order() -> None:
    filler = "あ" * (FRAGMENT_CHARS + 10)
    body = f"防災{filler}防災と防災{filler}防災訓練と防災無線と防災{filler}終わり"
    html = marked_snippet(SCHEMA, body, "防災", query_words("防災"))

    pieces = html.split(" … ")
    assert len(pieces) == 2
    assert len(marks(pieces[0])) == 2
    assert len(marks(pieces[1])) == 3
    assert html.count("あ") <= 4 * FRAGMENT_SURROUND
