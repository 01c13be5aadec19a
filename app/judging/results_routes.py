"""Pages of a round's outcome and of the final results: ranking, advancement, pitch slots, exports."""

from __future__ import annotations

import re
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_ENTITY

from app.accounts.viewer import viewer_of
from app.challenges.feeds import ics_response
from app.challenges.lifecycle import ChallengeFacts
from app.challenges.routes import challenge_by_slug
from app.challenges.services import load_facts
from app.clock import utcnow
from app.judging import feedback, pitch, results, results_publication, score_exports
from app.judging.facts import round_with_challenge
from app.judging.policies import (
    can_approve_results,
    can_manage_judging,
    can_propose_results,
    can_see_pitch_slot,
)
from app.judging.tables import Round
from app.settings import Settings
from app.submissions.policies import is_applicant
from app.submissions.review import csv_bytes, xlsx_bytes
from app.validation import InvalidInput
from app.web.flash import flash
from app.web.forms import form_values
from app.web.guards import signed_in
from app.web.i18n import gettext as _
from app.web.jst import format_jst_local

Req = Request[Any, Any, Any]
# Scores and unpublished decisions: only the reader's own browser may keep them, and only in memory.
PRIVATE = {"Cache-Control": "private, no-store"}
SLOT_FILE = re.compile(r"(\d{1,12})\.ics")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(filename: str) -> dict[str, str]:
    """Headers of a private download."""
    return {
        **PRIVATE,
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff",
    }


async def managed_round(request: Req, slug: str, round_id: int) -> tuple[dict[str, Any], ChallengeFacts]:
    """The round of this challenge, if the user manages its judging; 404 for everyone else."""
    round_row, facts = await round_with_challenge(round_id)
    if round_row["challenge_slug"] != slug or not can_manage_judging(viewer_of(request), facts):
        raise NotFoundException
    return round_row, facts


async def challenge_rounds(challenge_id: int) -> list[dict[str, Any]]:
    """The challenge's rounds in order (for navigation between them)."""
    rows: list[dict[str, Any]] = await (
        Round.select(Round.id, Round.position, Round.kind, Round.name_ja, Round.name_en, Round.advanced_at)
        .where(Round.challenge == challenge_id)
        .order_by(Round.position)
        .run()
    )
    return rows


async def decided(challenge_id: int, proposal: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The applications a proposal is about: those still competing, or once published, those it decided."""
    if proposal is not None and proposal["published_at"] is not None:
        ids = sorted(int(key) for key in proposal["decisions"])
        rows = await results.submissions_by_id(ids)
        return sorted(rows, key=lambda row: row["receipt_number"] or "")
    return await results.in_play(challenge_id)


class RankingController(Controller):
    """A round's aggregation, advancement, pitch slots and score exports, for the bureau's officials only."""

    path = "/challenges/{slug:str}/rounds/{round_id:int}"
    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    async def ranking_page(
        self, request: Req, slug: str, round_id: int, *, error: str = "", status_code: int = HTTP_200_OK
    ) -> Template:
        """The ranking page, with an error message after a refused confirmation."""
        round_row, facts = await managed_round(request, slug, round_id)
        view = await results.ranking_view(round_row, facts.id)
        return Template(
            "judging/ranking.html",
            context={"round": round_row, "rounds": await challenge_rounds(facts.id), "error": error, **view},
            status_code=status_code,
            headers=PRIVATE,
        )

    @get("/ranking", name="judging_ranking")
    async def ranking(self, request: Req, slug: FromPath[str], round_id: FromPath[int]) -> Template:
        """Raw and normalized rankings side by side, agreement, charts, and the advancement form."""
        return await self.ranking_page(request, slug, round_id)

    @post("/ranking", name="judging_advance", status_code=HTTP_200_OK)
    async def advance(
        self, request: Req, slug: FromPath[str], round_id: FromPath[int]
    ) -> Template | Redirect:
        """Confirm who advances (the rule's selection, or an adjusted one with a reason)."""
        await managed_round(request, slug, round_id)
        form = await request.form()
        chosen = [int(value) for value in form.getall("advance", []) if str(value).isdecimal()]
        try:
            advanced = await results.confirm_advancement(
                viewer_of(request), round_id, chosen, str(form.get("reason", "")), now=utcnow()
            )
        except results.Refused as refused:
            return await self.ranking_page(
                request, slug, round_id, error=refused.message, status_code=refused.status_code
            )
        flash(
            request,
            _("Advancement confirmed: %(count)s applications advance.") % {"count": len(advanced)},
            "success",
        )
        return Redirect(f"/challenges/{slug}/rounds/{round_id}/ranking", status_code=HTTP_303_SEE_OTHER)

    @get("/scores.csv", name="judging_scores_csv")
    async def scores_csv(self, request: Req, slug: FromPath[str], round_id: FromPath[int]) -> Response[bytes]:
        """Every score of the round, per judge and criterion, for Excel (UTF-8 with BOM)."""
        await managed_round(request, slug, round_id)
        table = await score_exports.score_table(round_id)
        return Response(
            csv_bytes(table),
            media_type="text/csv; charset=utf-8",
            headers=attachment(f"scores-{slug}-round-{round_id}.csv"),
        )

    @get("/scores.xlsx", name="judging_scores_xlsx")
    async def scores_xlsx(
        self, request: Req, slug: FromPath[str], round_id: FromPath[int]
    ) -> Response[bytes]:
        """The same table as the CSV, as an Excel workbook."""
        await managed_round(request, slug, round_id)
        table = await score_exports.score_table(round_id)
        return Response(
            await anyio.to_thread.run_sync(xlsx_bytes, table, f"{slug}-{round_id}"),  # openpyxl is CPU-bound
            media_type=XLSX_MEDIA_TYPE,
            headers=attachment(f"scores-{slug}-round-{round_id}.xlsx"),
        )

    async def slots_page(
        self,
        request: Req,
        slug: str,
        round_id: int,
        *,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
    ) -> Template:
        """The pitch schedule of a pitch round; 404 for a document round."""
        round_row, facts = await managed_round(request, slug, round_id)
        if round_row["kind"] != "pitch":
            raise NotFoundException
        return Template(
            "judging/slots.html",
            context={
                "round": round_row,
                "finalists": await pitch.finalists(facts.id),
                "slots": await pitch.round_slots(round_id),
                "errors": errors or {},
                "values": values or {},
                "jst_local": format_jst_local,
            },
            status_code=HTTP_422_UNPROCESSABLE_ENTITY if errors else HTTP_200_OK,
            headers=PRIVATE,
        )

    @get("/slots", name="judging_pitch_slots")
    async def slots(self, request: Req, slug: FromPath[str], round_id: FromPath[int]) -> Template:
        """Each finalist's time slot on pitch day, with a form to set or move it."""
        return await self.slots_page(request, slug, round_id)

    @post("/slots", name="judging_save_pitch_slot", status_code=HTTP_200_OK)
    async def save_slot(
        self, request: Req, slug: FromPath[str], round_id: FromPath[int]
    ) -> Template | Redirect:
        """Set or move one finalist's slot."""
        await managed_round(request, slug, round_id)
        values = await form_values(request)
        submission = values.get("submission", "")
        if not submission.isdecimal():
            raise NotFoundException
        try:
            await pitch.save_slot(viewer_of(request), round_id, int(submission), values, now=utcnow())
        except InvalidInput as invalid:
            return await self.slots_page(request, slug, round_id, errors=invalid.errors, values=values)
        flash(request, _("The pitch slot is saved."), "success")
        return Redirect(f"/challenges/{slug}/rounds/{round_id}/slots", status_code=HTTP_303_SEE_OTHER)


class ResultsController(Controller):
    """The public results page, and the officials' proposal, approval and publication of them."""

    path = "/challenges/{slug:str}/results"

    @get("/", name="judging_results")
    async def public(self, slug: FromPath[str]) -> Template:
        """Winners (and finalists, if shown) with their pitch summaries; 404 before publication."""
        challenge = await feedback.published_challenge(slug)
        outcome = await feedback.public_results(challenge["id"])
        return Template("judging/results.html", context={"challenge": challenge, **outcome})

    async def proposal_page(
        self, request: Req, slug: str, *, error: str = "", status_code: int = HTTP_200_OK
    ) -> Template:
        """The officials' page: the current proposal, its approval, and the form for a new one."""
        challenge = await challenge_by_slug(slug)
        facts = await results_publication.deciding_facts(viewer_of(request), challenge["id"])
        proposal = await results_publication.open_proposal(challenge["id"])
        user = viewer_of(request)
        return Template(
            "judging/results_proposal.html",
            context={
                "challenge": challenge,
                "competing": await decided(challenge["id"], proposal),
                "rounds": await challenge_rounds(challenge["id"]),
                "proposal": proposal,
                "may_propose": can_propose_results(user, facts),
                "may_approve": proposal is not None
                and can_approve_results(user, facts, proposal["proposed_by"]),
                "error": error,
            },
            status_code=status_code,
            headers=PRIVATE,
        )

    @get("/proposal", guards=[signed_in], name="judging_results_proposal")
    async def proposal(self, request: Req, slug: FromPath[str]) -> Template:
        """The proposal page."""
        return await self.proposal_page(request, slug)

    @post("/proposal", guards=[signed_in], name="judging_propose_results", status_code=HTTP_200_OK)
    async def propose(self, request: Req, slug: FromPath[str]) -> Template | Redirect:
        """Propose winners (replacing an unpublished proposal)."""
        challenge = await challenge_by_slug(slug)
        values = await form_values(request)
        return await self.act(
            request,
            slug,
            results_publication.propose_results(viewer_of(request), challenge["id"], values, now=utcnow()),
            _("Proposed. Another official of the bureau or an administrator must approve it."),
        )

    @post("/proposal/{proposal_id:int}/approve", guards=[signed_in], name="judging_approve_results")
    async def approve(
        self, request: Req, slug: FromPath[str], proposal_id: FromPath[int]
    ) -> Template | Redirect:
        """Approve a colleague's proposal (two-person rule)."""
        challenge = await challenge_by_slug(slug)
        return await self.act(
            request,
            slug,
            results_publication.approve_results(
                viewer_of(request), challenge["id"], proposal_id, now=utcnow()
            ),
            _("Approved. The results can now be published."),
        )

    @post("/proposal/{proposal_id:int}/publish", guards=[signed_in], name="judging_publish_results")
    async def publish(
        self, request: Req, slug: FromPath[str], proposal_id: FromPath[int]
    ) -> Template | Redirect:
        """Publish approved results: statuses, the public page, and every applicant is told."""
        challenge = await challenge_by_slug(slug)
        return await self.act(
            request,
            slug,
            results_publication.publish_results(
                viewer_of(request), challenge["id"], proposal_id, now=utcnow()
            ),
            _("The results are published and every applicant is notified."),
        )

    async def act(self, request: Req, slug: str, action: Any, done: str) -> Template | Redirect:
        """Run a decision; a refusal re-renders the page with its message (and nothing was written)."""
        try:
            await action
        except results.Refused as refused:
            return await self.proposal_page(
                request, slug, error=refused.message, status_code=refused.status_code
            )
        flash(request, done, "success")
        return Redirect(f"/challenges/{slug}/results/proposal", status_code=HTTP_303_SEE_OTHER)


class ReviewSummaryController(Controller):
    """The public 審査経過 of a challenge once its results are out."""

    path = "/challenges/{slug:str}/review-summary"

    @get("/", name="judging_review_summary")
    async def summary(self, slug: FromPath[str]) -> Template:
        """Counts, dates, rubrics and the method of each round; no one's scores; 404 before publication."""
        challenge = await feedback.published_challenge(slug)
        return Template(
            "judging/review_summary.html",
            context={"challenge": challenge, **await feedback.review_summary(challenge["id"])},
        )


class FeedbackController(Controller):
    """An applicant's own feedback after publication."""

    path = "/submissions/{submission_id:int}/feedback"
    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/", name="judging_feedback")
    async def own_feedback(self, request: Req, submission_id: FromPath[int]) -> Template:
        """Per-criterion averages and shared comments: the organization's members, after publication."""
        submission = await feedback.own_submission(submission_id)
        if (
            submission is None
            or not is_applicant(viewer_of(request), submission["organization"])
            or submission["challenge_status"] not in feedback.PUBLISHED
        ):
            raise NotFoundException
        return Template(
            "judging/feedback.html",
            context={"submission": submission, "rounds": await feedback.applicant_feedback(submission_id)},
            headers=PRIVATE,
        )


class PitchScheduleController(Controller):
    """An applicant's pitch slots (a finalist's time and place), before and after publication."""

    path = "/submissions/{submission_id:int}/pitch"
    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/", name="judging_pitch_schedule")
    async def schedule(self, request: Req, submission_id: FromPath[int]) -> Template:
        """The slots of the organization's application: its members only."""
        submission = await feedback.own_submission(submission_id)
        if submission is None or not is_applicant(viewer_of(request), submission["organization"]):
            raise NotFoundException
        slots = await pitch.slots_for_submission(submission_id)
        return Template(
            "judging/pitch_schedule.html",
            context={"submission": submission, "pitch_slots": slots},
            headers=PRIVATE,
        )


class PitchInvitationController(Controller):
    """The calendar invitation to a pitch slot, for the finalist's members and the bureau's officials."""

    path = "/pitch-slots"
    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/{slot_file:str}", name="judging_pitch_slot_ics")
    async def invitation(
        self, request: Req, slot_file: FromPath[str], settings: NamedDependency[Settings]
    ) -> Response[bytes]:
        """`/pitch-slots/<id>.ics` (Litestar types no parameter with a suffix: the name is parsed here)."""
        matched = SLOT_FILE.fullmatch(slot_file)
        slot = await pitch.slot_by_id(int(matched.group(1))) if matched else None
        user = viewer_of(request)
        if slot is None:
            raise NotFoundException
        facts = await load_facts(slot["challenge_id"])
        if not can_see_pitch_slot(user, facts, slot["organization"]):
            raise NotFoundException
        response = ics_response(pitch.slot_calendar(slot, settings.base_url, utcnow()))
        response.headers.update(attachment(f"pitch-{slot['id']}.ics"))
        return response


CONTROLLERS = [
    RankingController,
    ResultsController,
    ReviewSummaryController,
    FeedbackController,
    PitchScheduleController,
    PitchInvitationController,
]
