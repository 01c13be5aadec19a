"""The search page (search-as-you-type, the same URL without JavaScript) and the public search API."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, MediaType, Request, get
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Template

from app.search.documents import SearchSource
from app.search.indexer import default_index_dir
from app.search.query import (
    EVERYTHING,
    FACET_NAMES,
    SORTS,
    SearchOutcome,
    SearchRequest,
    clean_page,
    clean_text,
    clean_value,
    run_search,
)
from app.search.searchers import searcher_pool
from app.settings import Settings
from app.web.htmx import page_or_fragment, wants_fragment
from app.web.i18n import current_locale
from app.web.i18n import gettext as _

Req = Request[Any, Any, Any]
Query = Annotated[str | None, QueryParameter(required=False)]

LICENSE = "CC BY 4.0"
LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
LICENSE_NOTE = (
    "Licence: the results are open data under Creative Commons Attribution 4.0 International (CC BY 4.0, "
    f"{LICENSE_URL}). Reuse them freely, crediting 「協創 (Kyoso)」 and linking to each result's `url`. "
    "Only public content appears: drafts, submissions and anything behind a sign-in never do."
)


def registered_sources() -> dict[str, SearchSource]:
    """Each kind's source, from the registry beside asgi.py."""
    # Imported here: search imports no feature at import time; the registry (like asgi.py) lists them.
    from app.search_sources import SEARCH_SOURCES

    return {source.kind: source for source in SEARCH_SOURCES}


def staff_tags(user: Any) -> set[str]:
    """The coarse access tags of a signed-in user; the sources' `visible` stays the authority."""
    if user is None:
        return set()
    if getattr(user, "is_admin", False):
        return {EVERYTHING}
    tags = {f"bureau:{bureau_id}" for bureau_id in getattr(user, "official_bureau_ids", ())}
    tags |= {f"organization:{organization_id}" for organization_id in getattr(user, "memberships", {})}
    return tags


async def search_as(
    settings: Settings, request: SearchRequest, user: Any, tags: Iterable[str]
) -> SearchOutcome:
    """Run a search as `user`, asking each kind's source which hits they may see and for snippet texts."""
    sources = registered_sources()

    async def visible(kind: str, keys: Collection[str]) -> set[str]:
        source = sources.get(kind)
        # A kind nobody vouches for (a source removed, a stale index) is shown to nobody.
        return set() if source is None else set(await source.visible(user, keys))

    async def texts(kind: str, keys: Collection[str]) -> dict[str, str]:
        source = sources.get(kind)
        if source is None:
            return {}
        documents = await source.documents([key.partition(":")[2] for key in keys])
        return {doc.key: "\n".join(filter(None, (doc.body_ja, doc.body_en))) for doc in documents}

    # Searchers are pooled and refreshed when the index changes; readers take no lock (searchers.py).
    pool = searcher_pool(default_index_dir(settings))
    return await run_search(
        pool, request, staff_tags=tags, visible=visible, texts=texts, locale=current_locale.get()
    )


def search_request(
    q: str | None,
    kind: str | None,
    page: str | None,
    sort: str | None,
    facets: Mapping[str, str | None],
    kinds: Collection[str],
) -> SearchRequest:
    """The request from the query string; junk is dropped rather than refused (URLs get shared and age)."""
    text, truncated = clean_text(q)
    wanted_kind = clean_value(kind)
    selected = {name: value for name, raw in facets.items() if (value := clean_value(raw))}
    return SearchRequest(
        text=text,
        kind=wanted_kind if wanted_kind in kinds else None,
        selected=selected,
        sort=sort if sort in SORTS else "relevance",
        page=clean_page(page),
        truncated=truncated,
        asked=bool(q and q.strip()),
    )


@dataclass(frozen=True)
class Links:
    """Addresses of this search with one thing changed (facet links and pages work without JavaScript)."""

    request: SearchRequest

    def params(self) -> dict[str, str]:
        """The query string of the current search."""
        params = {"q": self.request.text, "type": self.request.kind or "", **self.request.selected}
        if self.request.sort != "relevance":
            params["sort"] = self.request.sort
        return {name: value for name, value in params.items() if value}

    def to(self, **changes: str | int | None) -> str:
        """This search with `changes` (None or "" removes a parameter); back to page 1 unless given."""
        params: dict[str, str | int] = {**self.params()}
        for name, value in changes.items():
            if value in (None, ""):
                params.pop(name, None)
            else:
                params[name] = value
        if "page" in params and params["page"] == 1:
            del params["page"]
        return "/search?" + urlencode(params) if params else "/search"


def kind_name(kind: str) -> str:
    """A kind of result as shown."""
    names = {
        "challenge": _("Challenges"),
        "output": _("Outputs"),
        "result": _("Judging results"),
        "submission": _("Applications"),
    }
    return names.get(kind, kind)


def facet_title(name: str) -> str:
    """A facet's heading."""
    titles = {
        "kind": _("Type"),
        "bureau": _("Bureau"),
        "status": _("Status"),
        "theme": _("Theme"),
        "licence": _("Licence"),
        "prefecture": _("Prefecture"),
    }
    return titles.get(name, name)


class SearchPageController(Controller):
    """The search page."""

    @get("/search", name="search")
    async def search_page(
        self,
        request: Req,
        settings: NamedDependency[Settings],
        q: Query = None,
        kind: Annotated[str | None, QueryParameter(name="type", required=False)] = None,
        page: Query = None,
        sort: Query = None,
        bureau: Query = None,
        status: Query = None,
        theme: Query = None,
        licence: Query = None,
        prefecture: Query = None,
    ) -> Template:
        """Results, facets and pages; an HTMX request gets just the results."""
        facets = {
            "bureau": bureau,
            "status": status,
            "theme": theme,
            "licence": licence,
            "prefecture": prefecture,
        }
        user = request.scope.get("user")
        sources = registered_sources()
        wanted = search_request(q, kind, page, sort, facets, sources)
        outcome = await search_as(settings, wanted, user, staff_tags(user))
        context = {
            "outcome": outcome,
            "query_text": (q or "")[:200],
            "links": Links(wanted),
            "facet_names": ("kind", *FACET_NAMES),
            "kind_name": kind_name,
            "facet_title": facet_title,
            "sorts": SORTS,
            "fragment": wants_fragment(request),
        }
        return page_or_fragment(request, "search/page.html", "search/_results.html", context)


# API response types (their JSON schemas appear under /schema/openapi.json).


class SearchHitItem(msgspec.Struct, kw_only=True):
    """One public result."""

    key: Annotated[str, msgspec.Meta(description='"<type>:<id>", stable across re-indexing.')]
    type: str
    url: str
    title_ja: str
    title_en: str
    snippet_html: Annotated[
        str, msgspec.Meta(description="An excerpt as escaped HTML, the matched words in <mark>.")
    ]
    date: datetime | None


class FacetCount(msgspec.Struct):
    """How many results have this value."""

    value: str
    count: int


class SearchResults(msgspec.Struct, kw_only=True):
    """One page of public results (20 a page), with facet counts over all of them."""

    query: Annotated[str, msgspec.Meta(description="The searched text, cleaned and cut to 200 characters.")]
    total: int
    page: int
    pages: int
    items: list[SearchHitItem]
    facets: dict[str, list[FacetCount]]
    suggestion: Annotated[
        str | None, msgspec.Meta(description="A corrected query that finds more, for English typos.")
    ]
    notice: Annotated[
        str | None,
        msgspec.Meta(
            description=(
                "Why there may be few results: `nothing_searchable` (only symbols or emoji), "
                "`truncated` (the query was cut), `too_many` (narrow the search to see every match)."
            )
        ),
    ]
    license: str = LICENSE
    license_url: str = LICENSE_URL


def as_utc(moment: datetime | None) -> datetime | None:
    """An instant in UTC to the second (a naive one is taken as UTC, as the indexer writes it)."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(microsecond=0)


def notice_of(outcome: SearchOutcome) -> str | None:
    """The API's short reason for few or no results."""
    if outcome.unsearchable:
        return "nothing_searchable"
    if outcome.request.truncated:
        return "truncated"
    return "too_many" if outcome.capped else None


class SearchApiController(Controller):
    """Searching public content as JSON."""

    tags = ["open data"]  # noqa: RUF012 (Litestar reads it as a class attribute)
    response_headers = [ResponseHeader(name="Access-Control-Allow-Origin", value="*")]  # noqa: RUF012
    opt = {"exclude_from_csrf": True}  # noqa: RUF012 (GET only)

    @get(
        "/api/v1/search",
        name="open_data_search",
        media_type=MediaType.JSON,
        summary="Search public content",
        description=(
            "Full-text search (Japanese and English) over public content, 20 results a page. Every "
            "word must match. `type` keeps one kind of result (see the `type` facet for the kinds). "
            "Bad input never fails: a query with nothing searchable returns no results and a `notice`."
            "\n\n" + LICENSE_NOTE
        ),
    )
    async def search(
        self,
        settings: NamedDependency[Settings],
        q: Annotated[str | None, QueryParameter(description="The words to find.", required=False)] = None,
        kind: Annotated[
            str | None, QueryParameter(name="type", description="A kind, e.g. challenge.", required=False)
        ] = None,
        page: Annotated[
            str | None, QueryParameter(description="Page number, from 1.", required=False)
        ] = None,
        sort: Annotated[
            str | None,
            QueryParameter(description="relevance (default) or date (newest).", required=False),
        ] = None,
    ) -> SearchResults:
        """A page of public results: anonymous visibility, whoever asks."""
        wanted = search_request(q, kind, page, sort, {}, registered_sources())
        outcome = await search_as(settings, wanted, None, ())
        base = settings.base_url
        return SearchResults(
            query=wanted.text,
            total=outcome.total,
            page=outcome.page,
            pages=outcome.pages,
            items=[
                SearchHitItem(
                    key=hit.key,
                    type=hit.kind,
                    url=base + hit.url if hit.url.startswith("/") else hit.url,
                    title_ja=hit.title_ja,
                    title_en=hit.title_en,
                    snippet_html=str(hit.snippet_html),
                    date=as_utc(hit.date),
                )
                for hit in outcome.hits
            ],
            facets={
                name: [FacetCount(value=value.value, count=value.count) for value in values]
                for name, values in outcome.facets.items()
            },
            suggestion=outcome.suggestion,
            notice=notice_of(outcome),
        )


CONTROLLERS = [SearchPageController, SearchApiController]
