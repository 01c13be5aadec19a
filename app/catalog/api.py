"""Open data of the catalogue: published outputs and confirmed adoptions as JSON and CSV under CC BY 4.0.

Drafts, entries in review and unconfirmed adoptions never appear. Errors are JSON (the challenges API's
handler) and pages follow the same opaque cursors.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from litestar import Controller, MediaType, Response, get
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.openapi import ResponseSpec
from litestar.openapi.spec.enums import OpenAPIFormat
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_404_NOT_FOUND

from app.catalog.open_data import (
    CATALOG_LICENSE_NOTE,
    DETAIL_COLUMNS,
    DUMP_MAX_ROWS,
    PUBLISHED,
    CatalogDump,
    CatalogEntry,
    DevelopmentStatus,
    MunicipalityAdoption,
    MunicipalityAdoptions,
    MunicipalityRef,
    OutputDetail,
    OutputItem,
    OutputList,
    OutputRef,
    adoption_item,
    by_output,
    clean_category,
    confirmed_adoptions,
    confirmed_adoptions_query,
    item_fields,
    municipality_of,
    output_url,
    select_outputs,
    strings,
)
from app.catalog.tables import Adoption, Output
from app.challenges.api import (
    API_EXCEPTION_HANDLERS,
    ERROR_RESPONSES,
    OPEN_DATA_TAGS,
    ApiError,
    Localized,
    RichText,
    as_utc,
    jst,
    parse_cursor,
    parse_instant,
    safe_cell,
    valid_slug,
)
from app.challenges.markdown import render_markdown
from app.challenges.queries import MAX_PAGE_SIZE, PAGE_SIZE, encode_cursor
from app.clock import utcnow
from app.settings import Settings

# CSV.

OUTPUT_CSV_COLUMNS = (
    "slug",
    "name",
    "short_description_ja",
    "short_description_en",
    "repository_url",
    "landing_url",
    "license",
    "license_is_open",
    "development_status",
    "software_type",
    "categories",
    "platforms",
    "maintainer",
    "source_challenge",
    "version",
    "release_date",
    "adoption_count",
    "published_at_jst",
    "updated_at_jst",
    "url",
)
ADOPTION_CSV_COLUMNS = (
    "municipality_code",
    "municipality_prefecture",
    "municipality_name",
    "adoption_status",
    "deployment_url",
    "fork_url",
    "adoption_confirmed_at_jst",
)
CSV_COLUMNS = (*OUTPUT_CSV_COLUMNS, *ADOPTION_CSV_COLUMNS)


def output_cells(item: OutputItem, row: Mapping[str, Any]) -> list[Any]:
    """The output part of a CSV line."""
    return [
        item.slug,
        item.name,
        item.short_description.ja,
        item.short_description.en,
        item.repository_url,
        item.landing_url,
        item.license,
        "true" if item.license_is_open else "false",
        item.development_status,
        item.software_type,
        ";".join(item.categories),
        ";".join(item.platforms),
        item.maintainer,
        item.source_challenge or "",
        item.version,
        item.release_date.isoformat() if item.release_date else "",
        item.adoption_count,
        jst(row["published_at"]),
        jst(row["updated_at"]),
        item.url,
    ]


def dump_csv(
    rows: Sequence[Mapping[str, Any]], adoptions: Sequence[Mapping[str, Any]], base_url: str
) -> bytes:
    """One line per output and confirmed adoption (an output no one adopted yet: one line, empty adoption)."""
    grouped = by_output(adoptions)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        cells = output_cells(OutputItem(**item_fields(row, base_url)), row)
        lines: list[Mapping[str, Any] | None] = [*grouped.get(row["id"], [])] or [None]
        for adoption in lines:
            extra: list[Any] = [""] * len(ADOPTION_CSV_COLUMNS)
            if adoption is not None:
                extra = [
                    adoption["municipality_code"],
                    adoption["municipality_prefecture"],
                    adoption["municipality_name"],
                    adoption["status"],
                    adoption["deployment_url"],
                    adoption["fork_url"],
                    jst(adoption["confirmed_at"]),
                ]
            writer.writerow([safe_cell(value) for value in (*cells, *extra)])
    return buffer.getvalue().encode("utf-8-sig")  # a BOM, so Excel in Japan reads UTF-8


# Parameters.

CategoryParam = Annotated[
    str | None, QueryParameter(description="A publiccode.yml category, e.g. it-development.", max_length=64)
]
DevelopmentStatusParam = Annotated[
    DevelopmentStatus | None, QueryParameter(description="publiccode.yml developmentStatus.")
]
LicenseOpenParam = Annotated[
    bool | None, QueryParameter(description="true: only entries whose every licence is OSI/FSF-approved.")
]
UpdatedSinceParam = Annotated[
    str | None,
    QueryParameter(
        description=(
            "Only entries updated at or after this instant: ISO 8601 with a time zone (send + as %2B)."
        ),
        format=OpenAPIFormat.DATE_TIME,
        max_length=64,
    ),
]
LimitParam = Annotated[int, QueryParameter(description="Items per page.", ge=1, le=MAX_PAGE_SIZE)]
CursorParam = Annotated[
    str | None, QueryParameter(description="`next_cursor` of the previous page.", max_length=100)
]


class CatalogOpenDataController(Controller):
    """The catalogue's open data API (JSON) and its dumps (CSV, JSON)."""

    tags = OPEN_DATA_TAGS
    exception_handlers = API_EXCEPTION_HANDLERS
    # Public data for any site or app: readable cross-origin, never with cookies (no credentials).
    response_headers = [ResponseHeader(name="Access-Control-Allow-Origin", value="*")]  # noqa: RUF012
    opt = {"exclude_from_csrf": True}  # noqa: RUF012 (GET only; no CSRF cookie on open data)

    @get(
        "/api/v1/outputs",
        name="open_data_outputs",
        media_type=MediaType.JSON,
        summary="List published catalogue entries",
        description=(
            "Published open-source outputs other municipalities can reuse, in the order they were "
            "catalogued, a page at a time: follow `next_cursor` until it is null. Filters combine. "
            "Times are UTC (ISO 8601, `Z`).\n\n" + CATALOG_LICENSE_NOTE
        ),
        responses=ERROR_RESPONSES,
    )
    async def list_outputs(
        self,
        settings: NamedDependency[Settings],
        category: CategoryParam = None,
        development_status: DevelopmentStatusParam = None,
        license_open: LicenseOpenParam = None,
        updated_since: UpdatedSinceParam = None,
        limit: LimitParam = PAGE_SIZE,
        cursor: CursorParam = None,
    ) -> OutputList:
        """A page of entries (one query)."""
        wanted = clean_category(category)
        since = parse_instant("updated_since", updated_since)
        offset = parse_cursor(cursor)
        rows = await select_outputs(
            category=wanted,
            development_status=development_status,
            license_open=license_open,
            updated_since=since,
            limit=limit + 1,
            offset=offset,
        )
        more = len(rows) > limit
        return OutputList(
            items=[OutputItem(**item_fields(row, settings.base_url)) for row in rows[:limit]],
            next_cursor=encode_cursor(offset + limit) if more else None,
        )

    @get(
        "/api/v1/outputs/{slug:str}",
        name="open_data_output",
        media_type=MediaType.JSON,
        summary="One published catalogue entry",
        description=(
            "A published entry with its long description as Markdown and sanitized HTML, its screenshots "
            "and the adoptions its maintainer confirmed.\n\n" + CATALOG_LICENSE_NOTE
        ),
        responses={
            HTTP_404_NOT_FOUND: ResponseSpec(
                data_container=ApiError, description="No published entry has this slug."
            )
        },
    )
    async def output(self, settings: NamedDependency[Settings], slug: FromPath[str]) -> OutputDetail:
        """One entry (two queries: the row, its confirmed adoptions)."""
        row = None
        if valid_slug(slug):
            row = await (
                Output.select(*DETAIL_COLUMNS)
                .where((Output.status == PUBLISHED) & (Output.slug == slug))
                .first()
                .output(load_json=True)
                .run()
            )
        if row is None:
            raise NotFoundException(detail="No published entry has this slug.")
        ja, en = row["long_description_ja"] or "", row["long_description_en"] or ""
        return OutputDetail(
            **item_fields(row, settings.base_url),
            long_description=RichText(
                markdown=Localized(ja=ja, en=en),
                html=Localized(ja=str(render_markdown(ja)), en=str(render_markdown(en))),
            ),
            screenshots=strings(row["screenshots"]),
            adoptions=[adoption_item(adoption) for adoption in await confirmed_adoptions([row["id"]])],
        )

    @get(
        "/api/v1/municipalities/{code:str}/adoptions",
        name="open_data_municipality_adoptions",
        media_type=MediaType.JSON,
        summary="What a municipality adopted",
        description=(
            "The published entries a municipality adopted, is evaluating or stopped using, as confirmed "
            "by each entry's maintainer, oldest confirmation first. `code` is the 全国地方公共団体コード "
            "(six digits, the last a check digit; full-width digits and hyphens are accepted).\n\n"
            + CATALOG_LICENSE_NOTE
        ),
        responses={
            HTTP_400_BAD_REQUEST: ResponseSpec(data_container=ApiError, description="The code is malformed."),
            HTTP_404_NOT_FOUND: ResponseSpec(
                data_container=ApiError, description="No municipality has this code."
            ),
        },
    )
    async def municipality_adoptions(
        self, settings: NamedDependency[Settings], code: FromPath[str]
    ) -> MunicipalityAdoptions:
        """One municipality's confirmed adoptions (two queries)."""
        municipality = await municipality_of(code)
        rows = await confirmed_adoptions_query().where(Adoption.municipality == municipality["id"]).run()
        return MunicipalityAdoptions(
            municipality=MunicipalityRef(
                code=municipality["code"], prefecture=municipality["prefecture"], name=municipality["name"]
            ),
            items=[
                MunicipalityAdoption(
                    output=OutputRef(
                        slug=row["output_slug"],
                        url=output_url(settings.base_url, row["output_slug"]),
                        name=row["output_name"],
                    ),
                    status=row["status"],
                    deployment_url=row["deployment_url"] or "",
                    fork_url=row["fork_url"] or "",
                    confirmed_at=as_utc(row["confirmed_at"]),
                )
                for row in rows
            ],
        )

    @get(
        "/catalog/dump.json",
        name="open_data_catalog_json",
        media_type=MediaType.JSON,
        summary="The whole catalogue with adoptions (JSON)",
        description=(
            f"Every published entry (at most {DUMP_MAX_ROWS:,}) with its confirmed adoptions, in one "
            "document. Times are UTC.\n\n" + CATALOG_LICENSE_NOTE
        ),
    )
    async def dump_json(self, settings: NamedDependency[Settings]) -> Response[CatalogDump]:
        """The JSON dump (two queries)."""
        rows = await select_outputs(limit=DUMP_MAX_ROWS)
        grouped = by_output(await confirmed_adoptions())
        dump = CatalogDump(
            generated_at=as_utc(utcnow()) or utcnow(),
            outputs=[
                CatalogEntry(
                    **item_fields(row, settings.base_url),
                    adoptions=[adoption_item(adoption) for adoption in grouped.get(row["id"], [])],
                )
                for row in rows
            ],
        )
        return Response(dump, headers={"Content-Disposition": 'attachment; filename="catalog.json"'})

    @get(
        "/catalog/dump.csv",
        name="open_data_catalog_csv",
        summary="The whole catalogue with adoptions (CSV)",
        description=(
            "One line per published entry and confirmed adoption; an entry no municipality adopted yet has "
            "one line with empty adoption columns. UTF-8 with a BOM for Excel; times are Japan time "
            "(columns ending in _jst); lists are joined with `;`; cells a spreadsheet would run as a "
            "formula start with an apostrophe.\n\n" + CATALOG_LICENSE_NOTE
        ),
    )
    async def dump_csv(self, settings: NamedDependency[Settings]) -> Response[bytes]:
        """The CSV dump (two queries)."""
        rows = await select_outputs(limit=DUMP_MAX_ROWS)
        return Response(
            dump_csv(rows, await confirmed_adoptions(), settings.base_url),
            media_type="text/csv",  # Litestar adds "; charset=utf-8" to text/ types
            headers={"Content-Disposition": 'attachment; filename="catalog.csv"'},
        )


CONTROLLERS = [CatalogOpenDataController]
