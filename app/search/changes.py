"""Recording a search change inside the caller's transaction (a rollback leaves nothing to index)."""

from __future__ import annotations

from datetime import datetime

from app.search.tables import SearchChange


async def record_search_change(kind: str, ref: int | str, *, now: datetime) -> None:
    """Note that `kind:ref` must be re-read into the index (call inside the change's transaction)."""
    await SearchChange.insert(SearchChange(kind=kind, ref_id=str(ref), changed_at=now)).run()
