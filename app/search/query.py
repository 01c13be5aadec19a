"""Running a search: clean the words, query the index without its parser, re-check every hit, then page.

The query-syntax parser is never used, so no input can be a syntax error. Every candidate is re-checked by
its feature's `SearchSource.visible` before anything about it is shown or counted: results, facet counts,
snippets and the "did you mean" suggestion only ever come from visible documents.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from markupsafe import Markup, escape
from whoosh import query

from app.search.analysis import bigram_query, english_term, morphological_query
from app.search.index import CARD
from app.search.searchers import SearcherPool
from app.search.snippets import (
    QueryWords,
    field_terms,
    marked_snippet,
    marked_title,
    query_words,
    snippet_window,
)
from app.search.threads import in_search_thread

PAGE_SIZE = 20
MAX_QUERY_LENGTH = 200
# Normalizing a huge input costs time before it is cut: only this much of the raw text is looked at.
MAX_RAW_LENGTH = 4 * MAX_QUERY_LENGTH
# Visibility is re-checked for this many candidates at most; beyond it we ask for a narrower search. Each
# candidate costs about 60 µs (stored fields, the policy re-check, facets): 1,000 made a common word's page
# take ~90 ms of CPU, the largest share of the search page under bench/load.py.
MAX_CANDIDATES = 500
MAX_PAGE = MAX_CANDIDATES // PAGE_SIZE
# Fewer visible results than this and an English typo gets a "did you mean".
FEW_RESULTS = 3
SORTS = ("relevance", "date")
FACET_NAMES = ("bureau", "status", "theme", "licence", "prefecture")
MAX_FACET_VALUES = 20
LETTERS = "abcdefghijklmnopqrstuvwxyz"

T = TypeVar("T")


@dataclass(frozen=True)
class SearchRequest:
    """What the visitor asked for, already cleaned."""

    text: str
    kind: str | None = None
    selected: Mapping[str, str] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    truncated: bool = False
    # Something was typed (even if nothing of it is searchable).
    asked: bool = False


@dataclass(frozen=True)
class SearchHit:
    """One visible result, ready to show (title and snippet are escaped HTML with <mark>s)."""

    key: str
    kind: str
    url: str
    title_ja: str
    title_en: str
    title_html: Markup
    snippet_html: Markup
    date: datetime | None


@dataclass(frozen=True)
class FacetValue:
    """A facet value and how many visible results have it."""

    value: str
    count: int
    selected: bool


@dataclass(frozen=True)
class SearchOutcome:
    """A page of visible results, facet counts over visible results only, and a possible suggestion."""

    request: SearchRequest
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0
    page: int = 1
    pages: int = 0
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    suggestion: str | None = None
    # The search matched more candidates than are re-checked: the visitor should narrow it.
    capped: bool = False
    # The text had nothing searchable in it (only punctuation, symbols or emoji).
    unsearchable: bool = False


# (kind, keys) -> the keys among them the caller may see now.
VisibleKeys = Callable[[str, Collection[str]], Awaitable[set[str]]]
# (kind, keys) -> each key's current plain text, for snippets (the index does not store bodies).
DocumentTexts = Callable[[str, Collection[str]], Awaitable[Mapping[str, str]]]


def clean_text(raw: str | None) -> tuple[str, bool]:
    """The searchable text (NFKC, no control characters, at most 200 characters) and whether it was cut."""
    if not raw:
        return "", False
    text = unicodedata.normalize("NFKC", raw[:MAX_RAW_LENGTH])
    # Category C: control, format (bidi overrides, zero-width), surrogates, private use, unassigned.
    text = " ".join("".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text).split())
    truncated = len(raw) > MAX_RAW_LENGTH or len(text) > MAX_QUERY_LENGTH
    text = text[:MAX_QUERY_LENGTH].strip()
    if not any(ch.isalnum() for ch in text):
        return "", truncated
    return text, truncated


def clean_value(raw: str | None, *, max_length: int = 100) -> str | None:
    """A filter value from the query string, or None when empty or junk."""
    if not raw or len(raw) > max_length:
        return None
    value = unicodedata.normalize("NFKC", raw).strip()
    if not value or any(unicodedata.category(ch)[0] == "C" for ch in value):
        return None
    return value


def clean_page(raw: str | int | None) -> int:
    """A page number between 1 and MAX_PAGE; anything else is page 1."""
    try:
        page = int(str(raw).strip()) if raw is not None and len(str(raw)) < 8 else 1
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE)


def build_queries(text: str) -> list[Any]:
    """The index queries for the visitor's words, best first (no parser); empty when nothing is searchable.

    The morphological query ranks as well as both fields OR-ed on the relevance set and costs about half
    (app/search/analysis.py); the character-bigram query runs only when it finds nothing.
    """
    built = (morphological_query(text), bigram_query(text))
    return [found for found in built if found is not query.NullQuery]


# The staff tag of administrators, who may see every application (policies decide per hit).
EVERYTHING = "*"


def access_tags(staff_tags: Iterable[str]) -> list[str] | None:
    """The access tags of the documents a caller may be shown: public ones and their staff tags' ones.

    None for the tag "*" (administrators): nothing is filtered, and every candidate still goes through the
    sources' `visible` (the source decides, the index only narrows).
    """
    if EVERYTHING in staff_tags:
        return None
    return ["public", *sorted(set(staff_tags) - {"public"})]


# The fields results can be narrowed by: the kind of document and the facets.
FILTER_NAMES = ("kind", *FACET_NAMES)


@dataclass(frozen=True)
class Candidate:
    """A document the index matched, before the visibility re-check, with its kind and facet values."""

    docnum: int
    key: str
    kind: str
    values: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def has(self, selected: Mapping[str, str], *, ignoring: str = "") -> bool:
        """Whether the document has every selected value (except the one of `ignoring`)."""
        return all(value in self.values.get(name, ()) for name, value in selected.items() if name != ignoring)


def stored_values(stored: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """The kind and facet values of a document, as the index's terms have them (comma lists, stripped)."""
    values = {"kind": frozenset({str(stored.get("kind") or "")}) - {""}}
    for name in FACET_NAMES:
        raw = stored.get(name) or ""
        parts = raw if isinstance(raw, list) else str(raw).split(",")
        values[name] = frozenset(part.strip() for part in parts if part.strip())
    return values


def candidate_cards(searcher: Any, docnums: Sequence[int]) -> list[Candidate]:
    """Key, kind and facet values of each document: from the card column, else the stored fields."""
    # An index built before the column existed has no card until the next `reindex`.
    cards = searcher.reader().column_reader(CARD) if CARD in searcher.schema else None
    candidates = []
    for docnum in docnums:
        raw = cards[docnum] if cards is not None else b""
        card = json.loads(raw) if raw else searcher.stored_fields(docnum)
        candidates.append(Candidate(docnum, str(card["key"]), str(card["kind"]), stored_values(card)))
    return candidates


def find_candidates(searcher: Any, found: Any, allow: Any, sort: str) -> tuple[list[Candidate], bool]:
    """The first MAX_CANDIDATES matches in display order, and whether there were more."""
    # One more than kept tells whether there were more; len(results) would run the query again to count.
    options: dict[str, Any] = {"filter": allow, "limit": MAX_CANDIDATES + 1}
    if sort == "date":
        options.update(sortedby="date", reverse=True)
    results = searcher.search(found, **options)
    docnums = [docnum for _, docnum in results.top_n]
    return candidate_cards(searcher, docnums[:MAX_CANDIDATES]), len(docnums) > MAX_CANDIDATES


async def visible_candidates(candidates: Sequence[Candidate], visible: VisibleKeys) -> list[Candidate]:
    """The candidates the caller may see now, asking each kind's source once."""
    by_kind: dict[str, set[str]] = {}
    for candidate in candidates:
        by_kind.setdefault(candidate.kind, set()).add(candidate.key)
    allowed: set[str] = set()
    for kind, keys in by_kind.items():
        # A source answering with keys it was not asked about is not trusted with them.
        allowed |= await visible(kind, keys) & keys
    return [candidate for candidate in candidates if candidate.key in allowed]


def facet_counts(visible: Sequence[Candidate], selected: Mapping[str, str]) -> dict[str, list[FacetValue]]:
    """Counts of each facet over the visible results that match the other selected facets.

    Counted from the values stored with each candidate: grouping by Whoosh facets ran a second search and
    rebuilt every facet's document map per request (about a third of the search page's time).
    """
    counts: dict[str, dict[str, int]] = {name: {} for name in FILTER_NAMES}
    for candidate in visible:
        for name in FILTER_NAMES:
            if candidate.has(selected, ignoring=name):
                for value in candidate.values.get(name, ()):
                    counts[name][value] = counts[name].get(value, 0) + 1
    facets: dict[str, list[FacetValue]] = {}
    for name in FILTER_NAMES:
        chosen = selected.get(name)
        if chosen and chosen not in counts[name]:
            counts[name][chosen] = 0  # the visitor can still see and remove their own filter
        ordered = sorted(counts[name].items(), key=lambda item: (-item[1], item[0]))[:MAX_FACET_VALUES]
        facets[name] = [FacetValue(value, count, value == chosen) for value, count in ordered]
    return facets


def render_hit(
    searcher: Any, docnum: int, text: str, words: QueryWords, bodies: Mapping[str, str], locale: str
) -> SearchHit:
    """A visible document as a result: marked title, marked snippet (or the start of the text)."""
    schema = searcher.schema
    stored = searcher.stored_fields(docnum)
    title_ja, title_en = str(stored.get("title_ja") or ""), str(stored.get("title_en") or "")
    title = (title_en or title_ja) if locale == "en" else (title_ja or title_en)
    key = str(stored["key"])
    summary = "\n".join(filter(None, (stored.get("summary_ja"), stored.get("summary_en"))))
    body = snippet_window(bodies.get(key) or summary, text)
    date = stored.get("date")
    return SearchHit(
        key=key,
        kind=str(stored["kind"]),
        url=str(stored.get("url") or ""),
        title_ja=title_ja,
        title_en=title_en,
        title_html=marked_title(schema, title, text, words) or escape(title),
        snippet_html=marked_snippet(schema, body, text, words) or escape(body[:160]),
        # The index keeps dates as naive UTC.
        date=date.replace(tzinfo=UTC) if isinstance(date, datetime) and date.tzinfo is None else date,
    )


def render_hits(
    searcher: Any, docnums: Sequence[int], text: str, bodies: Mapping[str, str], locale: str
) -> list[SearchHit]:
    """The results of one page (the query's words are worked out once for all of them)."""
    words = query_words(text)
    return [render_hit(searcher, docnum, text, words, bodies, locale) for docnum in docnums]


async def texts_of(window: Sequence[Candidate], texts: DocumentTexts | None) -> dict[str, str]:
    """The current texts of the visible results of one page (one call per kind)."""
    bodies: dict[str, str] = {}
    if texts is None:
        return bodies
    by_kind: dict[str, set[str]] = {}
    for candidate in window:
        by_kind.setdefault(candidate.kind, set()).add(candidate.key)
    for kind, keys in by_kind.items():
        bodies.update({key: body for key, body in (await texts(kind, keys)).items() if key in keys})
    return bodies


def english_words(text: str) -> list[str]:
    """The Latin-letter words of the text, where a spelling suggestion makes sense."""
    words = "".join(ch if ch.isascii() and ch.isalpha() else " " for ch in text).split()
    # Long words and long lists cost edits without any chance of a useful suggestion.
    return [word for word in words if 3 <= len(word) <= 30][:8]


# The English words of these fields are what a suggestion can be made of (titles hold many names).
SPELLING_FIELDS = ("title", "text")


def spelling_candidate(searcher: Any, text: str) -> str | None:
    """The text with each unknown English word replaced by the closest indexed word, or None if unchanged."""
    schema = searcher.schema
    fields = [name for name in SPELLING_FIELDS if name in schema]
    if not fields:
        return None
    reader = searcher.reader()
    suggestion = text
    for word in english_words(text):
        terms = field_terms(schema, fields[0], word)
        if len(terms) != 1 or any((name, terms[0]) in reader for name in fields):
            continue
        better = nearest_word(searcher, fields, word.lower())
        if better is not None:
            suggestion = suggestion.replace(word, better, 1)
    return suggestion if suggestion != text else None


def one_edit_away(word: str) -> set[str]:
    """Every word one deletion, transposition, replacement or insertion away from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return {
        *(left + right[1:] for left, right in splits if right),
        *(left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1),
        *(left + letter + right[1:] for left, right in splits if right for letter in LETTERS),
        *(left + letter + right for left, right in splits for letter in LETTERS),
    }


def nearest_word(searcher: Any, fields: Sequence[str], word: str) -> str | None:
    """A real word close to `word` whose stem is in the index (the index holds stems, not words)."""
    reader = searcher.reader()
    # Stems ("challeng") cannot be shown, so candidate words are generated and stemmed instead.
    known = [
        (sum(reader.doc_frequency(name, stem) for name in fields), candidate)
        for candidate in one_edit_away(word)
        if (stem := english_term(candidate)) and any((name, stem) in reader for name in fields)
    ]
    if known:
        return max(known)[1]
    # Two edits away: only stems that are words themselves ("budget") can be shown as they are.
    for name in fields:
        for stem in searcher.corrector(name).suggest(english_term(word), limit=5, maxdist=2):
            if english_term(stem) == stem:
                return str(stem)
    return None


async def run_search(
    pool: SearcherPool | None,
    request: SearchRequest,
    *,
    staff_tags: Iterable[str],
    visible: VisibleKeys,
    texts: DocumentTexts | None = None,
    locale: str = "ja",
    suggest: bool = True,
) -> SearchOutcome:
    """Search, re-check every candidate with `visible`, count facets and page over the visible ones."""
    queries = build_queries(request.text) if request.text else []
    lease = await in_search_thread(pool.acquire) if pool is not None and queries else None
    if pool is None or lease is None:  # nothing indexed yet, or nothing searchable
        return SearchOutcome(request=request, unsearchable=request.asked)
    try:
        searcher = lease.searcher
        tags = access_tags(staff_tags)
        allow = None if tags is None else await in_search_thread(lease.allowed, tags)
        for found in queries:
            candidates, capped = await in_search_thread(find_candidates, searcher, found, allow, request.sort)
            if candidates:
                break
        kept = await visible_candidates(candidates, visible)
        selected = {name: value for name, value in request.selected.items() if name in FILTER_NAMES}
        if request.kind:
            selected["kind"] = request.kind
        facets = facet_counts(kept, selected)
        shown = [candidate for candidate in kept if candidate.has(selected)]
        pages = (len(shown) + PAGE_SIZE - 1) // PAGE_SIZE
        page = min(request.page, max(pages, 1))
        window = shown[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        bodies = await texts_of(window, texts)
        docnums = [candidate.docnum for candidate in window]
        hits = await in_search_thread(render_hits, searcher, docnums, request.text, bodies, locale)
        suggestion = None
        if suggest and len(shown) < FEW_RESULTS:
            suggestion = await in_search_thread(spelling_candidate, searcher, request.text)
    finally:
        pool.release(lease)
    if suggestion is not None:
        # Words come from every document in the index: suggest only what finds something the caller may see.
        retry = await run_search(
            pool,
            SearchRequest(text=suggestion, kind=request.kind, selected=request.selected, asked=True),
            staff_tags=staff_tags,
            visible=visible,
            locale=locale,
            suggest=False,
        )
        if retry.total <= len(shown):
            suggestion = None
    return SearchOutcome(
        request=request,
        hits=hits,
        total=len(shown),
        page=page,
        pages=pages,
        facets=facets,
        suggestion=suggestion,
        capped=capped,
    )
