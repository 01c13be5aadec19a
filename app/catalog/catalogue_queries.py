"""Reading the catalogue: the public list (filters, sorts, pages) and an entry's page data, in few queries."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.query import Select

from app.catalog.adoptions import COUNTED_STATUS, STATUSES
from app.catalog.tables import Adoption, AdoptionEvent, Collaboration, Municipality, Output
from app.catalog.vitality import Vitality, VitalityInputs, vitality
from app.challenges.queries import decode_cursor, encode_cursor
from app.web.jst import TOKYO

PAGE_SIZE = 20
SORTS = ("reuse", "newest", "name")
# publiccode.yml's developmentStatus values.
DEVELOPMENT_STATUSES = ("concept", "development", "beta", "stable", "obsolete")
# publiccode.yml categories are lower-case words joined by hyphens; anything else cannot match one.
CATEGORY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
LIST_COLUMNS = (
    Output.id,
    Output.slug,
    Output.name,
    Output.short_description_ja,
    Output.short_description_en,
    Output.license,
    Output.license_is_open,
    Output.development_status,
    Output.categories,
    Output.maintainer_name,
    Output.maintainer_organization.name_ja.as_alias("maintainer_name_ja"),
    Output.maintainer_organization.name_en.as_alias("maintainer_name_en"),
    Output.published_at,
    Output.release_date,
    Output.adoption_count,
)


@dataclass(frozen=True)
class CatalogueFilters:
    """What a visitor narrows the catalogue by, and its order."""

    category: str | None = None
    development_status: str | None = None
    open_only: bool = False
    prefecture: str | None = None
    sort: str = "reuse"

    def query(self, cursor: str | None = None) -> dict[str, str]:
        """The filters as query-string values (for links that keep them)."""
        values = {
            "category": self.category or "",
            "development_status": self.development_status or "",
            "open": "1" if self.open_only else "",
            "prefecture": self.prefecture or "",
            "sort": self.sort,
            "cursor": cursor or "",
        }
        return {key: value for key, value in values.items() if value}


def catalogue_filters(
    category: str | None,
    development_status: str | None,
    open_only: str | None,
    prefecture: str | None,
    sort: str | None,
) -> CatalogueFilters:
    """Filters from the query string; unknown values are dropped rather than refused (bookmarks age)."""
    return CatalogueFilters(
        category=category if category and CATEGORY_PATTERN.match(category) else None,
        development_status=development_status if development_status in DEVELOPMENT_STATUSES else None,
        open_only=open_only in {"1", "true", "on"},
        prefecture=prefecture.strip()[:10] if prefecture and prefecture.strip() else None,
        sort=sort if sort in SORTS else "reuse",
    )


def filtered(query: Select[Any], filters: CatalogueFilters) -> Select[Any]:
    """Published entries matching `filters`, in the chosen order."""
    query = query.where(Output.status == "published")
    if filters.category:
        # JSON is text on SQLite and json on PostgreSQL: compare the text form on both. The pattern holds
        # no LIKE wildcards (CATEGORY_PATTERN), so a category matches only itself in quotes.
        query = query.where(WhereRaw("CAST(output.categories AS TEXT) LIKE {}", f'%"{filters.category}"%'))
    if filters.development_status:
        query = query.where(Output.development_status == filters.development_status)
    if filters.open_only:
        query = query.where(Output.license_is_open == True)  # noqa: E712 (Piccolo builds SQL from ==)
    if filters.prefecture:
        adopters = Adoption.select(Adoption.output).where(
            (Adoption.municipality.prefecture == filters.prefecture)
            & Adoption.confirmed_at.is_not_null()
            & (Adoption.status == COUNTED_STATUS)
        )
        query = query.where(Output.id.is_in(adopters))
    if filters.sort == "newest":
        return query.order_by(Output.published_at, Output.id, ascending=False)
    if filters.sort == "name":
        return query.order_by(Output.name, Output.id)
    return query.order_by(Output.adoption_count, Output.published_at, Output.id, ascending=False)


@dataclass(frozen=True)
class OutputPage:
    """One page of entries and where the next page starts."""

    rows: list[dict[str, Any]]
    next_cursor: str | None


async def public_outputs(
    filters: CatalogueFilters, *, limit: int = PAGE_SIZE, cursor: str | None = None
) -> OutputPage:
    """Published entries matching `filters`: one query whatever the page size."""
    offset = decode_cursor(cursor)
    query = filtered(Output.select(*LIST_COLUMNS), filters).limit(limit + 1).offset(offset)
    rows = await query.output(load_json=True).run()
    more = len(rows) > limit
    return OutputPage(rows=rows[:limit], next_cursor=encode_cursor(offset + limit) if more else None)


@dataclass(frozen=True)
class CatalogueOptions:
    """Categories and prefectures offered as filters."""

    categories: list[str]
    prefectures: list[str]


_options_cache: tuple[float, CatalogueOptions] | None = None
OPTIONS_TTL_SECONDS = 60.0


async def catalogue_options() -> CatalogueOptions:
    """Categories in use and the prefectures, cached briefly: they change rarely and every page shows them."""
    global _options_cache  # a process-wide cache of public, rarely changing data
    if _options_cache is not None and time.monotonic() - _options_cache[0] < OPTIONS_TTL_SECONDS:
        return _options_cache[1]
    # PostgreSQL has no equality for json: compare the text form, which both engines can.
    rows = await Output.raw(
        "SELECT DISTINCT CAST(categories AS TEXT) AS categories FROM output WHERE status = {}", "published"
    ).run()
    categories: set[str] = set()
    for row in rows:
        value = row["categories"]
        parsed = json.loads(value) if isinstance(value, str) else value
        categories.update(item for item in parsed or [] if isinstance(item, str))
    prefectures = (
        await Municipality.select(Municipality.prefecture)
        .where(Municipality.name == "")
        .order_by(Municipality.code)
        .run()
    )
    options = CatalogueOptions(sorted(categories), [row["prefecture"] for row in prefectures])
    _options_cache = (time.monotonic(), options)
    return options


def forget_catalogue_options() -> None:
    """Drop the cached options after entries or municipalities change."""
    global _options_cache
    _options_cache = None


@dataclass(frozen=True)
class AdoptionSummary:
    """An entry's adoptions: records grouped by prefecture, counts of confirmed ones by status, timeline."""

    by_prefecture: list[tuple[str, list[dict[str, Any]]]]
    counts: dict[str, int]
    unconfirmed: int
    timeline: list[dict[str, Any]]
    changes_12m: int


async def adoption_summary(output_id: int, *, now: datetime) -> AdoptionSummary:
    """Every adoption record of an entry with its municipality (one query) and the timeline (one query)."""
    adoptions = (
        await Adoption.select(
            Adoption.id,
            Adoption.status,
            Adoption.deployment_url,
            Adoption.fork_url,
            Adoption.recorded_at,
            Adoption.updated_at,
            Adoption.confirmed_at,
            Adoption.municipality.code.as_alias("code"),
            Adoption.municipality.prefecture.as_alias("prefecture"),
            Adoption.municipality.name.as_alias("name"),
        )
        .where(Adoption.output == output_id)
        .order_by(Adoption.municipality.code)
        .run()
    )
    events = (
        await AdoptionEvent.select(
            AdoptionEvent.status,
            AdoptionEvent.happened_at,
            AdoptionEvent.adoption._.municipality._.prefecture.as_alias("prefecture"),
            AdoptionEvent.adoption._.municipality._.name.as_alias("name"),
        )
        .where(AdoptionEvent.adoption.output == output_id)
        .order_by(AdoptionEvent.happened_at, AdoptionEvent.id, ascending=False)
        .run()
    )
    groups: dict[str, list[dict[str, Any]]] = {}
    for adoption in adoptions:  # ordered by code, so prefectures come in their official order
        groups.setdefault(adoption["prefecture"], []).append(adoption)
    confirmed = Counter(row["status"] for row in adoptions if row["confirmed_at"] is not None)
    year_ago = now - timedelta(days=365)
    return AdoptionSummary(
        by_prefecture=list(groups.items()),
        counts={status: confirmed.get(status, 0) for status in STATUSES},
        unconfirmed=sum(1 for row in adoptions if row["confirmed_at"] is None),
        timeline=events,
        changes_12m=sum(1 for event in events if event["happened_at"] >= year_ago),
    )


async def collaboration_status(collaboration_id: int | None) -> str | None:
    """The status of the collaboration behind an entry, if any."""
    if collaboration_id is None:
        return None
    row = (
        await Collaboration.select(Collaboration.status)
        .where(Collaboration.id == collaboration_id)
        .first()
        .run()
    )
    return None if row is None else str(row["status"])


def output_vitality(
    output: dict[str, Any], summary: AdoptionSummary, collaboration: str | None, now: datetime
) -> Vitality:
    """The vitality indicator of an entry from its row and adoption summary."""
    release = output.get("release_date")
    return vitality(
        VitalityInputs(
            today=now.astimezone(TOKYO).date(),
            release_date=release if isinstance(release, date) else None,
            adoption_changes_12m=summary.changes_12m,
            collaboration_status=collaboration,
            commits_90d=output.get("repository_commits_90d"),
            stars=output.get("repository_stars"),
        )
    )
