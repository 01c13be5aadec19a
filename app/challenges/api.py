"""Open data (オープンデータ): published challenges as JSON and CSV under CC BY 4.0, read only.

Only public statuses appear; a published challenge past its deadline shows as closed (審査中). A list is
two queries (rows, then their themes) whatever its length. Feeds (feeds.py) reuse the helpers here.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Controller, MediaType, Request, Response, get
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.openapi.spec.enums import OpenAPIFormat
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_404_NOT_FOUND, HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

from app.challenges.lifecycle import PHASES, ChallengeFacts, PublicStage, effective_status, public_stage
from app.challenges.markdown import plain_text, render_markdown
from app.challenges.queries import (
    LIST_COLUMNS,
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    ChallengeFilters,
    attach_themes,
    decode_cursor,
    encode_cursor,
    filtered,
)
from app.challenges.tables import Challenge, Question
from app.clock import utcnow
from app.settings import Settings
from app.web.jst import TOKYO

log = logging.getLogger(__name__)

LICENSE = "CC BY 4.0"
LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
LICENSE_NOTE = (
    "Licence: the data is open data under Creative Commons Attribution 4.0 International (CC BY 4.0, "
    f"{LICENSE_URL}). Reuse it freely, crediting 「協創 (Kyoso)」 and linking to the challenge's `url`. "
    "Only published challenges appear; drafts and challenges under review never do."
)
CSV_MAX_ROWS = 10_000
# A cursor names an offset; anything far beyond the data is junk, and huge offsets overflow SQL integers.
MAX_CURSOR_OFFSET = 10_000_000
MAX_SLUG_LENGTH = 80
MAX_BUREAU_LENGTH = 60
MAX_THEME_LENGTH = 40
OPEN_DATA_TAGS = ["open data"]
# Spreadsheets run a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

TIMELINE_COLUMNS = (Challenge.screening_at, Challenge.pitch_at, Challenge.results_at)
ITEM_COLUMNS = (*LIST_COLUMNS, *TIMELINE_COLUMNS)
RICH_TEXT_FIELDS = ("body", "background", "problem", "outcome")
DETAIL_COLUMNS = (
    *ITEM_COLUMNS,
    *(getattr(Challenge, f"{name}_{lang}") for name in RICH_TEXT_FIELDS for lang in ("ja", "en")),
    Challenge.eligibility,
)


# Response types (their JSON schemas appear under /schema/openapi.json).


class PublicStatus(StrEnum):
    """The status the public sees (a published challenge past its deadline is `closed`)."""

    PUBLISHED = "published"
    CLOSED = "closed"
    JUDGING = "judging"
    RESULTS_PUBLISHED = "results_published"
    ARCHIVED = "archived"


class Localized(msgspec.Struct):
    """A text in Japanese and English (the English may be empty)."""

    ja: str
    en: str


class BureauRef(msgspec.Struct):
    """The bureau (局) that publishes the challenge."""

    slug: str
    name_ja: str
    name_en: str


class Timeline(msgspec.Struct):
    """The phases of the challenge as UTC instants (null when not set)."""

    applications_open_at: datetime | None
    questions_close_at: datetime | None
    applications_close_at: datetime | None
    screening_at: datetime | None
    pitch_at: datetime | None
    results_at: datetime | None


class ChallengeItem(msgspec.Struct, kw_only=True):
    """A published challenge as listed."""

    slug: str
    url: str
    bureau: BureauRef
    status: PublicStatus
    stage: PublicStage
    title: Localized
    summary: Annotated[Localized, msgspec.Meta(description="Plain text (Markdown removed).")]
    themes: list[str]
    poc_budget_jpy: int
    selection_count: int
    timeline: Timeline
    published_at: datetime | None
    updated_at: datetime


class ChallengeList(msgspec.Struct, kw_only=True):
    """One page of challenges; pass `next_cursor` as `cursor` for the next page (null on the last)."""

    items: list[ChallengeItem]
    next_cursor: str | None
    license: str = LICENSE
    license_url: str = LICENSE_URL


class RichText(msgspec.Struct):
    """A Markdown text and its sanitized HTML rendering, in both languages."""

    markdown: Localized
    html: Localized


class AnsweredQuestion(msgspec.Struct):
    """A question the bureau answered publicly (the asker is never shown)."""

    question: str
    answer: str
    answered_at: datetime


class ChallengeDetail(ChallengeItem, kw_only=True):
    """A published challenge with its texts, eligibility conditions and answered questions."""

    body: RichText
    background: RichText
    problem: RichText
    outcome: RichText
    eligibility: list[Localized]
    questions: list[AnsweredQuestion]
    license: str = LICENSE
    license_url: str = LICENSE_URL


class ErrorItem(msgspec.Struct):
    """What is wrong with one parameter."""

    key: str
    message: str


class ApiError(msgspec.Struct):
    """An error of the open data API."""

    status_code: int
    detail: str
    errors: list[ErrorItem] = msgspec.field(default_factory=list)


# Parameters.

StageParam = Annotated[
    PublicStage | None,
    QueryParameter(
        description="Stage: open (募集中), reviewing (審査中), results (結果発表) or ended (終了).",
    ),
]
BureauParam = Annotated[
    str | None,
    QueryParameter(description="Slug of a bureau, e.g. digital-services.", max_length=MAX_BUREAU_LENGTH),
]
ThemeParam = Annotated[
    str | None, QueryParameter(description="A theme, e.g. 防災.", max_length=MAX_THEME_LENGTH)
]
UpdatedSinceParam = Annotated[
    str | None,
    QueryParameter(
        description=(
            "Only challenges updated at or after this instant: ISO 8601 with a time zone, "
            "e.g. 2026-04-01T00:00:00Z or 2026-04-01T09:00:00%2B09:00."
        ),
        format=OpenAPIFormat.DATE_TIME,
        max_length=64,
    ),
]
LimitParam = Annotated[int, QueryParameter(description="Items per page.", ge=1, le=MAX_PAGE_SIZE)]
CursorParam = Annotated[
    str | None, QueryParameter(description="`next_cursor` of the previous page.", max_length=100)
]


def bad_request(key: str, message: str) -> ValidationException:
    """A 400 naming the parameter at fault."""
    return ValidationException(detail=f"{key}: {message}", extra=[{"key": key, "message": message}])


def clean_text(key: str, value: str | None) -> str | None:
    """A text filter, or None when empty; control characters (NUL breaks PostgreSQL) are refused."""
    if not value:
        return None
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise bad_request(key, "must not contain control characters")
    return value


def parse_instant(key: str, text: str | None) -> datetime | None:
    """An ISO 8601 instant with a time zone, in UTC; a naive or malformed one is a 400."""
    if not text:
        return None
    example = "e.g. 2026-04-01T00:00:00Z or 2026-04-01T09:00:00+09:00 (send + as %2B)"
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise bad_request(key, f"must be an ISO 8601 date and time with a time zone, {example}") from None
    if moment.utcoffset() is None:
        raise bad_request(key, f"needs a time zone (Z or an offset such as +09:00), {example}")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise bad_request(key, "is out of range") from None


def parse_cursor(cursor: str | None) -> int:
    """The offset behind a cursor this API issued; anything else is a 400 (not a silent restart)."""
    if not cursor:
        return 0
    offset = decode_cursor(cursor)
    if encode_cursor(offset) != cursor or offset > MAX_CURSOR_OFFSET:
        raise bad_request("cursor", "is not a cursor from a previous response; omit it to start again")
    return offset


def public_filters(
    stage: PublicStage | None,
    bureau: str | None,
    theme: str | None,
    updated_since: str | None = None,
    *,
    sort: str = "deadline",
) -> ChallengeFilters:
    """The filters of a request, checked."""
    return ChallengeFilters(
        bureau=clean_text("bureau", bureau),
        theme=clean_text("theme", theme),
        stage=stage,
        sort=sort,
        updated_since=parse_instant("updated_since", updated_since),
    )


def valid_slug(slug: str) -> bool:
    """Whether `slug` could name a challenge (junk never reaches the database)."""
    return 0 < len(slug) <= MAX_SLUG_LENGTH and all(32 < ord(char) != 127 for char in slug)


# Reading.


async def select_public(
    filters: ChallengeFilters,
    *,
    now: datetime,
    limit: int,
    offset: int = 0,
    columns: Sequence[Any] = ITEM_COLUMNS,
) -> list[dict[str, Any]]:
    """Public challenges matching `filters` (one query), with every phase of the timeline."""
    query = filtered(Challenge.select(*columns), filters, now).limit(limit)
    if offset:
        query = query.offset(offset)
    rows: list[dict[str, Any]] = await query.run()
    return rows


async def public_challenge(slug: str, *, now: datetime, columns: Sequence[Any]) -> dict[str, Any]:
    """The public challenge with this slug; 404 when unknown or not published."""
    if not valid_slug(slug):
        raise NotFoundException(detail="No published challenge has this slug.")
    query = filtered(Challenge.select(*columns), ChallengeFilters(), now).where(Challenge.slug == slug)
    row: dict[str, Any] | None = await query.first().run()
    if row is None:
        raise NotFoundException(detail="No published challenge has this slug.")
    return row


def challenge_url(base_url: str, slug: str) -> str:
    """The absolute address of a challenge's page."""
    return f"{base_url}/challenges/{quote(slug, safe='')}"


def to_second(moment: datetime) -> datetime:
    """An instant in UTC to the second (serialized as ...Z)."""
    return moment.astimezone(UTC).replace(microsecond=0)


def as_utc(moment: datetime | None) -> datetime | None:
    """An optional instant in UTC to the second."""
    return None if moment is None else to_second(moment)


def public_status(row: Mapping[str, Any], now: datetime) -> tuple[PublicStatus, PublicStage]:
    """The status and stage the public sees (deadline passed: closed, reviewing)."""
    status = effective_status(ChallengeFacts.from_row(row), now)
    stage = public_stage(status)
    if stage is None:  # the queries select public statuses only
        raise LookupError(f"challenge {row['slug']!r} is not public ({status})")
    return PublicStatus(status.value), stage


def item_fields(row: Mapping[str, Any], base_url: str, now: datetime) -> dict[str, Any]:
    """The fields of ChallengeItem for a row selected with ITEM_COLUMNS and themes attached."""
    status, stage = public_status(row, now)
    return {
        "slug": row["slug"],
        "url": challenge_url(base_url, row["slug"]),
        "bureau": BureauRef(
            slug=row["bureau_slug"], name_ja=row["bureau_name_ja"], name_en=row["bureau_name_en"]
        ),
        "status": status,
        "stage": stage,
        "title": Localized(ja=row["title_ja"], en=row["title_en"]),
        "summary": Localized(ja=plain_text(row["summary_ja"]), en=plain_text(row["summary_en"])),
        "themes": list(row.get("themes", [])),
        "poc_budget_jpy": row["poc_budget_jpy"],
        "selection_count": row["selection_count"],
        "timeline": Timeline(**{phase: as_utc(row[phase]) for phase in PHASES}),
        "published_at": as_utc(row["published_at"]),
        "updated_at": as_utc(row["updated_at"]),
    }


def rich_text(row: Mapping[str, Any], name: str) -> RichText:
    """A Markdown field in both languages, with its sanitized HTML."""
    ja, en = row[f"{name}_ja"] or "", row[f"{name}_en"] or ""
    return RichText(
        markdown=Localized(ja=ja, en=en),
        html=Localized(ja=str(render_markdown(ja)), en=str(render_markdown(en))),
    )


def eligibility_of(value: Any) -> list[Localized]:
    """The stored eligibility conditions ([{"ja": ..., "en": ...}]), tolerating odd stored values."""
    if isinstance(value, str):
        try:
            value = json.loads(value or "[]")
        except ValueError:
            return []
    if not isinstance(value, list):
        return []
    return [
        Localized(ja=str(item.get("ja") or ""), en=str(item.get("en") or ""))
        for item in value
        if isinstance(item, dict)
    ]


async def answered_questions(challenge_id: int) -> list[AnsweredQuestion]:
    """The answered questions of a challenge, oldest answer first, without who asked or answered."""
    rows = (
        await Question.select(Question.body, Question.answer, Question.answered_at)
        .where((Question.challenge == challenge_id) & Question.answered_at.is_not_null())
        .order_by(Question.answered_at)
        .order_by(Question.id)
        .run()
    )
    return [
        AnsweredQuestion(
            question=row["body"], answer=row["answer"], answered_at=to_second(row["answered_at"])
        )
        for row in rows
    ]


# CSV.

CSV_COLUMNS = (
    "slug",
    "bureau",
    "bureau_name_ja",
    "bureau_name_en",
    "status",
    "stage",
    "title_ja",
    "title_en",
    "summary_ja",
    "summary_en",
    "themes",
    "poc_budget_jpy",
    "selection_count",
    *(phase.removesuffix("_at") + "_at_jst" for phase in PHASES),
    "published_at_jst",
    "updated_at_jst",
    "url",
)


def safe_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: a leading = + - @ (or tab, CR) gets a quote before it."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def jst(moment: datetime | None) -> str:
    """An instant as Japan time for spreadsheets, e.g. 2026-12-01 17:00 (empty when not set)."""
    return moment.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M") if moment else ""


def csv_record(row: Mapping[str, Any], base_url: str, now: datetime) -> list[Any]:
    """One CSV line for a row selected with ITEM_COLUMNS and themes attached."""
    status, stage = public_status(row, now)
    values = [
        row["slug"],
        row["bureau_slug"],
        row["bureau_name_ja"],
        row["bureau_name_en"],
        status.value,
        stage.value,
        row["title_ja"],
        row["title_en"],
        plain_text(row["summary_ja"]),
        plain_text(row["summary_en"]),
        ";".join(row.get("themes", [])),
        row["poc_budget_jpy"],
        row["selection_count"],
        *(jst(row[phase]) for phase in PHASES),
        jst(row["published_at"]),
        jst(row["updated_at"]),
        challenge_url(base_url, row["slug"]),
    ]
    return [safe_cell(value) for value in values]


def csv_bytes(rows: Sequence[Mapping[str, Any]], base_url: str, now: datetime) -> bytes:
    """The CSV file: UTF-8 with a BOM (so Excel in Japan reads it as UTF-8), CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_record(row, base_url, now) for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


# Errors are JSON here, whatever the Accept header says.


def api_error_response(request: Request[Any, Any, Any], exc: Exception) -> Response[ApiError]:
    """An HTTP error (400 for bad parameters, 404, ...) as ApiError; anything else as a logged 500."""
    if not isinstance(exc, HTTPException):
        log.exception("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        error = ApiError(status_code=HTTP_500_INTERNAL_SERVER_ERROR, detail="Internal server error.")
        return Response(error, status_code=error.status_code, media_type=MediaType.JSON)
    errors = [
        ErrorItem(key=str(item.get("key", "")), message=str(item.get("message", "")))
        for item in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(item, dict)
    ]
    detail = exc.detail
    if isinstance(exc, ValidationException) and errors:
        detail = "; ".join(f"{error.key}: {error.message}" for error in errors)
    return Response(
        ApiError(status_code=exc.status_code, detail=detail, errors=errors),
        status_code=exc.status_code,
        media_type=MediaType.JSON,
        headers=dict(exc.headers or {}),
    )


API_EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    HTTPException: api_error_response,
    Exception: api_error_response,
}
ERROR_RESPONSES = {
    HTTP_400_BAD_REQUEST: ResponseSpec(data_container=ApiError, description="A parameter is invalid."),
}


class OpenDataController(Controller):
    """The open data API (JSON) and the CSV download of published challenges."""

    tags = OPEN_DATA_TAGS
    exception_handlers = API_EXCEPTION_HANDLERS
    # Public data for any site or app: readable cross-origin, never with cookies (no credentials).
    response_headers = [ResponseHeader(name="Access-Control-Allow-Origin", value="*")]  # noqa: RUF012
    opt = {"exclude_from_csrf": True}  # noqa: RUF012 (GET only; no CSRF cookie on open data)

    @get(
        "/api/v1/challenges",
        name="open_data_challenges",
        media_type=MediaType.JSON,
        summary="List published challenges",
        description=(
            "Published challenges, soonest application deadline first, a page at a time: follow "
            "`next_cursor` until it is null. Filters combine. Times are UTC (ISO 8601, `Z`).\n\n"
            + LICENSE_NOTE
        ),
        responses=ERROR_RESPONSES,
    )
    async def list_challenges(
        self,
        settings: NamedDependency[Settings],
        status: StageParam = None,
        bureau: BureauParam = None,
        theme: ThemeParam = None,
        updated_since: UpdatedSinceParam = None,
        limit: LimitParam = PAGE_SIZE,
        cursor: CursorParam = None,
    ) -> ChallengeList:
        """A page of published challenges (two queries: rows, then their themes)."""
        filters = public_filters(status, bureau, theme, updated_since)
        offset = parse_cursor(cursor)
        now = utcnow()
        rows = await select_public(filters, now=now, limit=limit + 1, offset=offset)
        more = len(rows) > limit
        rows = rows[:limit]
        await attach_themes(rows)
        return ChallengeList(
            items=[ChallengeItem(**item_fields(row, settings.base_url, now)) for row in rows],
            next_cursor=encode_cursor(offset + limit) if more else None,
        )

    @get(
        "/api/v1/challenges/{slug:str}",
        name="open_data_challenge",
        media_type=MediaType.JSON,
        summary="One published challenge",
        description=(
            "A published challenge with its texts as Markdown and as sanitized HTML, its eligibility "
            "conditions and its publicly answered questions (never who asked).\n\n" + LICENSE_NOTE
        ),
        responses={
            HTTP_404_NOT_FOUND: ResponseSpec(
                data_container=ApiError, description="No published challenge has this slug."
            )
        },
    )
    async def challenge(self, settings: NamedDependency[Settings], slug: FromPath[str]) -> ChallengeDetail:
        """One challenge (three queries: the row, its themes, its answered questions)."""
        now = utcnow()
        row = await public_challenge(slug, now=now, columns=DETAIL_COLUMNS)
        await attach_themes([row])
        return ChallengeDetail(
            **item_fields(row, settings.base_url, now),
            body=rich_text(row, "body"),
            background=rich_text(row, "background"),
            problem=rich_text(row, "problem"),
            outcome=rich_text(row, "outcome"),
            eligibility=eligibility_of(row["eligibility"]),
            questions=await answered_questions(row["id"]),
        )

    @get(
        "/challenges.csv",
        name="open_data_challenges_csv",
        summary="Published challenges as CSV",
        description=(
            "The same list and filters as /api/v1/challenges, every page at once (at most "
            f"{CSV_MAX_ROWS:,} rows), as CSV in UTF-8 with a BOM for Excel. Times are Japan time "
            "(JST, columns ending in _jst). Cells that a spreadsheet would run as a formula start with "
            "an apostrophe.\n\n" + LICENSE_NOTE
        ),
        responses=ERROR_RESPONSES,
    )
    async def challenges_csv(
        self,
        settings: NamedDependency[Settings],
        status: StageParam = None,
        bureau: BureauParam = None,
        theme: ThemeParam = None,
        updated_since: UpdatedSinceParam = None,
    ) -> Response[bytes]:
        """The CSV download (two queries)."""
        filters = public_filters(status, bureau, theme, updated_since)
        now = utcnow()
        rows = await select_public(filters, now=now, limit=CSV_MAX_ROWS)
        await attach_themes(rows)
        return Response(
            csv_bytes(rows, settings.base_url, now),
            media_type="text/csv",  # Litestar adds "; charset=utf-8" to text/ types
            headers={"Content-Disposition": 'attachment; filename="challenges.csv"'},
        )


CONTROLLERS = [OpenDataController]
