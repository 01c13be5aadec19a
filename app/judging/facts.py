"""Loading what judging policies need: a round with its challenge, and one judge's access to a submission."""

from __future__ import annotations

from typing import Any

from litestar.exceptions import NotFoundException

from app.accounts.tables import Membership
from app.challenges.lifecycle import ChallengeFacts, Status
from app.judging.policies import JudgeAccess
from app.judging.tables import Assignment, ConflictDeclaration, Round, Scorecard
from app.submissions.tables import Submission

ROUND_COLUMNS = (
    *Round.all_columns(),
    Round.challenge.bureau.as_alias("challenge_bureau"),
    Round.challenge.status.as_alias("challenge_status"),
    Round.challenge.author.as_alias("challenge_author"),
    Round.challenge.slug.as_alias("challenge_slug"),
    Round.challenge.title_ja.as_alias("challenge_title_ja"),
    Round.challenge.title_en.as_alias("challenge_title_en"),
)


async def round_with_challenge(round_id: int) -> tuple[dict[str, Any], ChallengeFacts]:
    """A round (with its challenge's slug and titles) and the challenge's policy facts; 404 if missing."""
    row = await Round.select(*ROUND_COLUMNS).where(Round.id == round_id).first().output(load_json=True).run()
    if row is None:
        raise NotFoundException
    facts = ChallengeFacts(
        id=row["challenge"],
        bureau_id=row["challenge_bureau"],
        status=Status(row["challenge_status"]),
        author_id=row["challenge_author"],
    )
    return row, facts


async def automatic_conflict(judge_id: int, submission_id: int) -> str | None:
    """Why the system flags a conflict on its own, or None: the judge belongs to the applicant, or to a
    company with the same 法人番号 (the same legal person registered twice)."""
    applicant = await (
        Submission.select(
            Submission.organization, Submission.organization.corporate_number.as_alias("number")
        )
        .where(Submission.id == submission_id)
        .first()
        .run()
    )
    if applicant is None:
        return None
    affiliations = await (
        Membership.select(
            Membership.organization, Membership.organization.corporate_number.as_alias("number")
        )
        .where(Membership.user == judge_id)
        .run()
    )
    if any(row["organization"] == applicant["organization"] for row in affiliations):
        return "member_of_applicant"
    if applicant["number"] and any(row["number"] == applicant["number"] for row in affiliations):
        return "same_corporate_number"
    return None


async def automatic_conflicts(judge_ids: list[int], submission_ids: list[int]) -> dict[tuple[int, int], str]:
    """`automatic_conflict` for every (judge, submission) pair at once, in two queries."""
    if not judge_ids or not submission_ids:
        return {}
    applicants = await (
        Submission.select(
            Submission.id,
            Submission.organization,
            Submission.organization.corporate_number.as_alias("number"),
        )
        .where(Submission.id.is_in(submission_ids))
        .run()
    )
    affiliations = await (
        Membership.select(
            Membership.user,
            Membership.organization,
            Membership.organization.corporate_number.as_alias("number"),
        )
        .where(Membership.user.is_in(judge_ids))
        .run()
    )
    found: dict[tuple[int, int], str] = {}
    for applicant in applicants:
        for affiliation in affiliations:
            pair = (affiliation["user"], applicant["id"])
            if affiliation["organization"] == applicant["organization"]:
                found[pair] = "member_of_applicant"
            elif applicant["number"] and affiliation["number"] == applicant["number"] and pair not in found:
                found[pair] = "same_corporate_number"
    return found


async def conflict_state(judge_id: int, submission_id: int) -> tuple[bool, bool]:
    """(declared, conflicted) for a judge and a submission: any conflict ever declared or flagged stays a
    conflict (a judge cannot take it back alone)."""
    rows = await (
        ConflictDeclaration.select(ConflictDeclaration.conflicted, ConflictDeclaration.source)
        .where((ConflictDeclaration.judge == judge_id) & (ConflictDeclaration.submission == submission_id))
        .run()
    )
    declared = any(row["source"] == "declared" for row in rows)
    conflicted = any(row["conflicted"] for row in rows)
    return declared, conflicted


async def judge_access(judge_id: int, round_row: dict[str, Any], submission_id: int) -> JudgeAccess:
    """Everything the judging policies need about this judge and this submission in this round."""
    assigned = await (
        Assignment.exists()
        .where(
            (Assignment.round == round_row["id"])
            & (Assignment.submission == submission_id)
            & (Assignment.judge == judge_id)
            & Assignment.removed_at.is_null()
        )
        .run()
    )
    declared, conflicted = await conflict_state(judge_id, submission_id)
    card = await (
        Scorecard.select(Scorecard.state)
        .where(
            (Scorecard.round == round_row["id"])
            & (Scorecard.submission == submission_id)
            & (Scorecard.judge == judge_id)
        )
        .first()
        .run()
    )
    return JudgeAccess(
        judge_id=judge_id,
        assigned=bool(assigned),
        declared=declared,
        conflicted=conflicted,
        round_opens_at=round_row["opens_at"],
        round_closes_at=round_row["closes_at"],
        scorecard_final=bool(card and card["state"] == "final"),
        results_published=round_row.get("challenge_status") == Status.RESULTS_PUBLISHED.value,
    )
