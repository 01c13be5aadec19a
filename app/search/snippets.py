"""Marked titles and snippets for search results: the query's own words first, the field's analyzer second.

Marking with Whoosh's highlighter runs the field's analyzer (Sudachi) over every title and snippet shown:
on the search page with 20 results that was about 40 % of the page's time (bench/search_page_bench.py,
防災 on 1,000 challenges). Most matches are spelled in the text as in the query, so the words of the query
(the surfaces of its morphemes, Latin words compared by stem) are looked for as they are; only when none of
them occurs (引越し asked, 引っ越し written; ｻｰﾊﾞｰ written) does the analyzer run, as before. A Japanese
word is marked wherever it occurs, also inside a longer word (京都 in 東京都), as Japanese search engines do.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape
from whoosh import highlight

from app.search.analysis import english_term, morphological_terms

# Snippets are cut from this much text around the first match: analysing a whole long body (a challenge
# with all its answered questions) with Sudachi took most of the search page's time.
SNIPPET_BEFORE = 80
SNIPPET_AFTER = 240
FRAGMENT_CHARS = 160
FRAGMENT_SURROUND = 40
TOP_FRAGMENTS = 2
BETWEEN = " … "
MARK_CLASS = "search-hit"
TERM_CLASS = "term"
# As Whoosh's HtmlFormatter: class numbers cycle after this many distinct marked words.
MAX_TERM_CLASSES = 5
# A query of 200 characters makes no more terms than this per field.
MAX_TERMS_PER_FIELD = 64
_CJK = re.compile(r"[\u3005\u3006\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[0-9a-z\u00c0-\u024f]+")

Span = tuple[int, int]


@dataclass(frozen=True)
class QueryWords:
    """What to look for in a text: Japanese surfaces as written, Latin words by their stem."""

    surfaces: tuple[str, ...]
    stems: frozenset[str]


def query_words(text: str) -> QueryWords:
    """The surfaces of the query's Japanese morphemes and the stems of its Latin words."""
    normalized = unicodedata.normalize("NFKC", text)
    surfaces: dict[str, None] = {}
    stems: set[str] = set()
    for term, start, end in morphological_terms(normalized):
        surface = normalized[start:end]
        if _CJK.search(surface):
            surfaces[surface] = None
        else:
            stems.add(term)
    # Longest first, so 子育て支援 is marked whole where it occurs before its parts are looked for.
    return QueryWords(tuple(sorted(surfaces, key=len, reverse=True)), frozenset(stems))


def literal_spans(text: str, words: QueryWords) -> list[Span]:
    """Where the query's words occur in `text`, merged and in order (empty: ask the analyzer)."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a rare case-mapping changed lengths: offsets would not line up
        return []
    spans: list[Span] = []
    for surface in words.surfaces:
        start = lowered.find(surface)
        while start >= 0:
            spans.append((start, start + len(surface)))
            start = lowered.find(surface, start + len(surface))
    if words.stems:
        spans.extend(
            match.span()
            for match in _LATIN_WORD.finditer(lowered)
            if english_term(match.group()) in words.stems
        )
    return merged(spans)


def merged(spans: list[Span]) -> list[Span]:
    """Overlapping or touching spans joined, in order."""
    joined: list[Span] = []
    for start, end in sorted(spans):
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    return joined


def fragments(spans: Sequence[Span], length: int) -> list[tuple[Span, list[Span]]]:
    """Up to two pieces of text around the marks (the pieces with most marks), in reading order."""
    groups: list[list[Span]] = []
    for span in spans:
        if groups and span[1] - groups[-1][0][0] <= FRAGMENT_CHARS:
            groups[-1].append(span)
        else:
            groups.append([span])
    best = sorted(range(len(groups)), key=lambda index: (-len(groups[index]), index))[:TOP_FRAGMENTS]
    pieces = []
    for index in sorted(best):
        group = groups[index]
        start = max(0, group[0][0] - FRAGMENT_SURROUND)
        end = min(length, group[-1][1] + FRAGMENT_SURROUND)
        pieces.append(((start, end), group))
    return pieces


def marked_html(text: str, pieces: Sequence[tuple[Span, Sequence[Span]]]) -> Markup:
    """The pieces of `text` escaped, their marks in <mark>, joined by an ellipsis."""
    classes: dict[str, int] = {}
    parts: list[str] = []
    for (start, end), marks in pieces:
        html: list[str] = []
        position = start
        for mark_start, mark_end in marks:
            word = text[mark_start:mark_end]
            number = classes.setdefault(word, len(classes) % MAX_TERM_CLASSES)
            html.append(str(escape(text[position:mark_start])))
            html.append(f'<mark class="{MARK_CLASS} {TERM_CLASS}{number}">{escape(word)}</mark>')
            position = mark_end
        html.append(str(escape(text[position:end])))
        parts.append("".join(html))
    return Markup(BETWEEN.join(parts))  # noqa: S704 (every piece of the text went through escape())


def analyzer_marked(
    schema: Any, fieldname: str, text: str, terms: Collection[str], fragmenter: Any
) -> Markup:
    """`text` with the terms of `fieldname` marked by Whoosh's highlighter, or empty when none occurs."""
    if not text or not terms or fieldname not in schema:
        return Markup("")
    # The analyzer's offsets are in the NFKC text (ﾊﾞ is one character there): mark that text.
    text = unicodedata.normalize("NFKC", text)
    formatter = highlight.HtmlFormatter(
        tagname="mark",
        classname=MARK_CLASS,
        termclass=TERM_CLASS,
        between=BETWEEN,
        maxclasses=MAX_TERM_CLASSES,
    )
    html = highlight.highlight(
        text, terms, schema[fieldname].analyzer, fragmenter, formatter, top=TOP_FRAGMENTS
    )
    return Markup(html)  # noqa: S704 (HtmlFormatter escaped every character of the document's text)


def field_terms(schema: Any, fieldname: str, text: str) -> list[str]:
    """The terms the field's own analyzer (the indexing one) makes of `text`, in order, once each."""
    if fieldname not in schema:
        return []
    terms: list[str] = []
    for token in schema[fieldname].analyzer(text, mode="query"):
        if token.text and token.text not in terms:
            terms.append(token.text)
    return terms[:MAX_TERMS_PER_FIELD]


def marked_title(schema: Any, title: str, text: str, words: QueryWords) -> Markup:
    """The whole title with the query's words marked, or empty when none of them occurs."""
    spans = literal_spans(title, words)
    if spans:
        return marked_html(title, [((0, len(title)), spans)])
    return analyzer_marked(
        schema, "title", title, field_terms(schema, "title", text), highlight.WholeFragmenter()
    )


def marked_snippet(schema: Any, body: str, text: str, words: QueryWords) -> Markup:
    """Up to two marked pieces of `body`, or empty when no word of the query is found in it."""
    spans = literal_spans(body, words)
    if spans:
        return marked_html(body, fragments(spans, len(body)))
    for fieldname in ("text", "text_bigram"):
        snippet = analyzer_marked(
            schema,
            fieldname,
            body,
            field_terms(schema, fieldname, text),
            highlight.ContextFragmenter(maxchars=FRAGMENT_CHARS, surround=FRAGMENT_SURROUND),
        )
        if snippet:
            return snippet
    return Markup("")


def snippet_window(body: str, text: str) -> str:
    """The part of `body` around the first place a word of the query appears (else its start)."""
    if len(body) <= SNIPPET_BEFORE + SNIPPET_AFTER:
        return body
    lowered = body.lower()
    if len(lowered) != len(body):  # a rare case-mapping changed lengths: offsets would not line up
        return body[: SNIPPET_BEFORE + SNIPPET_AFTER]
    words = {word.lower() for word in unicodedata.normalize("NFKC", text).split() if word}
    found = [index for word in words if (index := lowered.find(word)) >= 0]
    start = max(0, min(found) - SNIPPET_BEFORE) if found else 0
    return body[start : start + SNIPPET_BEFORE + SNIPPET_AFTER]
