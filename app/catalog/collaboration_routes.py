"""Collaborations: officials open one per winner and record its steps; the public reads the 協働事例 pages."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_422_UNPROCESSABLE_ENTITY

from app.accounts.viewer import viewer_of
from app.catalog import collaborations
from app.catalog.collaborations import CollaborationPanel, CollaborationStatus
from app.challenges.routes import challenge_by_slug
from app.challenges.services import visible_facts
from app.clock import utcnow
from app.judging import feedback
from app.validation import InvalidInput
from app.web.flash import flash
from app.web.forms import form_values
from app.web.guards import signed_in
from app.web.htmx import page_or_fragment, redirect_after_post
from app.web.i18n import gettext as _

Req = Request[Any, Any, Any]
MAX_PAGE = 10_000
MAX_ID = 2**31 - 1  # a larger id overflows PostgreSQL's integer: it names nothing

StatusParam = Annotated[
    str | None, QueryParameter(description="negotiating, poc, contract, done or stopped.", max_length=20)
]
PageParam = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)]


def case_url(collaboration_id: int) -> str:
    """The public page of a case."""
    return f"/cases/{collaboration_id}"


class CollaborationController(Controller):
    """The owning bureau's officials open a collaboration for a winner and record its progress."""

    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @post(
        "/challenges/{slug:str}/collaborations", name="catalog_start_collaboration", status_code=HTTP_200_OK
    )
    async def start(self, request: Req, slug: FromPath[str]) -> Template | Redirect | ClientRedirect:
        """Open a collaboration for one winner (its first step is 協議中); errors re-render the results."""
        user = viewer_of(request)
        values = await form_values(request)
        try:
            collaboration_id = await collaborations.create_collaboration(user, slug, values, now=utcnow())
        except InvalidInput as invalid:
            challenge = await feedback.published_challenge(slug)
            outcome = await feedback.public_results(challenge["id"])
            panel = await collaborations.collaborations_of(challenge["id"])
            return page_or_fragment(
                request,
                "judging/results.html",
                "catalog/_collaborations.html",
                {
                    "challenge": challenge,
                    **outcome,
                    "collaborations": panel,
                    "form_for": values.get("submission", ""),
                    "errors": invalid.errors,
                    "values": values,
                },
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )
        flash(request, _("The collaboration is started and shown on the results page."), "success")
        return redirect_after_post(request, case_url(collaboration_id))

    @post("/collaborations/{collaboration_id:int}/steps", name="catalog_record_step", status_code=HTTP_200_OK)
    async def record_step(
        self, request: Req, collaboration_id: FromPath[int]
    ) -> Template | Redirect | ClientRedirect:
        """Append a progress step (the status follows it); a refused order is shown with its reason."""
        if not 0 < collaboration_id <= MAX_ID:
            raise NotFoundException
        user = viewer_of(request)
        values = await form_values(request)
        try:
            await collaborations.record_step(user, collaboration_id, values, now=utcnow())
        except InvalidInput as invalid:
            case = await collaborations.public_case(collaboration_id)
            return page_or_fragment(
                request,
                "catalog/case.html",
                "catalog/_collaboration_form.html",
                case_context(case, errors=invalid.errors, values=values),
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )
        flash(request, _("The step is recorded."), "success")
        return redirect_after_post(request, case_url(collaboration_id))


def case_context(
    case: dict[str, Any], *, errors: dict[str, str] | None = None, values: dict[str, str] | None = None
) -> dict[str, Any]:
    """The context of a case page (and of its step form)."""
    return {
        "case": case,
        "collaborations": CollaborationPanel(cases=[case], facts=case["facts"], slug=case["challenge_slug"]),
        "winner": None,
        "form_for": "",
        "errors": errors or {},
        "values": values or {"happened_on": collaborations.tokyo_today(utcnow()).isoformat()},
    }


class CaseController(Controller):
    """The public 協働事例 pages: what came of each contest's winners."""

    path = "/cases"

    @get("/", name="catalog_cases")
    async def cases(self, request: Req, status: StatusParam = None, page: PageParam = 1) -> Template:
        """Every public collaboration with its steps, most recently updated first, optionally by status."""
        try:
            wanted = CollaborationStatus(status) if status else None
        except ValueError:
            wanted = None  # an unknown status in a hand-typed address shows every case
        rows, more = await collaborations.public_cases(wanted, page=page)
        return page_or_fragment(
            request,
            "catalog/cases.html",
            "catalog/_collaborations.html",
            {
                "collaborations": CollaborationPanel(cases=rows, show_challenge=True),
                "status": wanted.value if wanted else "",
                "page": page,
                "more": more,
            },
        )

    @get("/challenge/{slug:str}", name="catalog_challenge_cases")
    async def of_challenge(self, request: Req, slug: FromPath[str]) -> Template:
        """One challenge's collaborations, as the fragment its results page loads (empty before results)."""
        challenge = await challenge_by_slug(slug)
        # A draft's slug must answer like an unknown one (404), not with an empty panel: the authorization
        # matrix found that this fragment told anyone that an unpublished challenge exists.
        await visible_facts(viewer_of(request), challenge["id"])
        panel = await collaborations.collaborations_of(challenge["id"])
        return Template(
            "catalog/_collaborations.html", context={"collaborations": panel, "challenge": challenge}
        )

    @get("/{collaboration_id:int}", name="catalog_case")
    async def case(self, collaboration_id: FromPath[int]) -> Template:
        """One case: the winner, the challenge, every step; the bureau's officials also get the step form."""
        if not 0 < collaboration_id <= MAX_ID:
            raise NotFoundException
        case = await collaborations.public_case(collaboration_id)
        return Template("catalog/case.html", context=case_context(case))


CONTROLLERS = [CollaborationController, CaseController]
