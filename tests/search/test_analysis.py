"""Tokens produced by the morphological and bigram analyzers."""

from __future__ import annotations

import pickle

import pytest

from app.search.analysis import bigram_analyzer, japanese_analyzer, schema_fields


def morphological(text: str) -> list[str]:
    return [token.text for token in japanese_analyzer()(text)]


def bigrams(text: str) -> list[str]:
    return [token.text for token in bigram_analyzer()(text)]


def test_a_compound_contains_its_parts() -> None:
    tokens = morphological("子育て支援策")
    assert "子育て" in tokens
    assert "支援" in tokens


@pytest.mark.parametrize(
    ("variant", "standard"),
    [
        ("引越し", "引っ越し"),
        ("申込", "申し込み"),
        ("問合せ", "問い合わせ"),
        ("サーバ", "サーバー"),
        ("ｻｰﾊﾞｰ", "サーバー"),
        ("コンピュータ", "コンピューター"),
        ("ごみ", "ゴミ"),
        ("こども", "子ども"),
    ],
)
def test_spelling_variants_give_the_same_tokens(variant: str, standard: str) -> None:
    assert morphological(variant) == morphological(standard)


def test_a_verb_read_of_a_noun_still_matches_the_noun() -> None:
    assert set(morphological("引っ越し")) <= set(morphological("引っ越し手続き"))


def test_full_width_latin_and_digits_are_folded() -> None:
    assert morphological("ＡＢＣ１２３") == ["abc123"]
    assert bigrams("ＡＢＣ１２３") == ["abc123"]


def test_english_is_lowercased_stemmed_and_stop_words_dropped() -> None:
    assert morphological("Running the Tests") == ["run", "test"]


def test_mixed_text_is_split_per_script() -> None:
    tokens = morphological("DX推進のためのAPI設計")
    assert tokens[:2] == ["dx", "推進"]
    assert {"api", "設計"} <= set(tokens)
    assert "の" not in tokens


def test_bigrams_cover_cjk_runs_and_keep_latin_words() -> None:
    assert bigrams("防災訓練 Drills") == ["防災", "災訓", "訓練", "drill"]
    assert bigrams("市") == ["市"]


def test_bigrams_fold_kana_and_long_vowels() -> None:
    assert bigrams("サーバー") == bigrams("さーば")


def test_analyzers_survive_pickling_as_whoosh_stores_them() -> None:
    for field in schema_fields().values():
        restored = pickle.loads(pickle.dumps(field))  # noqa: S301  # our own object, round-tripped
        original = [t.text for t in field.analyzer("サーバー running")]
        assert [t.text for t in restored.analyzer("サーバー running")] == original


def test_token_offsets_point_into_the_normalized_text() -> None:
    tokens = [(t.text, t.startchar, t.endchar) for t in japanese_analyzer()("防災 drills", chars=True)]
    assert tokens == [("防災", 0, 2), ("drill", 3, 9)]
