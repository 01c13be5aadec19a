"""Searchers kept open between searches: each used by one search at a time, refreshed when the index changes.

Opening a Whoosh searcher opens every segment's files, and the access filter ("public" and the caller's
staff tags) is turned into the set of documents it allows by reading that term's postings. On the index
of bench/load.py (1,000 challenges, 5,000 outputs, 20,000 applications) the two cost ~29 ms and ~18 ms:
more than half of a search page. A pool per index keeps idle searchers with their filter sets; taking
one checks the index's generation (a directory listing), and a searcher behind the index is refreshed
(Whoosh reuses the segments that did not change) and its filter sets are dropped. A rebuild swaps in a
new generation directory, and searchers of the old one are closed when next seen.

A searcher is leased to one search at a time: Whoosh readers are not meant for concurrent use, and a
search spans several calls on the search threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.searching import Searcher

from app.search.index import access_filter, current_generation

# Idle searchers kept per index (a search holds one only while it runs); more are opened when needed.
IDLE_SEARCHERS = 4
# Filter sets kept per searcher (the public one, and staff callers' tag sets).
FILTER_SETS = 64
# Indexes with a pool (tests open many; an evicted pool closes its searchers).
POOLS = 4


@dataclass
class Lease:
    """An open searcher of one index generation and the access filter sets computed with it."""

    searcher: Searcher
    location: Path
    filters: OrderedDict[tuple[str, ...], set[int]] = field(default_factory=OrderedDict)

    def allowed(self, tags: Collection[str]) -> set[int]:
        """The documents carrying any of these access tags (computed once per searcher)."""
        key = tuple(sorted(tags))
        found = self.filters.get(key)
        if found is None:
            found = set(self.searcher.docs_for_query(access_filter(key)))
            self.filters[key] = found
            if len(self.filters) > FILTER_SETS:
                self.filters.popitem(last=False)
        return found


class SearcherPool:
    """Idle searchers of one index (DATA_DIR/search/index), handed out one search at a time."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._idle: list[Lease] = []
        self._lock = threading.Lock()

    def acquire(self) -> Lease | None:
        """A searcher on the index as it is now (None before the first write); call on a search thread."""
        location = current_generation(self.index_dir)
        if location is None or not whoosh_index.exists_in(str(location)):
            return None
        while (lease := self._pop()) is not None:
            if lease.location != location:
                lease.searcher.close()
                continue
            if lease.searcher.up_to_date():
                return lease
            # refresh() reuses the unchanged segments and closes what the new searcher does not need.
            return Lease(lease.searcher.refresh(), location)
        return Lease(whoosh_index.open_dir(str(location)).searcher(), location)

    def release(self, lease: Lease) -> None:
        """Give a searcher back after a search (closed if enough are idle)."""
        with self._lock:
            if len(self._idle) < IDLE_SEARCHERS:
                self._idle.append(lease)
                return
        lease.searcher.close()

    def close(self) -> None:
        """Close every idle searcher."""
        while (lease := self._pop()) is not None:
            lease.searcher.close()

    def _pop(self) -> Lease | None:
        with self._lock:
            return self._idle.pop() if self._idle else None


_pools: OrderedDict[Path, SearcherPool] = OrderedDict()
_pools_lock = threading.Lock()


def searcher_pool(index_dir: Path) -> SearcherPool:
    """The pool of `index_dir` (one per index in this process)."""
    with _pools_lock:
        pool = _pools.get(index_dir)
        if pool is None:
            pool = _pools[index_dir] = SearcherPool(index_dir)
        _pools.move_to_end(index_dir)
        evicted = _pools.popitem(last=False)[1] if len(_pools) > POOLS else None
    if evicted is not None:
        evicted.close()
    return pool
