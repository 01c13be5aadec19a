"""Reading challenges for the public: filters, sort and pages in a fixed, small number of queries."""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piccolo.query import Select

from app.accounts.tables import Bureau
from app.challenges.lifecycle import PUBLIC_STATUSES, PublicStage, Status
from app.challenges.tables import Challenge, ChallengeTheme

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
SORTS = ("deadline", "newest")
LIST_COLUMNS = (
    Challenge.id,
    Challenge.slug,
    Challenge.bureau,
    Challenge.bureau.slug.as_alias("bureau_slug"),
    Challenge.bureau.name_ja.as_alias("bureau_name_ja"),
    Challenge.bureau.name_en.as_alias("bureau_name_en"),
    Challenge.status,
    Challenge.author,
    Challenge.title_ja,
    Challenge.title_en,
    Challenge.summary_ja,
    Challenge.summary_en,
    Challenge.poc_budget_jpy,
    Challenge.selection_count,
    Challenge.applications_open_at,
    Challenge.questions_close_at,
    Challenge.applications_close_at,
    Challenge.published_at,
    Challenge.updated_at,
    Challenge.material_change_at,
)


@dataclass(frozen=True)
class ChallengeFilters:
    """What a visitor (or an API client) narrows the public list by."""

    bureau: str | None = None
    theme: str | None = None
    stage: PublicStage | None = None
    sort: str = "deadline"
    updated_since: datetime | None = None


def stage_condition(stage: PublicStage | None, now: datetime) -> Any:
    """SQL for a public stage; a published challenge past its deadline counts as closed (審査中)."""
    published = Challenge.status == Status.PUBLISHED.value
    past_deadline = Challenge.applications_close_at <= now
    if stage is PublicStage.OPEN:
        return published & (
            Challenge.applications_close_at.is_null() | (Challenge.applications_close_at > now)
        )
    if stage is PublicStage.REVIEWING:
        return Challenge.status.is_in([Status.CLOSED.value, Status.JUDGING.value]) | (
            published & past_deadline
        )
    if stage is PublicStage.RESULTS:
        return Challenge.status == Status.RESULTS_PUBLISHED.value
    if stage is PublicStage.ENDED:
        return Challenge.status == Status.ARCHIVED.value
    return Challenge.status.is_in([status.value for status in PUBLIC_STATUSES])


def filtered(query: Select[Any], filters: ChallengeFilters, now: datetime) -> Select[Any]:
    """Apply the visitor's filters to a select of challenges."""
    query = query.where(stage_condition(filters.stage, now))
    if filters.bureau:
        query = query.where(Challenge.bureau.slug == filters.bureau)
    if filters.theme:
        tagged = ChallengeTheme.select(ChallengeTheme.challenge).where(ChallengeTheme.theme == filters.theme)
        query = query.where(Challenge.id.is_in(tagged))
    if filters.updated_since:
        query = query.where(Challenge.updated_at >= filters.updated_since)
    if filters.sort == "newest":
        return query.order_by(Challenge.published_at, Challenge.id, ascending=False)
    return query.order_by(Challenge.applications_close_at, Challenge.id)


def encode_cursor(offset: int) -> str:
    """An opaque cursor for the next page."""
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The offset behind a cursor; a malformed cursor starts from the beginning."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        offset = int(text.removeprefix("o:")) if text.startswith("o:") else 0
    except (ValueError, UnicodeDecodeError):
        return 0
    return max(offset, 0)


@dataclass(frozen=True)
class ChallengePage:
    """One page of challenges, with their themes and where the next page starts."""

    rows: list[dict[str, Any]]
    next_cursor: str | None


async def public_challenges(
    filters: ChallengeFilters, *, now: datetime, limit: int = PAGE_SIZE, cursor: str | None = None
) -> ChallengePage:
    """Published challenges matching `filters`: two queries (rows, then their themes)."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    offset = decode_cursor(cursor)
    query = filtered(Challenge.select(*LIST_COLUMNS), filters, now).limit(limit + 1).offset(offset)
    rows = await query.run()
    more = len(rows) > limit
    rows = rows[:limit]
    await attach_themes(rows)
    return ChallengePage(rows=rows, next_cursor=encode_cursor(offset + limit) if more else None)


async def attach_themes(rows: Sequence[dict[str, Any]]) -> None:
    """Add each row's sorted themes under "themes" (one query for all rows)."""
    if not rows:
        return
    ids = [row["id"] for row in rows]
    themes = (
        await ChallengeTheme.select(ChallengeTheme.challenge, ChallengeTheme.theme)
        .where(ChallengeTheme.challenge.is_in(ids))
        .run()
    )
    by_challenge: dict[int, list[str]] = {}
    for theme in themes:
        by_challenge.setdefault(theme["challenge"], []).append(theme["theme"])
    for row in rows:
        row["themes"] = sorted(by_challenge.get(row["id"], []))


@dataclass(frozen=True)
class FilterOptions:
    """Bureaus and themes offered as filters."""

    bureaus: list[dict[str, Any]]
    themes: list[str]


_options_cache: tuple[float, FilterOptions] | None = None
OPTIONS_TTL_SECONDS = 60.0


async def filter_options() -> FilterOptions:
    """Bureaus and themes, cached briefly: they change rarely and every list page shows them."""
    global _options_cache  # a process-wide cache of public, rarely changing data
    if _options_cache is not None and time.monotonic() - _options_cache[0] < OPTIONS_TTL_SECONDS:
        return _options_cache[1]
    bureaus = await Bureau.select(Bureau.slug, Bureau.name_ja, Bureau.name_en).order_by(Bureau.id).run()
    themes = await ChallengeTheme.select(ChallengeTheme.theme).distinct().order_by(ChallengeTheme.theme).run()
    options = FilterOptions(bureaus=bureaus, themes=[row["theme"] for row in themes])
    _options_cache = (time.monotonic(), options)
    return options


def forget_filter_options() -> None:
    """Drop the cached options after a change to bureaus or themes."""
    global _options_cache
    _options_cache = None
