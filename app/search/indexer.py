"""Where this instance's index lives, and the indexer's runs over a given list of sources.

Search imports no feature: `app/search_sources.py` binds the features' sources to these functions and is
what the worker's schedule and `python -m app reindex` call.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from app.search.documents import SearchSource
from app.search.index import ApplyReport, apply_changes, reindex
from app.settings import Settings


def default_index_dir(settings: Settings | None = None) -> Path:
    """DATA_DIR/search/index (a symlink to the current generation)."""
    return (settings or Settings.from_env()).data_dir / "search" / "index"


async def apply_pending(sources: Iterable[SearchSource], index_dir: Path | None = None) -> ApplyReport:
    """Apply the change log now, unless another process is writing (it, or the next run, applies it)."""
    return await apply_changes(sources, index_dir or default_index_dir(), wait_seconds=0.0)


async def rebuild(sources: Iterable[SearchSource], index_dir: Path | None = None) -> int:
    """Rebuild the index from the database (waiting for a running writer); returns the documents."""
    return await reindex(sources, index_dir or default_index_dir())
