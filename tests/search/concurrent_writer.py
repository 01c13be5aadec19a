"""A process that records search changes and applies them to a shared index (run by test_index.py).

    python -m tests.search.concurrent_writer <database url> <index dir> <writer number> <changes>

Each change is committed in its own transaction (held open a little, so commits interleave with the other
processes' and ids commit out of order on PostgreSQL), then applied at once without waiting: when another
process holds the writer lock, that one (or a later call) applies it.
"""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Collection
from pathlib import Path
from typing import Any

from app.clock import utcnow
from app.database.engines import engine_from_url
from app.database.registry import use_engine
from app.database.sqlite import KyosoSQLiteEngine
from app.search.changes import record_search_change
from app.search.documents import SearchDocument
from app.search.index import apply_changes
from app.search.tables import SearchChange


class ProbeSource:
    """A source whose documents are their refs: "probe:w1-7" says writer 1's seventh change was applied."""

    kind = "probe"

    async def documents(self, refs: Collection[str] | None) -> list[SearchDocument]:
        """One public document per ref (None: every probe ever recorded, its only "table" being the log)."""
        if refs is None:
            rows = await SearchChange.select(SearchChange.ref_id).where(SearchChange.kind == "probe").run()
            refs = {row["ref_id"] for row in rows}
        return [
            SearchDocument(
                key=f"probe:{ref}",
                kind="probe",
                title_ja=f"試験 {ref}",
                title_en="",
                body_ja="同時書き込みの試験",
                body_en="",
                url="",
                date=None,
            )
            for ref in sorted(refs)
        ]

    async def visible(self, user: Any, keys: Collection[str]) -> set[str]:
        """Every probe is public."""
        return set(keys)


async def write_and_apply(database_url: str, index_dir: Path, writer: int, changes: int) -> None:
    """Record `changes` changes, applying after each."""
    engine = engine_from_url(database_url)
    use_engine(engine)
    busy = 0
    for number in range(changes):
        async with SearchChange._meta.db.transaction():
            await record_search_change("probe", f"w{writer}-{number}", now=utcnow())
            await asyncio.sleep(random.uniform(0, 0.01))  # noqa: S311 (jitter, not security)
        report = await apply_changes([ProbeSource()], index_dir, wait_seconds=0.0)
        busy += report.busy
    if isinstance(engine, KyosoSQLiteEngine):
        await engine.close_idle_connections()  # the connection threads would keep the process alive
    print(f"writer {writer}: {changes} changes, {busy} applies found the index busy")


if __name__ == "__main__":
    url, folder, writer_number, count = sys.argv[1:5]
    asyncio.run(write_and_apply(url, Path(folder), int(writer_number), int(count)))
