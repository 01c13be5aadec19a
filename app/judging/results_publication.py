"""Final results: an official proposes winners, another official or an admin approves, then publication."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from litestar.exceptions import NotFoundException
from litestar.status_codes import HTTP_403_FORBIDDEN

from app.accounts.viewer import Viewer
from app.challenges.lifecycle import ChallengeFacts, Status
from app.challenges.services import load_facts, record_event
from app.challenges.tables import Challenge
from app.judging import audit
from app.judging.policies import can_approve_results, can_manage_judging, can_propose_results
from app.judging.results import REASON_MAX_CHARS, Refused, in_play, members_by_organization
from app.judging.tables import ResultProposal
from app.notifications.outbox import notify_users
from app.search.changes import record_search_change
from app.submissions.state import SubmissionStatus
from app.submissions.tables import Submission
from app.web.i18n import gettext as _
from app.web.page_cache import forget_public_pages

# What a proposal decides for each application still competing: selected, finalist, or not selected.
DECISIONS = tuple(
    status.value
    for status in (SubmissionStatus.WINNER, SubmissionStatus.ADVANCED, SubmissionStatus.NOT_SELECTED)
)


async def open_proposal(challenge_id: int) -> dict[str, Any] | None:
    """The latest proposal not withdrawn (published or not), with its people's names."""
    row: dict[str, Any] | None = await (
        ResultProposal.select(
            *ResultProposal.all_columns(),
            ResultProposal.proposed_by.display_name.as_alias("proposer_name"),
            ResultProposal.approved_by.display_name.as_alias("approver_name"),
        )
        .where((ResultProposal.challenge == challenge_id) & ResultProposal.withdrawn_at.is_null())
        .order_by(ResultProposal.id, ascending=False)
        .first()
        .output(load_json=True)
        .run()
    )
    return row


def decisions_from_form(competing: Sequence[Mapping[str, Any]], form: Mapping[str, str]) -> dict[str, str]:
    """`decision-<id>` fields of the proposal form for each competing application (default: not selected)."""
    decisions = {}
    for row in competing:
        value = form.get(f"decision-{row['id']}", SubmissionStatus.NOT_SELECTED.value)
        if value not in DECISIONS:
            raise Refused(_("Choose selected, finalist or not selected for every application."))
        decisions[str(row["id"])] = value
    return decisions


async def propose_results(
    user: Viewer | None, challenge_id: int, form: Mapping[str, str], *, now: datetime
) -> int:
    """Record a proposal of winners (replacing an unpublished one); returns its id.

    Raises:
        NotFoundException: the user may not decide this challenge's results.
        Refused: no winner chosen, or the results are already published.
    """
    async with ResultProposal._meta.db.transaction():
        facts = await deciding_facts(user, challenge_id)
        if user is None or not can_propose_results(user, facts):
            raise Refused(_("Results can be proposed only while judging is under way."))
        competing = await in_play(challenge_id)
        decisions = decisions_from_form(competing, form)
        if SubmissionStatus.WINNER.value not in decisions.values():
            raise Refused(_("Choose at least one selected application."))
        await (
            ResultProposal.update({ResultProposal.withdrawn_at: now})
            .where(
                (ResultProposal.challenge == challenge_id)
                & ResultProposal.withdrawn_at.is_null()
                & ResultProposal.published_at.is_null()
            )
            .run()
        )
        rows = await ResultProposal.insert(
            ResultProposal(
                challenge=challenge_id,
                decisions=json.dumps(decisions),
                show_finalists=form.get("show_finalists") == "1",
                note=form.get("note", "").strip()[:REASON_MAX_CHARS],
                proposed_by=user.id,
                proposed_at=now,
            )
        ).run()
        proposal_id = int(rows[0]["id"])
        await audit.record(
            "results.proposed",
            actor=user.id,
            challenge=challenge_id,
            subject=f"result_proposal:{proposal_id}",
            details={"decisions": decisions, "show_finalists": form.get("show_finalists") == "1"},
            now=now,
        )
    return proposal_id


async def deciding_facts(user: Viewer | None, challenge_id: int) -> ChallengeFacts:
    """The challenge's facts if the user is one of its bureau's officials (or an admin); 404 otherwise."""
    facts = await load_facts(challenge_id)
    if facts is None or not can_manage_judging(user, facts):
        raise NotFoundException
    return facts


async def pending_proposal(challenge_id: int, proposal_id: int) -> dict[str, Any]:
    """The challenge's current unpublished proposal with this id; Refused when it was replaced or is out."""
    proposal = await open_proposal(challenge_id)
    if proposal is None or proposal["id"] != proposal_id:
        raise Refused(_("This proposal was replaced by a newer one. Reload the page."))
    if proposal["published_at"] is not None:
        raise Refused(_("These results are already published."))
    return proposal


async def approve_results(user: Viewer | None, challenge_id: int, proposal_id: int, *, now: datetime) -> None:
    """A second official (or an admin) approves the proposal: the two-person rule.

    Raises:
        NotFoundException: the user may not decide this challenge's results.
        Refused: the user proposed it (403), it was replaced, or it is approved or published already.
    """
    async with ResultProposal._meta.db.transaction():
        facts = await deciding_facts(user, challenge_id)
        proposal = await pending_proposal(challenge_id, proposal_id)
        if user is not None and user.id == proposal["proposed_by"]:
            raise Refused(
                _("You proposed these results: another official or an administrator must approve them."),
                HTTP_403_FORBIDDEN,
            )
        if user is None or not can_approve_results(user, facts, proposal["proposed_by"]):
            raise Refused(_("Results can be approved only while judging is under way."))
        if proposal["approved_at"] is not None:
            raise Refused(_("These results are already approved."))
        await (
            ResultProposal.update({ResultProposal.approved_by: user.id, ResultProposal.approved_at: now})
            .where(ResultProposal.id == proposal_id)
            .run()
        )
        await audit.record(
            "results.approved",
            actor=user.id,
            challenge=challenge_id,
            subject=f"result_proposal:{proposal_id}",
            details={"decisions": proposal["decisions"], "proposed_by": proposal["proposed_by"]},
            now=now,
        )


async def publish_results(user: Viewer | None, challenge_id: int, proposal_id: int, *, now: datetime) -> None:
    """Publish an approved proposal: final statuses, the challenge's status, applicants notified.

    Raises:
        NotFoundException: the user may not decide this challenge's results.
        Refused: not approved yet, replaced, or already published.
    """
    async with ResultProposal._meta.db.transaction():
        facts = await deciding_facts(user, challenge_id)
        proposal = await pending_proposal(challenge_id, proposal_id)
        if user is None or not can_propose_results(user, facts):
            raise Refused(_("Results can be published only while judging is under way."))
        if proposal["approved_at"] is None:
            raise Refused(
                _("Not approved yet: another official or an administrator must approve these results first.")
            )
        # Only one of two concurrent publications gets the row back.
        claimed = await (
            ResultProposal.update({ResultProposal.published_at: now})
            .where((ResultProposal.id == proposal_id) & ResultProposal.published_at.is_null())
            .returning(ResultProposal.id)
            .run()
        )
        if not claimed:
            raise Refused(_("These results are already published."))
        decisions: dict[str, str] = proposal["decisions"]
        competing = await in_play(challenge_id)
        final = {
            row["id"]: decisions.get(str(row["id"]), SubmissionStatus.NOT_SELECTED.value) for row in competing
        }
        for decision in DECISIONS:
            ids = sorted(sid for sid, value in final.items() if value == decision)
            if ids:
                await Submission.update({Submission.status: decision}).where(Submission.id.is_in(ids)).run()
        await (
            Challenge.update({Challenge.status: Status.RESULTS_PUBLISHED.value, Challenge.updated_at: now})
            .where(Challenge.id == challenge_id)
            .run()
        )
        await record_event(challenge_id, user.id, facts.status, Status.RESULTS_PUBLISHED, "", now)
        await record_search_change("challenge", challenge_id, now=now)
        await record_search_change("result", challenge_id, now=now)
        await audit.record(
            "results.published",
            actor=user.id,
            challenge=challenge_id,
            subject=f"result_proposal:{proposal_id}",
            details={"decisions": {str(sid): value for sid, value in sorted(final.items())}},
            now=now,
        )
        await notify_applicants(challenge_id, now)
    await forget_public_pages()


async def notify_applicants(challenge_id: int, now: datetime) -> None:
    """Tell every organization that applied (and was not withdrawn) its final decision."""
    challenge = (
        await Challenge.select(Challenge.slug, Challenge.title_ja, Challenge.title_en)
        .where(Challenge.id == challenge_id)
        .first()
        .run()
    )
    if challenge is None:
        raise NotFoundException
    applied = await (
        Submission.select(Submission.id, Submission.status, Submission.organization)
        .where((Submission.challenge == challenge_id) & Submission.status.is_in(list(DECISIONS)))
        .run()
    )
    members = await members_by_organization(row["organization"] for row in applied)
    for row in applied:
        await notify_users(
            "results_published",
            members.get(row["organization"], []),
            {**challenge, "decision": row["status"]},
            link=f"/submissions/{row['id']}/feedback",
            now=now,
            dedupe_key=f"results:{challenge_id}:{row['id']}:{{user}}",
        )
