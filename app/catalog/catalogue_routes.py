"""Catalogue pages: the public list, an entry's page, adoptions and their confirmation, 同じ課題があります."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_403_FORBIDDEN, HTTP_422_UNPROCESSABLE_ENTITY

from app.accounts.viewer import viewer_of
from app.catalog import adoptions, policies
from app.catalog.catalogue_queries import (
    DEVELOPMENT_STATUSES,
    SORTS,
    CatalogueFilters,
    adoption_summary,
    catalogue_filters,
    catalogue_options,
    collaboration_status,
    output_vitality,
    public_outputs,
)
from app.catalog.facts import member_municipalities, output_by_slug
from app.catalog.municipalities import municipalities_of
from app.catalog.tables import Output
from app.challenges.markdown import render_markdown
from app.challenges.routes import challenge_by_slug
from app.challenges.services import visible_facts
from app.clock import utcnow
from app.validation import InvalidInput
from app.web.flash import flash
from app.web.forms import form_values
from app.web.guards import signed_in
from app.web.htmx import redirect_after_post, wants_fragment
from app.web.i18n import gettext as _
from app.web.page_cache import (
    cached_response,
    forget_public_pages,
    render_and_cache,
    render_and_cache_html,
    shared_fragment,
)

Req = Request[Any, Any, Any]
Query = Annotated[str | None, QueryParameter(required=False)]


class CatalogueListController(Controller):
    """The public catalogue of reusable software."""

    @get("/catalog", name="catalog")
    async def list_outputs(
        self,
        request: Req,
        category: Query = None,
        development_status: Query = None,
        open_only: Annotated[str | None, QueryParameter(name="open", required=False)] = None,
        prefecture: Query = None,
        sort: Query = None,
        cursor: Query = None,
    ) -> Response[Any]:
        """Filters and sort in the URL (bookmarkable); HTMX swaps just the rows."""
        if cached := await cached_response(request):
            return cached
        filters = catalogue_filters(category, development_status, open_only, prefecture, sort)
        # The rows are the same for every visitor: built once per query string, language and TTL.
        rows = await shared_fragment(request, "catalog/_rows.html", lambda: rows_context(filters, cursor))
        if wants_fragment(request):
            return await render_and_cache_html(request, rows)
        context = {
            "rows_html": rows,
            "filters": filters,
            "options": await catalogue_options(),
            "development_statuses": DEVELOPMENT_STATUSES,
            "sorts": SORTS,
        }
        return await render_and_cache(request, "catalog/list.html", context)


async def rows_context(filters: CatalogueFilters, cursor: str | None) -> dict[str, Any]:
    """What the rows fragment shows."""
    return {"filters": filters, "page": await public_outputs(filters, cursor=cursor)}


class CatalogueDetailController(Controller):
    """One catalogue entry: its page; adoptions recorded by municipalities, confirmed by maintainers."""

    path = "/catalog/{slug:str}"

    @get("/", name="catalog_entry")
    async def detail(self, request: Req, slug: FromPath[str]) -> Response[Any]:
        """Description, adopters by prefecture, counts by status, timeline, vitality and how it is got."""
        if cached := await cached_response(request):
            return cached
        return await detail_page(request, slug, {}, {})

    @post("/adoptions", guards=[signed_in], status_code=HTTP_200_OK)
    async def record(self, request: Req, slug: FromPath[str]) -> Response[Any]:
        """Record (or change) what the official's municipality does with this software."""
        user = viewer_of(request)
        row, facts = await output_by_slug(user, slug)
        values = await form_values(request)
        try:
            await adoptions.record_adoption(user, facts, row, values, now=utcnow())
        except adoptions.NotAnOfficial as refused:
            return await detail_page(request, slug, values, refused.errors, HTTP_403_FORBIDDEN)
        except InvalidInput as invalid:
            return await detail_page(request, slug, values, invalid.errors, HTTP_422_UNPROCESSABLE_ENTITY)
        await forget_public_pages()
        flash(request, _("Recorded. It shows as unconfirmed until the maintainer confirms it."), "success")
        return redirect_after_post(request, f"/catalog/{slug}#adoptions")

    @post("/adoptions/{adoption_id:int}/confirm", guards=[signed_in], status_code=HTTP_200_OK)
    async def confirm(self, request: Req, slug: FromPath[str], adoption_id: FromPath[int]) -> Response[Any]:
        """The maintainer confirms an adoption."""
        user = viewer_of(request)
        _row, facts = await output_by_slug(user, slug)
        await adoptions.confirm_adoption(user, facts, adoption_id, now=utcnow())
        await forget_public_pages()
        flash(request, _("The adoption is confirmed."), "success")
        return redirect_after_post(request, f"/catalog/{slug}#adoptions")


async def detail_page(
    request: Req, slug: str, values: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> Response[Any]:
    """An entry's page (or, to an HTMX form post with errors, its adoptions section)."""
    user = viewer_of(request)
    now = utcnow()
    output, facts = await output_by_slug(user, slug)
    names = (
        await Output.select(
            Output.maintainer_organization.name_ja.as_alias("name_ja"),
            Output.maintainer_organization.name_en.as_alias("name_en"),
            Output.source_challenge.slug.as_alias("challenge_slug"),
            Output.source_challenge.title_ja.as_alias("challenge_title_ja"),
            Output.source_challenge.title_en.as_alias("challenge_title_en"),
        )
        .where(Output.id == facts.id)
        .first()
        .run()
    ) or {}
    summary = await adoption_summary(facts.id, now=now)
    collaboration = await collaboration_status(output["collaboration"])
    members = await member_municipalities(user)
    own = await municipalities_of(members) if facts.status == "published" else []
    context = {
        "output": output,
        "facts": facts,
        "names": names,
        "summary": summary,
        "vitality": output_vitality(output, summary, collaboration, now),
        "collaboration": collaboration,
        "own_municipalities": own,
        "may_confirm": policies.can_confirm_adoption(user, facts),
        "may_edit": policies.can_edit_output(user, facts),
        "statuses": adoptions.STATUSES,
        "values": values,
        "errors": errors,
        "markdown": render_markdown,
        "now": now,
    }
    template = "catalog/_adoptions.html" if errors and wants_fragment(request) else "catalog/detail.html"
    return await render_and_cache(request, template, context, status_code)


class SharedProblemController(Controller):
    """同じ課題があります: a municipality official says their municipality has a challenge's problem."""

    @get("/challenges/{slug:str}/same-problem", name="catalog_same_problem")
    async def panel(self, request: Req, slug: FromPath[str]) -> Template:
        """The panel the challenge page loads: who shares the problem (bureau), or the form (cities)."""
        challenge = await challenge_by_slug(slug)
        facts = await visible_facts(viewer_of(request), challenge["id"])
        context = await adoptions.same_problem_context(
            viewer_of(request), {**challenge, "status": facts.status.value}
        )
        return Template(
            "catalog/_shared_problems.html", context=context, headers={"Cache-Control": "private, no-store"}
        )

    @post("/challenges/{slug:str}/same-problem", guards=[signed_in], status_code=HTTP_200_OK)
    async def mark(self, request: Req, slug: FromPath[str]) -> Response[Any]:
        """Record it; the challenge's bureau sees it on the challenge page."""
        values = await form_values(request)
        try:
            await adoptions.mark_shared_problem(viewer_of(request), slug, values, now=utcnow())
        except InvalidInput as refused:  # NotAnOfficial included: the message says which
            # The form sits on the challenge page (another feature's): back there, with the reason shown.
            flash(request, next(iter(refused.errors.values())), "error")
            return redirect_after_post(request, f"/challenges/{slug}#same-problem")
        flash(request, _("The bureau will see that your municipality has the same problem."), "success")
        return redirect_after_post(request, f"/challenges/{slug}#same-problem")


CONTROLLERS = [CatalogueListController, CatalogueDetailController, SharedProblemController]
