"""What is indexed, and the interface each feature implements to feed the index and re-check every hit.

Search imports no feature. Each feature provides a `SearchSource` (in its own `search_source.py`), and
`app/search_sources.py` lists them, as asgi.py lists controllers.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class SearchDocument:
    """One searchable thing. `key` is "<kind>:<id>"; `access` is "public" or a coarse staff tag such as
    "bureau:3" (the index filters by it, then the source's `visible` decides for each hit)."""

    key: str
    kind: str
    title_ja: str
    title_en: str
    body_ja: str
    body_en: str
    url: str
    date: datetime | None
    access: str = "public"
    # bureau, status, theme, licence, prefecture
    facets: Mapping[str, Sequence[str]] = field(default_factory=dict)


class SearchSource(Protocol):
    """A feature's searchable content."""

    kind: str

    async def documents(self, refs: Collection[str] | None) -> list[SearchDocument]:
        """The current documents for these row ids (all of them when None); missing ids are dropped."""

    async def visible(self, user: Any, keys: Collection[str]) -> set[str]:
        """The keys among `keys` the user may see now, decided by the feature's policies."""
