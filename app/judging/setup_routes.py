"""Pages where officials set up judging: rounds, the rubric, judges, assignments and conflicts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_400_BAD_REQUEST, HTTP_422_UNPROCESSABLE_ENTITY

from app.accounts.viewer import viewer_of
from app.challenges.tables import Challenge
from app.clock import utcnow
from app.judging import assigning, judges, policies, rounds
from app.judging.round_forms import (
    criterion_form_values,
    parse_criterion_form,
    parse_round_form,
    reason_texts,
    round_form_values,
)
from app.settings import Settings
from app.submissions.form_builder import fields_of
from app.validation import InvalidInput
from app.web.flash import flash
from app.web.forms import form_values
from app.web.guards import signed_in
from app.web.htmx import page_or_fragment, redirect_after_post, wants_fragment
from app.web.i18n import gettext as _

Req = Request[Any, Any, Any]
NEW_ROUND = {
    "kind": "document",
    "judges_per_submission": "3",
    "advancement_rule": "top_n",
    "advancement_value": "5",
}
NEW_CRITERION = {"weight": "1", "scale_min": "1", "scale_max": "5"}
FRAGMENTS = {
    "rubric": "judging/_rubric.html",
    "judges": "judging/_judges.html",
    "assignments": "judging/_assignments.html",
}


async def managed_challenge(request: Req, slug: str) -> dict[str, Any]:
    """The challenge whose judging the user sets up; 404 for everyone else."""
    row = (
        await Challenge.select(Challenge.id, Challenge.slug, Challenge.title_ja, Challenge.title_en)
        .where(Challenge.slug == slug)
        .first()
        .run()
    )
    if row is None:
        raise NotFoundException
    await rounds.managed_facts(viewer_of(request), row["id"])
    return dict(row)


async def managed_round(request: Req, slug: str, round_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The challenge and one of its rounds, for its officials; 404 otherwise."""
    challenge = await managed_challenge(request, slug)
    row, _facts = await rounds.managed_round(viewer_of(request), round_id)
    if row["challenge"] != challenge["id"]:
        raise NotFoundException
    return challenge, row


async def rounds_page(
    request: Req,
    challenge: dict[str, Any],
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    """The rounds of a challenge and the form to add one."""
    context = {
        "challenge": challenge,
        "rounds": await rounds.rounds_of(challenge["id"]),
        "values": values if values is not None else dict(NEW_ROUND),
        "errors": errors or {},
    }
    status = HTTP_422_UNPROCESSABLE_ENTITY if errors else HTTP_200_OK
    return Template("judging/rounds.html", context=context, status_code=status)


async def round_page(
    request: Req,
    challenge: dict[str, Any],
    row: dict[str, Any],
    *,
    section: str = "",
    forms: Mapping[str, dict[str, str]] | None = None,
    errors: Mapping[str, str] | None = None,
    editing: dict[str, Any] | None = None,
    announcement: str = "",
) -> Template:
    """The round page (or, to an HTMX swap, the `section` fragment) with what was typed and its errors."""
    forms = forms or {}
    submissions = await judges.submissions_in_scope(row)
    assignments = await judges.active_assignments(row["id"])
    round_judges = await judges.judges_of(row["id"])
    conflicts = await assigning.conflicts_of(row)
    context = {
        "challenge": challenge,
        "round": row,
        "locked": row["rubric_locked_at"] is not None,
        "may_change_rubric": row["rubric_locked_at"] is None
        or policies.can_change_locked_rubric(viewer_of(request)),
        "criteria": await rounds.criteria_of(row["id"]),
        "editing": editing,
        "round_values": forms.get("round", round_form_values(row)),
        "criterion_values": forms.get("criterion", dict(NEW_CRITERION)),
        "invite_values": forms.get("invite", {}),
        "errors": dict(errors or {}),
        "form_fields": await fields_of(challenge["id"]),
        "hidden_ids": set(row["hidden_field_ids"] or []),
        "judges": round_judges,
        "assignable": [judge for judge in round_judges if judge["user"] is not None],
        "submissions": submissions,
        "assigned": {(a["judge"], a["submission"]): a["id"] for a in assignments},
        "loads": assigning.loads(assignments),
        "conflicts": conflicts,
        "reasons": reason_texts(),
        "announcement": announcement,
        "swapped": wants_fragment(request),
        "conflicted": {(c["judge"], c["submission"]) for c in conflicts if c["conflicted"]},
    }
    status = HTTP_422_UNPROCESSABLE_ENTITY if errors else HTTP_200_OK
    fragment = FRAGMENTS.get(section, "judging/round.html")
    return page_or_fragment(request, "judging/round.html", fragment, context, status)


class RoundSetupController(Controller):
    """Officials define a challenge's rounds, their rubric, judges and assignments."""

    path = "/challenges/{slug:str}/rounds"
    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/", name="judging_rounds")
    async def index(self, request: Req, slug: FromPath[str]) -> Template:
        """The rounds in order, with the form to add one."""
        return await rounds_page(request, await managed_challenge(request, slug))

    @post("/", status_code=HTTP_200_OK)
    async def create(self, request: Req, slug: FromPath[str]) -> Template | Response[Any]:
        """Add a round."""
        challenge = await managed_challenge(request, slug)
        values = await form_values(request)
        try:
            round_id = await rounds.create_round(
                viewer_of(request), challenge["id"], parse_round_form(values), now=utcnow()
            )
        except InvalidInput as invalid:
            return await rounds_page(request, challenge, values, invalid.errors)
        flash(request, _("The round was added. Now define its rubric and invite judges."), "success")
        return redirect_after_post(request, f"/challenges/{slug}/rounds/{round_id}")

    @get("/{round_id:int}", name="judging_round")
    async def show(self, request: Req, slug: FromPath[str], round_id: FromPath[int]) -> Template:
        """Settings, rubric, judges, assignments and conflicts of one round."""
        challenge, row = await managed_round(request, slug, round_id)
        return await round_page(request, challenge, row)

    @post("/{round_id:int}", status_code=HTTP_200_OK)
    async def update(
        self, request: Req, slug: FromPath[str], round_id: FromPath[int]
    ) -> Template | Response[Any]:
        """Save the round's window and rules."""
        challenge, row = await managed_round(request, slug, round_id)
        values = await form_values(request)
        try:
            await rounds.update_round(viewer_of(request), round_id, parse_round_form(values), now=utcnow())
        except InvalidInput as invalid:
            return await round_page(request, challenge, row, forms={"round": values}, errors=invalid.errors)
        flash(request, _("The round was saved."), "success")
        return redirect_after_post(request, f"/challenges/{slug}/rounds/{round_id}")

    @post("/{round_id:int}/hidden-fields", status_code=HTTP_200_OK)
    async def hidden_fields(
        self, request: Req, slug: FromPath[str], round_id: FromPath[int]
    ) -> Response[Any]:
        """Mark the form fields that identify the applicant (hidden from blind judges)."""
        await managed_round(request, slug, round_id)
        form = await request.form()
        chosen = [int(value) for value in form.getall("hidden", []) if str(value).isdecimal()]
        await rounds.set_hidden_fields(viewer_of(request), round_id, chosen, now=utcnow())
        flash(request, _("The identifying fields were saved."), "success")
        return redirect_after_post(request, f"/challenges/{slug}/rounds/{round_id}#hidden-fields")

    @post("/{round_id:int}/criteria", status_code=HTTP_200_OK)
    async def add_criterion(
        self, request: Req, slug: FromPath[str], round_id: FromPath[int]
    ) -> Template | Response[Any]:
        """Append a criterion to the rubric."""
        challenge, row = await managed_round(request, slug, round_id)
        values = await form_values(request)
        try:
            parsed = parse_criterion_form(values)
            await rounds.add_criterion(viewer_of(request), round_id, parsed, now=utcnow())
        except InvalidInput as invalid:
            return await round_page(
                request, challenge, row, section="rubric", forms={"criterion": values}, errors=invalid.errors
            )
        return await after_change(request, challenge, row, "rubric", _("The criterion was added."))

    @get("/{round_id:int}/criteria/{criterion_id:int}", name="judging_criterion_edit")
    async def edit_criterion(
        self, request: Req, slug: FromPath[str], round_id: FromPath[int], criterion_id: FromPath[int]
    ) -> Template:
        """The round page with one criterion's edit form."""
        challenge, row = await managed_round(request, slug, round_id)
        editing = await rounds.stored_criterion(round_id, criterion_id)
        forms = {"criterion": criterion_form_values(editing)}
        return await round_page(request, challenge, row, section="rubric", forms=forms, editing=editing)

    @post("/{round_id:int}/criteria/{criterion_id:int}", status_code=HTTP_200_OK)
    async def update_criterion(
        self, request: Req, slug: FromPath[str], round_id: FromPath[int], criterion_id: FromPath[int]
    ) -> Template | Response[Any]:
        """Save a changed criterion."""
        challenge, row = await managed_round(request, slug, round_id)
        editing = await rounds.stored_criterion(round_id, criterion_id)
        values = await form_values(request)
        try:
            parsed = parse_criterion_form(values)
            await rounds.update_criterion(viewer_of(request), round_id, criterion_id, parsed, now=utcnow())
        except InvalidInput as invalid:
            forms = {"criterion": values}
            return await round_page(
                request, challenge, row, section="rubric", forms=forms, errors=invalid.errors, editing=editing
            )
        return await after_change(request, challenge, row, "rubric", _("The criterion was saved."))

    @post("/{round_id:int}/criteria/{criterion_id:int}/remove", status_code=HTTP_200_OK)
    async def remove_criterion(
        self, request: Req, slug: FromPath[str], round_id: FromPath[int], criterion_id: FromPath[int]
    ) -> Template | Response[Any]:
        """Remove a criterion nobody has scored."""
        return await act(
            request,
            slug,
            round_id,
            "rubric",
            _("The criterion was removed."),
            lambda user: rounds.remove_criterion(user, round_id, criterion_id, now=utcnow()),
        )

    @post("/{round_id:int}/judges", status_code=HTTP_200_OK)
    async def invite(
        self, request: Req, slug: FromPath[str], round_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Template | Response[Any]:
        """Invite a judge by email (an existing account at once, anyone else by a link)."""
        challenge, row = await managed_round(request, slug, round_id)
        values = await form_values(request)
        try:
            await judges.invite_judge(
                viewer_of(request),
                round_id,
                values.get("email", ""),
                secret_key=settings.secret_key,
                now=utcnow(),
            )
        except InvalidInput as invalid:
            forms = {"invite": values}
            return await round_page(
                request, challenge, row, section="judges", forms=forms, errors=invalid.errors
            )
        return await after_change(request, challenge, row, "judges", _("The invitation was sent."))

    @post("/{round_id:int}/judges/{round_judge_id:int}/remove", status_code=HTTP_200_OK)
    async def remove_judge(
        self, request: Req, slug: FromPath[str], round_id: FromPath[int], round_judge_id: FromPath[int]
    ) -> Template | Response[Any]:
        """Drop a judge: their applications are re-balanced over the others."""
        return await act(
            request,
            slug,
            round_id,
            "judges",
            _("The judge was removed and their applications re-balanced."),
            lambda user: assigning.remove_judge(user, round_id, round_judge_id, now=utcnow()),
        )

    @post("/{round_id:int}/assignments/auto", status_code=HTTP_200_OK)
    async def auto_assign(
        self, request: Req, slug: FromPath[str], round_id: FromPath[int]
    ) -> Template | Response[Any]:
        """Assign judges automatically, balanced, keeping what is already assigned."""
        challenge, row = await managed_round(request, slug, round_id)
        try:
            plan = await assigning.auto_assign(viewer_of(request), round_id, now=utcnow())
        except InvalidInput as invalid:
            return await round_page(request, challenge, row, section="assignments", errors=invalid.errors)
        done = _("Judges were assigned automatically.")
        if plan.shortfall:
            done = _(
                "Judges were assigned, but conflicts of interest leave %(count)s applications with fewer "
                "judges than required."
            ) % {"count": len(plan.shortfall)}
        return await after_change(request, challenge, row, "assignments", done)

    @post("/{round_id:int}/assignments", status_code=HTTP_200_OK)
    async def assign(
        self, request: Req, slug: FromPath[str], round_id: FromPath[int]
    ) -> Template | Response[Any]:
        """Assign one judge to one application by hand."""
        values = await form_values(request)
        judge_id, submission_id = number(values.get("judge")), number(values.get("submission"))
        return await act(
            request,
            slug,
            round_id,
            "assignments",
            _("The judge was assigned."),
            lambda user: assigning.assign(user, round_id, judge_id, submission_id, now=utcnow()),
        )

    @post("/{round_id:int}/assignments/{assignment_id:int}/remove", status_code=HTTP_200_OK)
    async def unassign(
        self, request: Req, slug: FromPath[str], round_id: FromPath[int], assignment_id: FromPath[int]
    ) -> Template | Response[Any]:
        """End one assignment."""
        return await act(
            request,
            slug,
            round_id,
            "assignments",
            _("The assignment was removed."),
            lambda user: assigning.unassign(user, round_id, assignment_id, now=utcnow()),
        )

    @post("/{round_id:int}/assignments/{assignment_id:int}/reassign", status_code=HTTP_200_OK)
    async def reassign(
        self, request: Req, slug: FromPath[str], round_id: FromPath[int], assignment_id: FromPath[int]
    ) -> Template | Response[Any]:
        """Move one assignment to another judge (after a conflict was declared)."""
        judge_id = number((await form_values(request)).get("judge"))
        return await act(
            request,
            slug,
            round_id,
            "assignments",
            _("The application was reassigned."),
            lambda user: assigning.reassign(user, round_id, assignment_id, judge_id, now=utcnow()),
        )


def number(text: str | None) -> int:
    """A chosen id from a select (0, which matches nothing, when missing)."""
    return int(text) if text and text.isdecimal() else 0


async def act(
    request: Req, slug: str, round_id: int, section: str, done: str, action: Callable[[Any], Awaitable[Any]]
) -> Template | Response[Any]:
    """Run one action of the round page; refusals come back beside the section, with a 422."""
    challenge, row = await managed_round(request, slug, round_id)
    try:
        await action(viewer_of(request))
    except InvalidInput as invalid:
        return await round_page(request, challenge, row, section=section, errors=invalid.errors)
    return await after_change(request, challenge, row, section, done)


async def after_change(
    request: Req, challenge: dict[str, Any], row: dict[str, Any], section: str, announcement: str
) -> Template | Response[Any]:
    """The changed section with an announcement for HTMX; a plain form goes back to the page."""
    if wants_fragment(request):
        fresh, _facts = await rounds.managed_round(viewer_of(request), row["id"])
        return await round_page(request, challenge, fresh, section=section, announcement=announcement)
    flash(request, announcement, "success")
    return redirect_after_post(request, f"/challenges/{challenge['slug']}/rounds/{row['id']}#{section}")


class JudgeInvitationController(Controller):
    """A judge opens the emailed link and, signed in, accepts it."""

    path = "/judging/invitations/{token:str}"

    @get("/", name="judge_invitation")
    async def show(self, request: Req, token: FromPath[str], settings: NamedDependency[Settings]) -> Template:
        """What the invitation is for, and a button to accept it (or to sign in first)."""
        try:
            invitation = await judges.read_judge_invitation(token, secret_key=settings.secret_key)
        except judges.InvitationUnusable:
            return Template("judging/invitation_unusable.html", status_code=HTTP_400_BAD_REQUEST)
        context = {"invitation": invitation, "token": token}
        return Template("judging/invitation.html", context=context)

    @post("/", guards=[signed_in], status_code=HTTP_200_OK)
    async def accept(
        self, request: Req, token: FromPath[str], settings: NamedDependency[Settings]
    ) -> Template | Response[Any]:
        """Become the judge the invitation was for."""
        user = viewer_of(request)
        try:
            if user is None:  # the guard lets only signed-in users through
                raise judges.InvitationUnusable
            await judges.accept_judge_invitation(user, token, secret_key=settings.secret_key, now=utcnow())
        except judges.InvitationUnusable:
            return Template("judging/invitation_unusable.html", status_code=HTTP_400_BAD_REQUEST)
        flash(
            request,
            _("You are now a judge of this round. Your applications appear once assigned."),
            "success",
        )
        return redirect_after_post(request, "/judging")


CONTROLLERS = [RoundSetupController, JudgeInvitationController]
