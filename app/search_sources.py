"""The searchable content of every feature, listed explicitly (as asgi.py lists controllers)."""

from __future__ import annotations

from datetime import datetime

from app.catalog.search_source import OutputSource
from app.challenges.search_source import ChallengeSource
from app.judging.search_source import ResultSource
from app.search.documents import SearchSource
from app.search.indexer import apply_pending, rebuild
from app.submissions.search_source import SubmissionSource

SEARCH_SOURCES: tuple[SearchSource, ...] = (
    ChallengeSource(),
    OutputSource(),
    ResultSource(),
    SubmissionSource(),
)


async def apply_search_changes(now: datetime) -> int:
    """Scheduled job: apply the search change log to this instance's index; returns the rows applied."""
    report = await apply_pending(SEARCH_SOURCES)
    return report.applied


async def reindex_search() -> int:
    """Rebuild this instance's index from the database; returns the documents indexed."""
    return await rebuild(SEARCH_SOURCES)
