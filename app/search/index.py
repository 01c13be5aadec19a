"""The Whoosh index on local disk: its schema, the replica's cursor over the change log, one writer, rebuilds.

Each app instance's index is a replica (DESIGN.md, "Scaling out"): `apply_changes` re-reads from the
database every document named by a SearchChange row after the cursor and writes it (or drops it);
`reindex` rebuilds everything from the database. The database is the source of truth, so applying a
change twice is harmless, and a crash between the Whoosh commit and the cursor write only repeats work.

Layout under `index_dir` (DATA_DIR/search/index by default):

    search/index            a symlink to the current generation, e.g. index-1764300000123456
    search/index-<n>/       Whoosh files and `.cursor.json` (a rebuild swaps index and cursor together)
    search/index.lock       flock: one writer at a time across every process sharing DATA_DIR

Readers take no lock (Whoosh readers never do): open a searcher with `open_searcher`, per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import shutil
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from piccolo.custom_types import Combinable
from whoosh import index as whoosh_index
from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, DATETIME, ID, KEYWORD, STORED, FieldType, Schema
from whoosh.index import FileIndex, LockError
from whoosh.query import NullQuery, Or, Query, Term
from whoosh.searching import Searcher

from app.search.analysis import schema_fields
from app.search.documents import SearchDocument, SearchSource
from app.search.tables import SearchChange
from app.search.threads import in_search_thread

FACETS = ("bureau", "status", "theme", "licence", "prefecture")
CARD = "card"
CURSOR_FILE = ".cursor.json"  # a leading dot: Whoosh's file cleaning skips it
BATCH_SIZE = 500
SUMMARY_CHARS = 200
# On PostgreSQL an id can commit after a larger one; a missing id is re-read until this old (a rollback
# leaves its id missing for ever), and no more than MAX_GAP ids are tracked after one batch.
GAP_PATIENCE_SECONDS = 600.0
MAX_GAP = 10_000
WHOOSH_LOCK_SECONDS = 5.0
log = logging.getLogger(__name__)


def build_schema() -> Schema:
    """Identity, display, access and facet fields, plus the analysed text fields of analysis.py."""
    fields: dict[str, FieldType] = {
        "key": ID(unique=True, stored=True),
        "kind": ID(stored=True),
        "url": STORED(),
        "title_ja": STORED(),
        "title_en": STORED(),
        "summary_ja": STORED(),
        "summary_en": STORED(),
        "date": DATETIME(sortable=True, stored=True),
        "access": KEYWORD(),
        **{facet: KEYWORD(commas=True, stored=True) for facet in FACETS},
        # Key, kind and facet values as one small JSON value per document: every candidate of a search needs
        # them, and reading them from the stored fields (zlib + pickle of every stored field) was most of a
        # common word's search (a third of the search page's CPU under bench/search_page_bench.py).
        CARD: COLUMN(VarBytesColumn()),
    }
    fields.update(schema_fields())
    return Schema(**fields)


def document_fields(document: SearchDocument, text_fields: Iterable[str]) -> dict[str, Any]:
    """The Whoosh fields of one document (`title` gets the titles, `text` the body, others both)."""
    # dict.fromkeys: a name that is not translated (software) is counted once.
    title = "\n".join(part for part in dict.fromkeys((document.title_ja, document.title_en)) if part)
    body = "\n".join(part for part in (document.body_ja, document.body_en) if part)
    fields: dict[str, Any] = {
        "key": document.key,
        "kind": document.kind,
        "url": document.url,
        "title_ja": document.title_ja,
        "title_en": document.title_en,
        "summary_ja": document.body_ja[:SUMMARY_CHARS],
        "summary_en": document.body_en[:SUMMARY_CHARS],
        "access": document.access,
    }
    if document.date is not None:
        # Whoosh subtracts a naive datetime.min: store naive UTC.
        fields["date"] = document.date.astimezone(UTC).replace(tzinfo=None)
    card: dict[str, Any] = {"key": document.key, "kind": document.kind}
    for facet in FACETS:
        values = [value.replace(",", " ").strip() for value in document.facets.get(facet, ())]
        if any(values):
            fields[facet] = ",".join(value for value in values if value)
            card[facet] = [value for value in values if value]
    fields[CARD] = json.dumps(card, ensure_ascii=False).encode()
    for name in text_fields:
        fields[name] = {"title": title, "text": body}.get(name, f"{title}\n{body}")
    return fields


def access_filter(tags: Collection[str]) -> Query:
    """A filter keeping documents with any of these access tags ("public", "bureau:3", "organization:7")."""
    if not tags:
        return NullQuery
    return Or([Term("access", tag) for tag in sorted(tags)])


# --- Location and cursor ------------------------------------------------------------------------------


def lock_path(index_dir: Path) -> Path:
    """The flock file every writer of this index takes first."""
    return index_dir.with_name(index_dir.name + ".lock")


def new_generation(index_dir: Path) -> Path:
    """A fresh, empty generation directory next to the index."""
    location = index_dir.with_name(f"{index_dir.name}-{time.time_ns() // 1000}")
    location.mkdir(parents=True)
    return location


@dataclass
class Cursor:
    """How far this replica has applied the change log: every id up to `applied` except the open gaps."""

    applied: int = 0
    gaps: dict[int, float] = field(default_factory=dict)  # missing id -> when first missed (epoch s)

    def advanced(self, ids: Collection[int], now: float) -> Cursor:
        """The cursor after applying `ids` (missing ids below the new high mark become gaps)."""
        top = max(self.applied, *ids) if ids else self.applied
        gaps = {
            gap: since
            for gap, since in self.gaps.items()
            if gap not in ids and now - since < GAP_PATIENCE_SECONDS
        }
        if top - self.applied <= MAX_GAP:
            gaps.update({gap: now for gap in range(self.applied + 1, top) if gap not in ids})
        return Cursor(applied=top, gaps=gaps)


def read_cursor(location: Path) -> Cursor:
    """The cursor stored in an index generation (a new index starts at 0)."""
    try:
        stored = json.loads((location / CURSOR_FILE).read_text())
    except FileNotFoundError:
        return Cursor()
    return Cursor(
        applied=int(stored["applied"]), gaps={int(gap): float(t) for gap, t in stored["gaps"].items()}
    )


def write_cursor(location: Path, cursor: Cursor) -> None:
    """Store the cursor durably (write, fsync, rename)."""
    temporary = location / f"{CURSOR_FILE}.tmp"
    with temporary.open("w") as stream:
        json.dump({"applied": cursor.applied, "gaps": cursor.gaps}, stream)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, location / CURSOR_FILE)


def current_generation(index_dir: Path) -> Path | None:
    """The directory the index lives in now, or None before the first write."""
    return index_dir.resolve() if index_dir.exists() else None


def open_index(index_dir: Path) -> FileIndex | None:
    """The index for reading, or None before anything was indexed (readers never lock)."""
    location = current_generation(index_dir)
    if location is None or not whoosh_index.exists_in(str(location)):
        return None
    return whoosh_index.open_dir(str(location))


@contextlib.contextmanager
def open_searcher(index_dir: Path) -> Iterator[Searcher | None]:
    """A searcher over the last commit (None before the first), closed on exit: open one per request."""
    index = open_index(index_dir)
    if index is None:
        yield None
        return
    with index.searcher() as searcher:
        yield searcher


def open_or_create(index_dir: Path) -> FileIndex:
    """The index, created empty (as a generation behind a symlink) on first use; call under the lock."""
    location = current_generation(index_dir)
    if location is not None and whoosh_index.exists_in(str(location)):
        return whoosh_index.open_dir(str(location))
    location = new_generation(index_dir)
    created = whoosh_index.create_in(str(location), build_schema())
    swap_in(index_dir, location)
    return created


def swap_in(index_dir: Path, location: Path) -> None:
    """Point `index_dir` at `location` with one rename; keep the previous generation for open readers."""
    link = index_dir.with_name(f".{index_dir.name}.link-{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    link.symlink_to(location.name)
    if index_dir.exists() and not index_dir.is_symlink():
        # Left by an older layout: move it aside once (no symlink can replace a directory).
        index_dir.rename(index_dir.with_name(f"{index_dir.name}-{time.time_ns() // 1000}"))
    previous = current_generation(index_dir)
    os.replace(link, index_dir)
    for stale in index_dir.parent.glob(f"{index_dir.name}-*"):
        # Readers opened before the swap may still read the previous generation; older ones go.
        if stale.is_dir() and stale.resolve() not in (location.resolve(), previous):
            shutil.rmtree(stale, ignore_errors=True)


# --- The one writer -----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def writer_lock(index_dir: Path, wait_seconds: float) -> AsyncIterator[bool]:
    """Hold the cross-process writer lock (yields False if another writer kept it for `wait_seconds`)."""
    path = lock_path(index_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    with path.open("a") as lock_file:
        while True:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                # Polling keeps the event loop free (a blocking flock would hold a thread).
                await asyncio.sleep(0.02)
        try:
            yield True
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


@dataclass(frozen=True)
class ApplyReport:
    """What one `apply_changes` call did."""

    applied: int  # change rows applied
    busy: bool = False  # another writer held the index: the rows wait for the next call
    cursor: int = 0


async def load_documents(
    sources: Mapping[str, SearchSource], changes: Sequence[Mapping[str, Any]]
) -> tuple[set[str], list[SearchDocument]]:
    """The keys named by `changes` and their current documents (one load per kind)."""
    refs: dict[str, set[str]] = defaultdict(set)
    for change in changes:
        refs[change["kind"]].add(change["ref_id"])
    keys: set[str] = set()
    documents: list[SearchDocument] = []
    for kind, kind_refs in refs.items():
        source = sources.get(kind)
        if source is None:
            log.warning("Search changes of unknown kind %r skipped", kind)
            continue
        keys.update(f"{kind}:{ref}" for ref in kind_refs)
        documents.extend(await source.documents(kind_refs))
    return keys, documents


def write_batch(index: FileIndex, keys: Collection[str], documents: Sequence[SearchDocument]) -> bool:
    """Drop `keys` and add `documents` in one commit; False if Whoosh's own lock stayed taken."""
    try:
        writer = index.writer(timeout=WHOOSH_LOCK_SECONDS)
    except LockError:
        # Only a writer outside our flock (e.g. a hand-run script) gets here: the rows wait.
        log.warning("The search index stayed locked; changes will be applied on the next run")
        return False
    try:
        for key in {*keys, *(document.key for document in documents)}:
            writer.delete_by_term("key", key)
        text_fields = schema_fields().keys()
        for document in documents:
            fields = document_fields(document, text_fields)
            # An index built before a field was added lacks it until the next `reindex`: leave it out.
            writer.add_document(**{name: value for name, value in fields.items() if name in index.schema})
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    return True


async def pending_changes(cursor: Cursor, limit: int) -> list[dict[str, Any]]:
    """The next change rows after the cursor, and any open gap that has appeared since."""
    condition: Combinable = SearchChange.id > cursor.applied
    if cursor.gaps:
        condition = condition | SearchChange.id.is_in(sorted(cursor.gaps))
    rows: list[dict[str, Any]] = (
        await SearchChange.select(SearchChange.id, SearchChange.kind, SearchChange.ref_id)
        .where(condition)
        .order_by(SearchChange.id)
        .limit(limit)
        .run()
    )
    return rows


async def apply_changes(
    sources: Iterable[SearchSource],
    index_dir: Path,
    *,
    wait_seconds: float = 30.0,
    batch_size: int = BATCH_SIZE,
) -> ApplyReport:
    """Apply every change row after this index's cursor, in batches, as the only writer.

    A replica without an index yet is built from the database first: rows written without a change
    (demo data, rows older than the log) are then found too.
    """
    sources = tuple(sources)
    by_kind = {source.kind: source for source in sources}
    async with writer_lock(index_dir, wait_seconds) as held:
        if not held:
            return ApplyReport(applied=0, busy=True)
        if open_index(index_dir) is None:
            await rebuild_locked(sources, index_dir)
        index = await in_search_thread(open_or_create, index_dir)
        location = Path(index.storage.folder)
        cursor = read_cursor(location)
        applied = 0
        while rows := await pending_changes(cursor, batch_size):
            keys, documents = await load_documents(by_kind, rows)
            # Tokenizing and writing is CPU work: off the event loop, so requests keep being served.
            if not await in_search_thread(write_batch, index, keys, documents):
                return ApplyReport(applied=applied, busy=True, cursor=cursor.applied)
            cursor = cursor.advanced({row["id"] for row in rows}, time.time())
            write_cursor(location, cursor)
            applied += len(rows)
            if len(rows) < batch_size:
                break
        return ApplyReport(applied=applied, cursor=cursor.applied)


async def reindex(sources: Iterable[SearchSource], index_dir: Path, *, wait_seconds: float = 300.0) -> int:
    """Rebuild the index from the database in a new generation and swap it in; returns the documents."""
    async with writer_lock(index_dir, wait_seconds) as held:
        if not held:
            raise TimeoutError(f"Another writer kept {lock_path(index_dir)} for {wait_seconds} s")
        return await rebuild_locked(tuple(sources), index_dir)


async def rebuild_locked(sources: Sequence[SearchSource], index_dir: Path) -> int:
    """Build a new generation from every source and swap it in (the caller holds the writer lock)."""
    # Changes up to here are in the database the rebuild reads; later ones are applied after it.
    started = await start_cursor()
    location = new_generation(index_dir)
    try:
        index = await in_search_thread(whoosh_index.create_in, str(location), build_schema())
        documents: list[SearchDocument] = []
        for source in sources:
            documents.extend(await source.documents(None))
        if not await in_search_thread(write_batch, index, (), documents):
            raise LockError(f"The new index {location} was locked by another writer")
        write_cursor(location, started)
    except BaseException:
        shutil.rmtree(location, ignore_errors=True)
        raise
    swap_in(index_dir, location)
    return len(documents)


async def start_cursor() -> Cursor:
    """The cursor of a rebuild starting now: the highest id, with the recent missing ids as open gaps."""
    top = await SearchChange.select(SearchChange.id).order_by(SearchChange.id, ascending=False).first().run()
    if top is None:
        return Cursor()
    # A missing id below the top may be a transaction still open (PostgreSQL): the rebuild cannot see it.
    recent = await SearchChange.select(SearchChange.id).where(SearchChange.id > top["id"] - MAX_GAP).run()
    return Cursor(applied=max(top["id"] - MAX_GAP, 0)).advanced({row["id"] for row in recent}, time.time())


def indexed_at(moment: datetime) -> datetime:
    """A stored `date` back as an aware UTC datetime (Whoosh keeps it naive)."""
    return moment.replace(tzinfo=UTC)
