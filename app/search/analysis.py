"""Text analysis for search: a Sudachi morphological field ranked above a character-bigram fallback.

Choices, and the measurements behind them (2-core container; relevance set in tests/search/relevance.py,
62 documents and 63 queries; recall@10 counts the expected documents found in the first 10 hits,
precision@R is, per query, the share of expected documents among the first R hits where R is the number
of expected documents; ``python -m tests.search.test_relevance`` prints the table):

    ranking                                            recall@10   precision@R
    morphological (title + text) alone                 1.000       1.000
    bigram (text_bigram) alone                         0.889       0.916
    both, OR-ed (``text_query``)                       1.000       1.000
    bigram only when morphological finds nothing       1.000       1.000   (``search_text``)
    ablations, morphological alone:
      SplitMode.B / SplitMode.C instead of A           0.970 / 0.960   0.966 / 0.952
      without hiragana→katakana folding (ごみ/ゴミ)      0.980       0.991
      without the noun reading of verbs (引っ越し)       0.980       0.986

- NFKC first, so ＡＢＣ１２３ is abc123 and half-width ｻｰﾊﾞｰ is サーバー before anything else sees it.
- One Sudachi call per text rather than one per script run (fewer calls; Sudachi already cuts at script
  changes), then each morpheme is treated by script; adjacent Latin morphemes are rejoined (ABC123, 5G).
  Latin/digit morphemes are lowercased, stop words dropped and stemmed
  with porter2 (``whoosh.lang.porter`` turns running into runn); Japanese morphemes are replaced by their
  ``normalized_form`` (引越し/引っ越し, 申込/申し込み, 子ども/子供 and サーバ/サーバー all meet). The
  Latin path must not use ``normalized_form``: Sudachi maps "running" to ランニング and Ｗｅｂ to ウェブ.
- SplitMode.A: modes B and C keep 支援策 as one word, so 子育て支援 would not find 子育て支援策;
  A splits it into 子育て / 支援 / 策. Particles, auxiliaries and symbols are dropped (precision, size).
- Sudachi reads 引っ越し in 引っ越し手続き as the verb 引っ越す; a verb in 連用形 that is also a noun
  on its own is indexed under both, so the query 引っ越し (a noun) finds it.
- Katakana long vowels: a trailing ー of a katakana word of 4+ characters is dropped (JIS Z 8301
  style), so コンピューター/コンピュータ meet even for words Sudachi does not know.
- Kana folding: a normalized form written only in hiragana is folded to katakana, so ごみ meets ゴミ
  (Sudachi keeps them apart). It costs nothing in precision on the relevance set.
- The bigram field (NFKC, lowercase, hiragana→katakana, CJK character bigrams, Latin words stemmed)
  catches what the dictionary splits wrongly or does not know (new coined compounds, names). It is ranked
  lower because it also finds 京都 inside 東京都.
- bench/search_bench.py, 100,000 synthetic documents (an earlier, denser corpus where each query matched
  5-16% of the documents): ``text_query`` median 175 ms / p95 566 ms; ``search_text`` median 68 ms / p95
  184 ms: Whoosh scores every match in Python. On the realistic corpus (three documents in ten about the
  query themes, the rest about a city's other business; 1.25 s per 1,000 documents with procs=2, 123 MB),
  quiet machine: ``search_text`` median 9.1 ms / p95 18.0 ms on one segment (what ``reindex`` writes),
  9.9 / 19.5 ms on two; ``text_query`` median 20.1 ms / p95 70.3 ms. Use ``search_text``. The slowest
  query joins terms found in nearly half the documents (令和６年度: ~100 ms).

Whoosh pickles analyzers into the index, so the tokenizer classes live at module level and the Sudachi
dictionary lives in a per-process, per-thread cache (a Sudachi tokenizer must not be shared by threads).
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from sudachipy import Dictionary, SplitMode
from whoosh.analysis import STOP_WORDS, Token, Tokenizer
from whoosh.fields import TEXT, FieldType
from whoosh.lang.porter2 import stem as porter2_stem
from whoosh.query import And, NullQuery, Or, Query, Term
from whoosh.searching import Results, Searcher

# Sudachi refuses very long inputs; cut texts into pieces well under its limit.
_SUDACHI_CHUNK = 4000
_LATIN = re.compile(r"[0-9a-z\u00c0-\u024f]+")
_LATIN_ONLY = re.compile(r"[0-9A-Za-z\u00c0-\u024f]+")
_CJK_RUN = re.compile(
    r"[\u3005\u3006\u3040-\u309f\u30a0-\u30fa\u30fc-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+"
)
_KATAKANA_WORD = re.compile(r"^[\u30a1-\u30fa\u30fc]+$")
_HIRAGANA_WORD = re.compile(r"^[\u3041-\u3096\u30fc]+$")
_TRAILING_LONG_VOWEL = re.compile(r"([\u30a1-\u30fa\u30fc]{3,})\u30fc(?![\u30a1-\u30fa\u30fc])")
_DROPPED_POS = frozenset({"助詞", "助動詞", "補助記号", "空白", "記号"})
_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(0x3041, 0x3097)}

_local = threading.local()


def _sudachi() -> Any:
    """Return this thread's mode-A Sudachi tokenizer, creating the dictionary on first use."""
    # Keyed by pid too: a writer process forked with procs>1 must not reuse its parent's native handle.
    pid = os.getpid()
    if getattr(_local, "pid", None) != pid:
        _local.tokenizer = Dictionary(dict="core").tokenizer(mode=SplitMode.A)
        _local.pid = pid
    return _local.tokenizer


@lru_cache(maxsize=100_000)
def english_term(word: str) -> str:
    """Return the porter2 stem of a lowercased word."""
    return str(porter2_stem(word))


def fold_katakana(word: str) -> str:
    """Drop the trailing long-vowel mark of a katakana word of four or more characters."""
    if len(word) >= 4 and word.endswith("ー") and _KATAKANA_WORD.match(word):
        return word[:-1]
    return word


@lru_cache(maxsize=100_000)
def japanese_term(normalized: str) -> str:
    """Return the index term for a Sudachi normalized form: kana folded, long vowel dropped."""
    if _HIRAGANA_WORD.match(normalized):
        normalized = normalized.translate(_HIRAGANA_TO_KATAKANA)
    return fold_katakana(normalized)


@lru_cache(maxsize=20_000)
def _nominal_term(surface: str) -> str | None:
    """Return the noun term a verb's 連用形 surface also spells (引っ越し of 引っ越す), if it is one noun."""
    morphemes = _sudachi().tokenize(surface)
    if len(morphemes) == 1 and morphemes[0].part_of_speech()[0] == "名詞":
        return japanese_term(morphemes[0].normalized_form())
    return None


def _chunks(text: str) -> Iterator[tuple[int, str]]:
    """Yield (offset, piece) cuts of ``text`` short enough for Sudachi, cut at line ends when possible."""
    start = 0
    while start < len(text):
        end = min(start + _SUDACHI_CHUNK, len(text))
        if end < len(text):
            newline = text.rfind("\n", start, end)
            if newline > start:
                end = newline + 1
        yield start, text[start:end]
        start = end


def _english_terms(run: str, begin: int) -> Iterator[tuple[str, int, int]]:
    """Yield stemmed, lowercased Latin words of ``run`` that are not stop words."""
    for match in _LATIN.finditer(run.lower()):
        word = match.group()
        if word not in STOP_WORDS:
            yield english_term(word), begin + match.start(), begin + match.end()


def morphological_terms(text: str) -> Iterator[tuple[str, int, int]]:
    """Yield (term, start, end) for the text after NFKC; offsets are in the normalized text."""
    text = unicodedata.normalize("NFKC", text)
    tokenizer = _sudachi()
    for offset, piece in _chunks(text):
        # Sudachi splits ABC123 and 5G into letters and digits; adjacent Latin morphemes are rejoined.
        latin_start = latin_end = -1
        for morpheme in tokenizer.tokenize(piece):
            surface = morpheme.surface()
            begin, end = offset + morpheme.begin(), offset + morpheme.end()
            if _LATIN_ONLY.fullmatch(surface):
                if begin != latin_end:
                    if latin_start >= 0:
                        yield from _english_terms(text[latin_start:latin_end], latin_start)
                    latin_start = begin
                latin_end = end
                continue
            if latin_start >= 0:
                yield from _english_terms(text[latin_start:latin_end], latin_start)
                latin_start = latin_end = -1
            if not _CJK_RUN.search(surface):
                yield from _english_terms(surface, begin)
                continue
            pos = morpheme.part_of_speech()
            if pos[0] in _DROPPED_POS:
                continue
            term = japanese_term(morpheme.normalized_form())
            yield term, begin, end
            # Sudachi reads 引っ越し手続き as the verb 引っ越す; the query 引っ越し is the noun.
            if pos[0] == "動詞" and pos[5].startswith("連用形"):
                nominal = _nominal_term(surface)
                if nominal is not None and nominal != term:
                    yield nominal, begin, end
        if latin_start >= 0:
            yield from _english_terms(text[latin_start:latin_end], latin_start)


def bigram_terms(text: str) -> Iterator[tuple[str, int, int]]:
    """Yield (term, start, end): CJK character bigrams (or a lone character) and stemmed Latin words."""
    text = unicodedata.normalize("NFKC", text).lower()
    for match in re.finditer(r"[0-9a-z\u00c0-\u024f]+|" + _CJK_RUN.pattern, text):
        run = match.group()
        begin = match.start()
        if _LATIN.fullmatch(run):
            yield from _english_terms(run, begin)
            continue
        folded = _TRAILING_LONG_VOWEL.sub(r"\1", run.translate(_HIRAGANA_TO_KATAKANA))
        if len(folded) == 1:
            yield folded, begin, begin + 1
        for i in range(len(folded) - 1):
            yield folded[i : i + 2], begin + i, begin + i + 2


class _TermTokenizer(Tokenizer):  # type: ignore[misc]  # whoosh is untyped
    """Base Whoosh tokenizer over a term generator; holds no state so Whoosh can pickle it."""

    def terms(self, text: str) -> Iterator[tuple[str, int, int]]:
        """Yield (term, start, end) for ``text``."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        """Yield one reused Whoosh token per term, as Whoosh tokenizers do."""
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for term, start, end in self.terms(value):
            token.text = term
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = term
            if positions:
                token.pos = pos
                pos += 1
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


class MorphologicalTokenizer(_TermTokenizer):
    """Sudachi mode-A normalized forms for Japanese, porter2 stems for Latin words."""

    def terms(self, text: str) -> Iterator[tuple[str, int, int]]:
        """Yield morphological terms."""
        return morphological_terms(text)


class BigramTokenizer(_TermTokenizer):
    """CJK character bigrams and stemmed Latin words."""

    def terms(self, text: str) -> Iterator[tuple[str, int, int]]:
        """Yield bigram terms."""
        return bigram_terms(text)


def japanese_analyzer() -> MorphologicalTokenizer:
    """Return the morphological analyzer (a Whoosh tokenizer is a complete analyzer)."""
    return MorphologicalTokenizer()


def bigram_analyzer() -> BigramTokenizer:
    """Return the character-bigram fallback analyzer."""
    return BigramTokenizer()


# BM25F field boosts: a title hit is the strongest signal; the body's morphological terms next; the
# bigram field only breaks ties and catches unknown words, so its matches never outrank a word match.
TITLE_BOOST = 3.0
TEXT_BOOST = 2.0
BIGRAM_BOOST = 0.5


def schema_fields() -> dict[str, FieldType]:
    """Return the text fields of the index; feed ``text_bigram`` the title and the body together."""
    return {
        "title": TEXT(analyzer=japanese_analyzer(), field_boost=TITLE_BOOST, stored=True),
        "text": TEXT(analyzer=japanese_analyzer(), field_boost=TEXT_BOOST, stored=False),
        "text_bigram": TEXT(analyzer=bigram_analyzer(), field_boost=BIGRAM_BOOST, stored=False),
    }


def _unique(terms: Iterator[tuple[str, int, int]]) -> list[str]:
    """Return the distinct terms in first-seen order."""
    return list(dict.fromkeys(term for term, _, _ in terms))


def morphological_query(user_text: str) -> Query:
    """Every morphological term of the user's text, each in the title or the body."""
    terms = _unique(morphological_terms(user_text))
    if not terms:
        return NullQuery
    return And([Or([Term("title", term), Term("text", term)]) for term in terms])


def bigram_query(user_text: str) -> Query:
    """Every bigram of the user's text in the bigram field."""
    terms = _unique(bigram_terms(user_text))
    if not terms:
        return NullQuery
    return And([Term("text_bigram", term) for term in terms])


def text_query(user_text: str) -> Query:
    """The morphological match OR the bigram match, built without a query parser (no syntax errors)."""
    return Or([morphological_query(user_text), bigram_query(user_text)]).normalize()


def search_text(searcher: Searcher, user_text: str, **options: Any) -> Results:
    """Search the morphological fields, and the bigram field only when they find nothing.

    ``options`` go to ``Searcher.search`` (``limit``, ``filter``, ``mask`` ...). This is the fast path
    measured in bench/search_bench.py; ``text_query`` ranks the same on the relevance set but is slower.
    """
    results = searcher.search(morphological_query(user_text), **options)
    if results.is_empty():
        results = searcher.search(bigram_query(user_text), **options)
    return results
