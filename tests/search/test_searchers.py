"""Pooled searchers: never behind the index, one search each, the old generation closed after a rebuild."""

from __future__ import annotations

from pathlib import Path

from whoosh.index import create_in
from whoosh.query import Term

from app.search.documents import SearchDocument
from app.search.index import build_schema, new_generation, open_or_create, swap_in, write_batch
from app.search.searchers import IDLE_SEARCHERS, SearcherPool, searcher_pool


def document(number: int, access: str = "public") -> SearchDocument:
    """A small challenge-like document."""
    return SearchDocument(
        key=f"challenge:{number}",
        kind="challenge",
        title_ja=f"防災アプリ{number}",
        title_en=f"Disaster app {number}",
        body_ja="避難所の混雑を知らせる",
        body_en="",
        url=f"/challenges/c{number}",
        date=None,
        access=access,
    )


def keys(pool: SearcherPool) -> set[str]:
    """Every key the pool's searcher finds for 防災 (leased and given back)."""
    lease = pool.acquire()
    assert lease is not None
    try:
        hits = lease.searcher.search(Term("title", "防災"), limit=None)
        return {hit["key"] for hit in hits}
    finally:
        pool.release(lease)


def test_nothing_indexed_yet_gives_no_searcher(tmp_path: Path) -> None:
    assert SearcherPool(tmp_path / "search" / "index").acquire() is None


def test_a_search_after_a_write_sees_it_and_the_filter_set_follows(tmp_path: Path) -> None:
    index_dir = tmp_path / "search" / "index"
    index = open_or_create(index_dir)
    assert write_batch(index, (), [document(1)])
    pool = SearcherPool(index_dir)
    assert keys(pool) == {"challenge:1"}
    lease = pool.acquire()
    assert lease is not None
    assert len(lease.allowed(["public"])) == 1
    pool.release(lease)

    assert write_batch(open_or_create(index_dir), (), [document(2), document(3, access="bureau:7")])

    assert keys(pool) == {"challenge:1", "challenge:2", "challenge:3"}
    lease = pool.acquire()
    assert lease is not None
    assert len(lease.allowed(["public"])) == 2  # the cached set of the older searcher is not reused
    assert len(lease.allowed(["bureau:7", "public"])) == 3
    pool.release(lease)


def test_leases_are_never_shared_and_few_are_kept(tmp_path: Path) -> None:
    index_dir = tmp_path / "search" / "index"
    write_batch(open_or_create(index_dir), (), [document(1)])
    pool = SearcherPool(index_dir)
    leases = [pool.acquire() for _ in range(IDLE_SEARCHERS + 2)]
    assert all(lease is not None for lease in leases)
    assert len({id(lease.searcher) for lease in leases if lease}) == len(leases)
    for lease in leases:
        assert lease is not None
        pool.release(lease)
    assert sum(not lease.searcher.is_closed for lease in leases if lease) == IDLE_SEARCHERS
    pool.close()
    assert all(lease.searcher.is_closed for lease in leases if lease)


def test_a_rebuild_swaps_the_generation_and_the_old_searcher_is_closed(tmp_path: Path) -> None:
    index_dir = tmp_path / "search" / "index"
    write_batch(open_or_create(index_dir), (), [document(1)])
    pool = SearcherPool(index_dir)
    first = pool.acquire()
    assert first is not None
    pool.release(first)

    location = new_generation(index_dir)
    write_batch(create_in(str(location), build_schema()), (), [document(5)])
    swap_in(index_dir, location)

    assert keys(pool) == {"challenge:5"}
    assert first.searcher.is_closed


def test_one_pool_per_index(tmp_path: Path) -> None:
    index_dir = tmp_path / "search" / "index"
    assert searcher_pool(index_dir) is searcher_pool(index_dir)
    assert searcher_pool(tmp_path / "other" / "index") is not searcher_pool(index_dir)
