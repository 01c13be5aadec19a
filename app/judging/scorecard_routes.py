"""Pages of judging: the judge's dashboard, the conflict question, the autosaving scorecard, its files."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File, Redirect, Template
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_303_SEE_OTHER,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
)

from app.accounts.viewer import viewer_of
from app.clock import utcnow
from app.judging import scorecards
from app.judging.scorecard_view import judge_dashboard, judge_view
from app.settings import Settings
from app.submissions.files import upload_folder
from app.validation import InvalidInput
from app.web.flash import flash
from app.web.forms import safe_next_path
from app.web.guards import signed_in
from app.web.htmx import redirect_after_post, wants_fragment
from app.web.i18n import current_locale
from app.web.i18n import gettext as _

Req = Request[Any, Any, Any]
# Scores and submissions are confidential: never kept by a browser's or a proxy's cache.
PRIVATE = {"Cache-Control": "private, no-store"}


def text_of(form: FormMultiDict, name: str) -> str:
    """One text value of the form ('' when missing or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def version_of(form: FormMultiDict) -> int:
    """The scorecard version the page loaded (-1 when missing: always stale)."""
    value = text_of(form, "version")
    return int(value) if value.isdecimal() else -1


async def scorecard_page(
    request: Req,
    round_id: int,
    submission_id: int,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    """The conflict question until it is answered, then the submission beside the rubric."""
    view = await judge_view(
        viewer_of(request), round_id, submission_id, now=utcnow(), locale=current_locale.get()
    )
    if view["stage"] == "question" and view["access"].conflicted:
        raise NotFoundException  # a conflicted judge never reaches the submission again
    template = "judging/conflict.html" if view["stage"] == "question" else "judging/scorecard.html"
    return Template(
        template, context={**view, "errors": errors or {}}, status_code=status_code, headers=PRIVATE
    )


class JudgeDashboardController(Controller):
    """The judge's list of rounds and submissions to score."""

    path = "/judging"
    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/", name="judge_dashboard")
    async def dashboard(self, request: Req) -> Template:
        """Progress per round ("12 / 40 done"), the deadline, and each assignment, pending first."""
        user = viewer_of(request)
        rounds = await judge_dashboard(user) if user else []
        return Template(
            "judging/dashboard.html", context={"rounds": rounds, "now": utcnow()}, headers=PRIVATE
        )


class ScorecardController(Controller):
    """One assigned submission: conflict question, scoring, comment, finalize; unlock by an official."""

    path = "/judging/rounds/{round_id:int}/submissions/{submission_id:int}"
    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/", name="judge_scorecard")
    async def page(self, request: Req, round_id: FromPath[int], submission_id: FromPath[int]) -> Template:
        """The conflict question, or the scorecard once the judge declared no conflict."""
        return await scorecard_page(request, round_id, submission_id)

    @post("/conflict", status_code=HTTP_200_OK)
    async def conflict(
        self, request: Req, round_id: FromPath[int], submission_id: FromPath[int]
    ) -> Response[Any]:
        """Record the judge's answer; a conflict sends them back to the dashboard for good."""
        form = await request.form()
        answer = text_of(form, "answer")
        try:
            if answer not in ("none", "conflict"):
                raise InvalidInput({"answer": _("Choose one of the answers.")})
            await scorecards.declare_conflict(
                viewer_of(request), round_id, submission_id,
                conflicted=answer == "conflict", reason=text_of(form, "reason"), now=utcnow(),
            )  # fmt: skip
        except InvalidInput as invalid:
            return await scorecard_page(
                request, round_id, submission_id, invalid.errors, HTTP_422_UNPROCESSABLE_ENTITY
            )
        if answer == "conflict":
            flash(
                request,
                _("Your conflict of interest is recorded. This submission is no longer shown to you."),
                "success",
            )
            return redirect_after_post(request, "/judging")
        return redirect_after_post(request, f"/judging/rounds/{round_id}/submissions/{submission_id}")

    @post("/scores/{criterion_id:int}", status_code=HTTP_200_OK)
    async def score(
        self, request: Req, round_id: FromPath[int], submission_id: FromPath[int], criterion_id: FromPath[int]
    ) -> Response[Any]:
        """Save one criterion (HTMX, on change): saved state and new version; 409 if stale, 422 if refused."""
        form = await request.form()
        value = text_of(form, f"score-{criterion_id}")
        context = {"criterion_id": criterion_id, "value": value}
        try:
            version = await scorecards.record_score(
                viewer_of(request),
                round_id,
                submission_id,
                criterion_id,
                value,
                version_of(form),
                now=utcnow(),
            )
        except scorecards.StaleScore:
            # Shown beside the criterion (not in the page-wide error region) so the judge sees which one.
            headers = {**PRIVATE, "HX-Retarget": f"#criterion-{criterion_id}-state", "HX-Reswap": "innerHTML"}
            return Template(
                "judging/_score_stale.html", context=context, status_code=HTTP_409_CONFLICT, headers=headers
            )
        except InvalidInput as invalid:
            message = invalid.errors.get(f"criterion-{criterion_id}") or invalid.errors.get("form", "")
            return Template(
                "judging/_score_error.html", context={**context, "message": message},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY, headers=PRIVATE,
            )  # fmt: skip
        if not wants_fragment(request):
            return Redirect(
                f"/judging/rounds/{round_id}/submissions/{submission_id}", status_code=HTTP_303_SEE_OTHER
            )
        return Template(
            "judging/_score_saved.html",
            context={**context, "version": version, "saved_at": utcnow()},
            headers=PRIVATE,
        )

    @post("/scores", status_code=HTTP_200_OK)
    async def save_all(
        self, request: Req, round_id: FromPath[int], submission_id: FromPath[int]
    ) -> Response[Any]:
        """Save every changed criterion at once: the path without JavaScript."""
        form = await request.form()
        user = viewer_of(request)
        now = utcnow()
        view = await judge_view(user, round_id, submission_id, now=now)
        if view["stage"] != "scorecard":
            raise NotFoundException
        version = version_of(form)
        try:
            for criterion in view["criteria"]:
                value = text_of(form, f"score-{criterion['id']}")
                if value and value != str(view["scores"].get(criterion["id"], "")):
                    version = await scorecards.record_score(
                        user, round_id, submission_id, criterion["id"], value, version, now=now
                    )
        except scorecards.StaleScore:
            errors = {"form": stale_message()}
            return await scorecard_page(request, round_id, submission_id, errors, HTTP_409_CONFLICT)
        except InvalidInput as invalid:
            return await scorecard_page(
                request, round_id, submission_id, invalid.errors, HTTP_422_UNPROCESSABLE_ENTITY
            )
        flash(request, _("Saved."), "success")
        return Redirect(
            f"/judging/rounds/{round_id}/submissions/{submission_id}", status_code=HTTP_303_SEE_OTHER
        )

    @post("/comment", status_code=HTTP_200_OK)
    async def comment(
        self, request: Req, round_id: FromPath[int], submission_id: FromPath[int]
    ) -> Response[Any]:
        """Save the overall comment and whether the applicant may read it."""
        form = await request.form()
        try:
            await scorecards.set_comment(
                viewer_of(request), round_id, submission_id, text_of(form, "comment"),
                "comment_shareable" in form, now=utcnow(),
            )  # fmt: skip
        except InvalidInput as invalid:
            if wants_fragment(request):
                return Template(
                    "judging/_score_error.html", context={"message": invalid.errors.get("form", "")},
                    status_code=HTTP_422_UNPROCESSABLE_ENTITY, headers=PRIVATE,
                )  # fmt: skip
            return await scorecard_page(
                request, round_id, submission_id, invalid.errors, HTTP_422_UNPROCESSABLE_ENTITY
            )
        if wants_fragment(request):
            return Template(
                "judging/_score_saved.html", context={"version": None, "saved_at": utcnow()}, headers=PRIVATE
            )
        flash(request, _("Saved."), "success")
        return Redirect(
            f"/judging/rounds/{round_id}/submissions/{submission_id}", status_code=HTTP_303_SEE_OTHER
        )

    @post("/finalize", status_code=HTTP_200_OK)
    async def finalize(
        self, request: Req, round_id: FromPath[int], submission_id: FromPath[int]
    ) -> Response[Any]:
        """Save the comment sent with the button, then lock the scorecard if nothing is missing."""
        form = await request.form()
        user = viewer_of(request)
        try:
            if "comment" in form:
                await scorecards.set_comment(
                    user,
                    round_id,
                    submission_id,
                    text_of(form, "comment"),
                    "comment_shareable" in form,
                    now=utcnow(),
                )
            await scorecards.finalize_scorecard(user, round_id, submission_id, now=utcnow())
        except InvalidInput as invalid:
            return await scorecard_page(
                request, round_id, submission_id, invalid.errors, HTTP_422_UNPROCESSABLE_ENTITY
            )
        flash(request, _("The scorecard is finalized."), "success")
        return redirect_after_post(request, "/judging")

    @post("/unlock", status_code=HTTP_200_OK)
    async def unlock(
        self, request: Req, round_id: FromPath[int], submission_id: FromPath[int]
    ) -> Response[Any]:
        """An official reopens a judge's finalized scorecard (form field `judge`), with an audit trace."""
        form = await request.form()
        judge = text_of(form, "judge")
        try:
            await scorecards.unlock_scorecard(
                viewer_of(request),
                round_id,
                submission_id,
                int(judge) if judge.isdecimal() else -1,
                now=utcnow(),
            )
        except InvalidInput as invalid:
            return Template(
                "judging/_scorecard_unlocked.html", context={"message": invalid.errors.get("form", "")},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY, headers=PRIVATE,
            )  # fmt: skip
        if wants_fragment(request):
            return Template("judging/_scorecard_unlocked.html", context={"message": ""}, headers=PRIVATE)
        flash(request, _("The scorecard is unlocked: the judge can change it again."), "success")
        return Redirect(safe_next_path(text_of(form, "next"), "/"), status_code=HTTP_303_SEE_OTHER)

    @get("/files/{file_id:int}", name="judge_file")
    async def file(
        self, request: Req, round_id: FromPath[int], submission_id: FromPath[int], file_id: FromPath[int],
        settings: NamedDependency[Settings],
    ) -> File:  # fmt: skip
        """A file of the judged version, as a download under the judge-facing name (neutral when blind)."""
        view = await judge_view(viewer_of(request), round_id, submission_id, now=utcnow())
        if view["stage"] != "scorecard":
            raise NotFoundException
        chosen = next((item for item in view["files"] if item["id"] == file_id), None)
        if chosen is None:
            raise NotFoundException
        path = upload_folder(settings) / chosen["stored_name"]
        if not path.is_file():
            raise NotFoundException
        return File(
            path=path, filename=chosen["name"], media_type="application/pdf",
            content_disposition_type="attachment",
            headers={**PRIVATE, "X-Content-Type-Options": "nosniff"},
        )  # fmt: skip


def stale_message() -> str:
    """What a judge reads when the scorecard changed in another tab or device."""
    return _(
        "This scorecard was changed in another window or device. Reload the page to see the current scores."
    )


CONTROLLERS = [JudgeDashboardController, ScorecardController]
