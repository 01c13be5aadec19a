"""What the catalogue's open data shows: response types, reading published entries and adoptions, the CSV.

Drafts, entries in review and unconfirmed adoptions never appear. api.py serves these; the Atom feed
(catalog_feeds.py) reuses the reading.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar.exceptions import NotFoundException
from piccolo.columns.combination import WhereRaw

from app.catalog.codes import CodeProblem, code_problem, normalize_code
from app.catalog.tables import Adoption, Municipality, Output
from app.challenges.api import (
    LICENSE,
    LICENSE_URL,
    Localized,
    RichText,
    as_utc,
    bad_request,
)
from app.challenges.lifecycle import PUBLIC_STATUSES

CATALOG_LICENSE_NOTE = (
    "Licence: the data is open data under Creative Commons Attribution 4.0 International (CC BY 4.0, "
    f"{LICENSE_URL}). Reuse it freely, crediting 「協創 (Kyoso)」 and linking to the entry's `url`. Only "
    "published catalogue entries and adoptions their maintainer confirmed appear; drafts, entries under "
    "review and unconfirmed adoptions never do. The software itself is under its own `license`."
)
PUBLISHED = "published"
DUMP_MAX_ROWS = 50_000
# publiccode.yml categories are lower-case words joined by hyphens; anything else cannot match one.
CATEGORY_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
PUBLIC_CHALLENGE_STATUSES = frozenset(status.value for status in PUBLIC_STATUSES)


class DevelopmentStatus(StrEnum):
    """publiccode.yml's developmentStatus."""

    CONCEPT = "concept"
    DEVELOPMENT = "development"
    BETA = "beta"
    STABLE = "stable"
    OBSOLETE = "obsolete"


# Response types (their JSON schemas appear under /schema/openapi.json).


class MunicipalityRef(msgspec.Struct):
    """A local government by its 全国地方公共団体コード (6 digits with check digit)."""

    code: str
    prefecture: str
    name: Annotated[str, msgspec.Meta(description="Empty for a prefecture itself.")]


class OutputRef(msgspec.Struct):
    """A catalogue entry, by name."""

    slug: str
    url: str
    name: str


class OutputItem(msgspec.Struct, kw_only=True):
    """A published catalogue entry as listed."""

    slug: str
    url: str
    name: str
    short_description: Localized
    repository_url: str
    landing_url: str
    license: Annotated[str, msgspec.Meta(description="SPDX expression of the software's licence.")]
    license_is_open: Annotated[bool, msgspec.Meta(description="Every licence in it is OSI/FSF-approved.")]
    development_status: Annotated[
        str,
        msgspec.Meta(
            description="publiccode.yml developmentStatus: concept, development, beta, stable, obsolete."
        ),
    ]
    software_type: str
    categories: list[str]
    platforms: list[str]
    maintainer: str
    source_challenge: Annotated[
        str | None, msgspec.Meta(description="Slug of the challenge it came from, when public.")
    ]
    version: str
    release_date: date | None
    adoption_count: Annotated[int, msgspec.Meta(description="Confirmed adoptions in use.")]
    published_at: datetime | None
    updated_at: datetime | None


class OutputList(msgspec.Struct, kw_only=True):
    """One page of entries; pass `next_cursor` as `cursor` for the next page (null on the last)."""

    items: list[OutputItem]
    next_cursor: str | None
    data_license: str = LICENSE
    data_license_url: str = LICENSE_URL


class AdoptionItem(msgspec.Struct, kw_only=True):
    """A confirmed adoption of an output by a municipality."""

    municipality: MunicipalityRef
    status: Annotated[str, msgspec.Meta(description="adopted, evaluating or stopped.")]
    deployment_url: str
    fork_url: str
    confirmed_at: datetime | None


class OutputDetail(OutputItem, kw_only=True):
    """A published entry with its long description, screenshots and confirmed adoptions."""

    long_description: RichText
    screenshots: list[str]
    adoptions: list[AdoptionItem]
    data_license: str = LICENSE
    data_license_url: str = LICENSE_URL


class MunicipalityAdoption(msgspec.Struct, kw_only=True):
    """An output a municipality adopted (confirmed by its maintainer)."""

    output: OutputRef
    status: Annotated[str, msgspec.Meta(description="adopted, evaluating or stopped.")]
    deployment_url: str
    fork_url: str
    confirmed_at: datetime | None


class MunicipalityAdoptions(msgspec.Struct, kw_only=True):
    """A municipality's confirmed adoptions of published outputs."""

    municipality: MunicipalityRef
    items: list[MunicipalityAdoption]
    data_license: str = LICENSE
    data_license_url: str = LICENSE_URL


class CatalogEntry(OutputItem, kw_only=True):
    """An entry of the dump, with its confirmed adoptions."""

    adoptions: list[AdoptionItem]


class CatalogDump(msgspec.Struct, kw_only=True):
    """Every published entry with its confirmed adoptions."""

    generated_at: datetime
    outputs: list[CatalogEntry]
    data_license: str = LICENSE
    data_license_url: str = LICENSE_URL


# Reading.

ITEM_COLUMNS = (
    Output.id,
    Output.slug,
    Output.name,
    Output.short_description_ja,
    Output.short_description_en,
    Output.repository_url,
    Output.landing_url,
    Output.license,
    Output.license_is_open,
    Output.development_status,
    Output.software_type,
    Output.categories,
    Output.platforms,
    Output.maintainer_name,
    Output.maintainer_organization.name_ja.as_alias("maintainer_organization_name"),
    Output.source_challenge.slug.as_alias("source_challenge_slug"),
    Output.source_challenge.status.as_alias("source_challenge_status"),
    Output.version,
    Output.release_date,
    Output.adoption_count,
    Output.published_at,
    Output.updated_at,
)
DETAIL_COLUMNS = (*ITEM_COLUMNS, Output.long_description_ja, Output.long_description_en, Output.screenshots)


def clean_category(category: str | None) -> str | None:
    """A category filter, or None; anything that cannot be a publiccode.yml category is a 400."""
    if not category:
        return None
    if not CATEGORY_PATTERN.fullmatch(category):
        raise bad_request("category", "must be a publiccode.yml category: lower-case words joined by hyphens")
    return category


async def select_outputs(
    *,
    category: str | None = None,
    development_status: DevelopmentStatus | None = None,
    license_open: bool | None = None,
    updated_since: datetime | None = None,
    limit: int,
    offset: int = 0,
    columns: Sequence[Any] = ITEM_COLUMNS,
) -> list[dict[str, Any]]:
    """Published entries matching the filters (one query), in the order they were catalogued.

    Id order: an entry published while a harvester pages through lands on a later page, never shifting
    the ones it has not read yet.
    """
    query = Output.select(*columns).where(Output.status == PUBLISHED)
    if category:
        # The pattern admits no LIKE wildcards, so a quoted category matches only itself in the JSON list.
        # PostgreSQL's json type has no LIKE: compare its text (kept as written, so quotes are there).
        query = query.where(WhereRaw('CAST("output"."categories" AS TEXT) LIKE {}', f'%"{category}"%'))
    if development_status is not None:
        query = query.where(Output.development_status == development_status.value)
    if license_open is not None:
        query = query.where(Output.license_is_open == license_open)
    if updated_since is not None:
        query = query.where(Output.updated_at >= updated_since)
    query = query.order_by(Output.id).limit(limit).output(load_json=True)
    if offset:
        query = query.offset(offset)
    rows: list[dict[str, Any]] = await query.run()
    return rows


def confirmed_adoptions_query(*, newest_first: bool = False) -> Any:
    """Confirmed adoptions of published outputs with their output and municipality, by confirmation."""
    return (
        Adoption.select(
            Adoption.id,
            Adoption.output,
            Adoption.output.slug.as_alias("output_slug"),
            Adoption.output.name.as_alias("output_name"),
            Adoption.municipality.code.as_alias("municipality_code"),
            Adoption.municipality.prefecture.as_alias("municipality_prefecture"),
            Adoption.municipality.name.as_alias("municipality_name"),
            Adoption.status,
            Adoption.deployment_url,
            Adoption.fork_url,
            Adoption.confirmed_at,
        )
        .where(Adoption.confirmed_at.is_not_null() & (Adoption.output.status == PUBLISHED))
        .order_by(Adoption.confirmed_at, Adoption.id, ascending=not newest_first)
    )


async def confirmed_adoptions(output_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Confirmed adoptions of published outputs (of `output_ids`, or all), oldest confirmation first."""
    query = confirmed_adoptions_query()
    if output_ids is not None:
        if not output_ids:
            return []
        query = query.where(Adoption.output.is_in(list(output_ids)))
    rows: list[dict[str, Any]] = await query.run()
    return rows


def strings(value: Any) -> list[str]:
    """A stored JSON list of strings, tolerating odd stored values."""
    if isinstance(value, str):
        try:
            value = json.loads(value or "[]")
        except ValueError:
            return []
    return (
        [str(item) for item in value if isinstance(item, str | int | float)]
        if isinstance(value, list)
        else []
    )


def output_url(base_url: str, slug: str) -> str:
    """The absolute address of an entry's page."""
    return f"{base_url}/catalog/{quote(slug, safe='')}"


def item_fields(row: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    """The fields of OutputItem for a row selected with ITEM_COLUMNS."""
    challenge_public = row["source_challenge_status"] in PUBLIC_CHALLENGE_STATUSES
    return {
        "slug": row["slug"],
        "url": output_url(base_url, row["slug"]),
        "name": row["name"],
        "short_description": Localized(
            ja=row["short_description_ja"] or "", en=row["short_description_en"] or ""
        ),
        "repository_url": row["repository_url"] or "",
        "landing_url": row["landing_url"] or "",
        "license": row["license"] or "",
        "license_is_open": bool(row["license_is_open"]),
        "development_status": row["development_status"] or "",
        "software_type": row["software_type"] or "",
        "categories": strings(row["categories"]),
        "platforms": strings(row["platforms"]),
        "maintainer": row["maintainer_organization_name"] or row["maintainer_name"] or "",
        "source_challenge": row["source_challenge_slug"] if challenge_public else None,
        "version": row["version"] or "",
        "release_date": row["release_date"],
        "adoption_count": row["adoption_count"] or 0,
        "published_at": as_utc(row["published_at"]),
        "updated_at": as_utc(row["updated_at"]),
    }


def municipality_ref(row: Mapping[str, Any]) -> MunicipalityRef:
    """The municipality of an adoption row."""
    return MunicipalityRef(
        code=row["municipality_code"],
        prefecture=row["municipality_prefecture"],
        name=row["municipality_name"],
    )


def adoption_item(row: Mapping[str, Any]) -> AdoptionItem:
    """An adoption row as the API shows it."""
    return AdoptionItem(
        municipality=municipality_ref(row),
        status=row["status"],
        deployment_url=row["deployment_url"] or "",
        fork_url=row["fork_url"] or "",
        confirmed_at=as_utc(row["confirmed_at"]),
    )


def by_output(adoptions: Sequence[Mapping[str, Any]]) -> dict[int, list[Mapping[str, Any]]]:
    """Adoption rows grouped by output id."""
    grouped: dict[int, list[Mapping[str, Any]]] = {}
    for adoption in adoptions:
        grouped.setdefault(adoption["output"], []).append(adoption)
    return grouped


async def municipality_of(code: str) -> dict[str, Any]:
    """The municipality with this code: 400 for a malformed code, 404 for one no municipality has."""
    problem = code_problem(code)
    if problem is CodeProblem.NOT_SIX_DIGITS:
        raise bad_request("code", "must be a 全国地方公共団体コード of six digits, e.g. 131016")
    if problem is CodeProblem.WRONG_CHECK_DIGIT:
        raise bad_request("code", "has a wrong check digit (the sixth digit); check the code")
    row: dict[str, Any] | None = await (
        Municipality.select(Municipality.id, Municipality.code, Municipality.prefecture, Municipality.name)
        .where(Municipality.code == normalize_code(code))
        .first()
        .run()
    )
    if row is None:
        raise NotFoundException(detail="No municipality has this code.")
    return row
