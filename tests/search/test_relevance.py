"""Recall and precision of the search analyzers on the hand-judged relevance set."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from whoosh import index
from whoosh.fields import ID, Schema
from whoosh.index import Index
from whoosh.searching import Searcher

from app.search.analysis import bigram_query, morphological_query, schema_fields, search_text, text_query
from tests.search.relevance import DOCUMENTS, QUERIES

# Recall is counted in the first 10 hits, what a results page shows. Precision is precision@R: among the
# first R hits, where R is the number of expected documents, the share that is expected. R adapts k to
# each query, so a query with one right answer must rank it first.
RECALL_DEPTH = 10
MIN_RECALL = 0.9
MIN_PRECISION = 0.8

Search = Callable[[Searcher, str], list[str]]


def morphological_only(searcher: Searcher, text: str) -> list[str]:
    return [hit["doc_id"] for hit in searcher.search(morphological_query(text), limit=RECALL_DEPTH)]


def bigram_only(searcher: Searcher, text: str) -> list[str]:
    return [hit["doc_id"] for hit in searcher.search(bigram_query(text), limit=RECALL_DEPTH)]


def both_fields(searcher: Searcher, text: str) -> list[str]:
    return [hit["doc_id"] for hit in searcher.search(text_query(text), limit=RECALL_DEPTH)]


def bigram_fallback(searcher: Searcher, text: str) -> list[str]:
    return [hit["doc_id"] for hit in search_text(searcher, text, limit=RECALL_DEPTH)]


STRATEGIES: dict[str, Search] = {
    "morphological": morphological_only,
    "bigram": bigram_only,
    "both": both_fields,
    "fallback": bigram_fallback,
}


def build_index(directory: Path) -> Index:
    """Index the relevance documents with the production text fields."""
    schema = Schema(doc_id=ID(stored=True, unique=True), **schema_fields())
    ix = index.create_in(str(directory), schema)
    with ix.writer() as writer:
        for doc_id, title, body in DOCUMENTS:
            writer.add_document(doc_id=doc_id, title=title, text=body, text_bigram=f"{title}\n{body}")
    return ix


def evaluate(ix: Index, search: Search) -> tuple[float, float, list[str]]:
    """Return (recall@10, mean precision@R, per-query misses) for one query strategy."""
    found = expected_total = 0
    precisions: list[float] = []
    misses: list[str] = []
    with ix.searcher() as searcher:
        for text, expected in QUERIES:
            hits = search(searcher, text)
            retrieved = expected & set(hits)
            found += len(retrieved)
            expected_total += len(expected)
            top = hits[: len(expected)]
            precision = len(expected & set(top)) / len(expected)
            precisions.append(precision)
            if retrieved != expected or precision < 1:
                misses.append(f"{text!r}: expected {sorted(expected)}, got {hits}")
    return found / expected_total, sum(precisions) / len(precisions), misses


@pytest.fixture(scope="module")
def relevance_index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    """One index of the relevance set for the whole module."""
    return build_index(tmp_path_factory.mktemp("relevance"))


def test_the_set_is_large_enough() -> None:
    ids = {doc_id for doc_id, _, _ in DOCUMENTS}
    assert len(QUERIES) >= 40
    assert all(expected <= ids for _, expected in QUERIES)


@pytest.mark.parametrize("strategy", ["both", "fallback"])
def test_search_meets_recall_and_precision(relevance_index: Index, strategy: str) -> None:
    recall, precision, misses = evaluate(relevance_index, STRATEGIES[strategy])
    report = "\n".join(misses)
    assert recall >= MIN_RECALL, f"recall@{RECALL_DEPTH} {recall:.3f}\n{report}"
    assert precision >= MIN_PRECISION, f"precision@R {precision:.3f}\n{report}"


def test_morphological_field_alone_is_precise(relevance_index: Index) -> None:
    _, precision, misses = evaluate(relevance_index, morphological_only)
    assert precision >= MIN_PRECISION, "\n".join(misses)


def test_kyoto_ranks_above_tokyo_to_though_its_bigrams_match_both(relevance_index: Index) -> None:
    with relevance_index.searcher() as searcher:
        assert both_fields(searcher, "京都")[:2] == ["d33", "d32"]
        assert bigram_fallback(searcher, "京都") == ["d33"]


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        ix = build_index(Path(tmp))
        for name, strategy in STRATEGIES.items():
            recall, precision, misses = evaluate(ix, strategy)
            print(f"{name:14} recall@{RECALL_DEPTH} {recall:.3f}  precision@R {precision:.3f}")
            for miss in misses:
                print("   ", miss)
