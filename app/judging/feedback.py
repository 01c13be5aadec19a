"""What the public and applicants learn after publication: results, the 審査経過 summary, own feedback.

Nothing here ever returns a judge's name or one judge's score: feedback is averaged per criterion over the
final scorecards, and only comments the judge marked shareable are shown, without their author.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from litestar.exceptions import NotFoundException
from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Count

from app.challenges.lifecycle import Status
from app.challenges.tables import Challenge
from app.judging.results import round_criteria
from app.judging.tables import Assignment, CurrentScore, ResultProposal, Round, Scorecard
from app.submissions.state import SubmissionStatus
from app.submissions.tables import Submission, SubmissionVersion

# Results stay public once the challenge is archived.
PUBLISHED = (Status.RESULTS_PUBLISHED.value, Status.ARCHIVED.value)
APPLIED = (
    SubmissionStatus.SUBMITTED.value,
    SubmissionStatus.ADVANCED.value,
    SubmissionStatus.NOT_SELECTED.value,
    SubmissionStatus.WINNER.value,
)
LATEST_VERSION_ONLY = WhereRaw(
    '"submission_version"."number" = (SELECT MAX(later."number") FROM "submission_version" later'
    ' WHERE later."submission" = "submission_version"."submission")'
)


async def published_challenge(slug: str) -> dict[str, Any]:
    """A challenge whose results are published; 404 before (nobody may learn anything early)."""
    row: dict[str, Any] | None = await (
        Challenge.select(
            Challenge.id,
            Challenge.slug,
            Challenge.status,
            Challenge.title_ja,
            Challenge.title_en,
            Challenge.bureau.name_ja.as_alias("bureau_name_ja"),
            Challenge.bureau.name_en.as_alias("bureau_name_en"),
            Challenge.applications_close_at,
        )
        .where((Challenge.slug == slug) & Challenge.status.is_in(list(PUBLISHED)))
        .first()
        .run()
    )
    if row is None:
        raise NotFoundException
    return row


async def published_proposal(challenge_id: int) -> dict[str, Any] | None:
    """The proposal that was published (with its publication date)."""
    row: dict[str, Any] | None = await (
        ResultProposal.select(ResultProposal.show_finalists, ResultProposal.published_at)
        .where((ResultProposal.challenge == challenge_id) & ResultProposal.published_at.is_not_null())
        .order_by(ResultProposal.published_at, ascending=False)
        .first()
        .run()
    )
    return row


async def public_results(challenge_id: int) -> dict[str, Any]:
    """Winners (and finalists if the officials chose to show them) with their latest version's summary."""
    proposal = await published_proposal(challenge_id)
    statuses = [SubmissionStatus.WINNER.value]
    if proposal is not None and proposal["show_finalists"]:
        statuses.append(SubmissionStatus.ADVANCED.value)
    rows = await (
        SubmissionVersion.select(
            SubmissionVersion.submission.as_alias("submission_id"),
            SubmissionVersion.content,
            SubmissionVersion.submission.status.as_alias("status"),
            SubmissionVersion.submission.receipt_number.as_alias("receipt_number"),
            SubmissionVersion.submission._.organization._.name_ja.as_alias("organization_name_ja"),
            SubmissionVersion.submission._.organization._.name_en.as_alias("organization_name_en"),
        )
        .where(
            (SubmissionVersion.submission.challenge == challenge_id)
            & SubmissionVersion.submission.status.is_in(statuses)
            & LATEST_VERSION_ONLY
        )
        .order_by(SubmissionVersion.submission.receipt_number)
        .output(load_json=True)
        .run()
    )
    entries = [
        {**{k: v for k, v in row.items() if k != "content"}, "summary": row["content"].get("summary", "")}
        for row in rows
    ]
    return {
        "published_at": proposal["published_at"] if proposal else None,
        "winners": [e for e in entries if e["status"] == SubmissionStatus.WINNER.value],
        "finalists": [e for e in entries if e["status"] == SubmissionStatus.ADVANCED.value],
    }


def weight_shares(criteria: Sequence[dict[str, Any]]) -> list[float]:
    """Each criterion's weight as a percentage of the rubric's total weight."""
    total = math.fsum(c["weight"] for c in criteria)
    return [100.0 * c["weight"] / total if total > 0 else 0.0 for c in criteria]


async def review_summary(challenge_id: int) -> dict[str, Any]:
    """The public 審査経過: counts per status and round, dates, rubrics, the method; no one's scores."""
    statuses = await (
        Submission.select(Submission.status, Count())
        .where((Submission.challenge == challenge_id) & Submission.status.is_in(list(APPLIED)))
        .group_by(Submission.status)
        .run()
    )
    by_status = {row["status"]: row["count"] for row in statuses}
    rounds = await (
        Round.select(
            Round.id,
            Round.position,
            Round.kind,
            Round.name_ja,
            Round.name_en,
            Round.opens_at,
            Round.closes_at,
            Round.normalize,
            Round.advancement_rule,
            Round.advancement_value,
            Round.advanced_at,
        )
        .where(Round.challenge == challenge_id)
        .order_by(Round.position)
        .run()
    )
    for round_row in rounds:
        round_id = round_row["id"]
        assigned = await (
            Assignment.select(Assignment.submission, Assignment.judge)
            .where((Assignment.round == round_id) & Assignment.removed_at.is_null())
            .run()
        )
        finals = await (
            Scorecard.select(Scorecard.submission)
            .where((Scorecard.round == round_id) & (Scorecard.state == "final"))
            .run()
        )
        criteria = await round_criteria(round_id)
        round_row["assigned"] = len({row["submission"] for row in assigned})
        round_row["judges"] = len({row["judge"] for row in assigned})
        round_row["scored"] = len({row["submission"] for row in finals})
        round_row["final_scorecards"] = len(finals)
        round_row["criteria"] = [
            {**criterion, "share": share}
            for criterion, share in zip(criteria, weight_shares(criteria), strict=True)
        ]
    return {
        "applications": sum(by_status.values()),
        "winners": by_status.get(SubmissionStatus.WINNER.value, 0),
        "rounds": rounds,
    }


async def own_submission(submission_id: int) -> dict[str, Any] | None:
    """A submission with its organization and its challenge's slug, titles and status."""
    row: dict[str, Any] | None = await (
        Submission.select(
            Submission.id,
            Submission.status,
            Submission.organization,
            Submission.receipt_number,
            Submission.challenge,
            Submission.challenge.slug.as_alias("challenge_slug"),
            Submission.challenge.status.as_alias("challenge_status"),
            Submission.challenge.title_ja.as_alias("challenge_title_ja"),
            Submission.challenge.title_en.as_alias("challenge_title_en"),
        )
        .where(Submission.id == submission_id)
        .first()
        .run()
    )
    return row


async def applicant_feedback(submission_id: int) -> list[dict[str, Any]]:
    """Per round it was scored in: per-criterion averages over final scorecards, and shared comments."""
    cards = await (
        Scorecard.select(Scorecard.id, Scorecard.round, Scorecard.comment, Scorecard.comment_shareable)
        .where((Scorecard.submission == submission_id) & (Scorecard.state == "final"))
        .run()
    )
    if not cards:
        return []
    round_ids = sorted({card["round"] for card in cards})
    rounds = await (
        Round.select(Round.id, Round.position, Round.name_ja, Round.name_en)
        .where(Round.id.is_in(round_ids))
        .order_by(Round.position)
        .run()
    )
    scores = await (
        CurrentScore.select(CurrentScore.criterion, CurrentScore.value)
        .where(
            CurrentScore.scorecard.is_in([card["id"] for card in cards]) & CurrentScore.value.is_not_null()
        )
        .run()
    )
    values: dict[int, list[float]] = {}
    for score in scores:
        values.setdefault(score["criterion"], []).append(float(score["value"]))
    feedback = []
    for round_row in rounds:
        criteria = await round_criteria(round_row["id"])
        own_cards = [card for card in cards if card["round"] == round_row["id"]]
        feedback.append(
            {
                **round_row,
                "scorecards": len(own_cards),
                "criteria": [
                    {
                        **criterion,
                        "mean": math.fsum(values[criterion["id"]]) / len(values[criterion["id"]])
                        if values.get(criterion["id"])
                        else None,
                    }
                    for criterion in criteria
                ],
                # Sorted, so the order says nothing about which judge wrote which comment.
                "comments": sorted(
                    card["comment"].strip()
                    for card in own_cards
                    if card["comment_shareable"] and card["comment"].strip()
                ),
            }
        )
    return feedback
