"""A round's scores as aggregation input, the rule's pre-filled selection, and confirming who advances."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar.exceptions import NotFoundException
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY
from markupsafe import Markup
from piccolo.query.functions.aggregate import Count

from app.accounts.tables import Membership, User
from app.accounts.viewer import Viewer
from app.challenges.lifecycle import Status
from app.judging import audit, charts, scoring
from app.judging.facts import round_with_challenge
from app.judging.policies import can_manage_judging
from app.judging.tables import Criterion, CurrentScore, Round, Scorecard
from app.notifications.outbox import notify_users
from app.submissions.state import SubmissionStatus
from app.submissions.tables import Submission
from app.web.i18n import gettext as _

# Still competing: everything else was drafted, withdrawn or decided by an earlier round.
IN_PLAY = (SubmissionStatus.SUBMITTED.value, SubmissionStatus.ADVANCED.value)
DECISIONS = (
    SubmissionStatus.WINNER.value,
    SubmissionStatus.ADVANCED.value,
    SubmissionStatus.NOT_SELECTED.value,
)
DECIDING = (Status.CLOSED, Status.JUDGING)
REASON_MAX_CHARS = 2_000
# A mean that misses the threshold only by float noise (e.g. 69.99999999999999 for 70) still meets it.
THRESHOLD_SLACK = 1e-9


class Refused(Exception):
    """An action the rules do not allow now; `message` tells the official why, and nothing was written."""

    def __init__(self, message: str, status_code: int = HTTP_422_UNPROCESSABLE_ENTITY) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


@dataclass(frozen=True)
class RoundScores:
    """What aggregation reads of a round: its rubric, the final scorecards' scores, scorecard counts."""

    criteria: tuple[dict[str, Any], ...]
    scores: tuple[scoring.Score, ...]
    final_scorecards: int
    all_scorecards: int

    def rubric(self) -> tuple[scoring.Criterion, ...]:
        """The rubric as scoring.py takes it."""
        return tuple(
            scoring.Criterion(
                id=c["id"], weight=c["weight"], scale_min=c["scale_min"], scale_max=c["scale_max"]
            )
            for c in self.criteria
        )


async def round_criteria(round_id: int) -> tuple[dict[str, Any], ...]:
    """The round's criteria in rubric order."""
    rows = await (
        Criterion.select(
            Criterion.id,
            Criterion.name_ja,
            Criterion.name_en,
            Criterion.weight,
            Criterion.scale_min,
            Criterion.scale_max,
        )
        .where(Criterion.round == round_id)
        .order_by(Criterion.position)
        .order_by(Criterion.id)
        .run()
    )
    return tuple(rows)


async def round_scores(round_id: int) -> RoundScores:
    """The rubric and every current score on a final scorecard of the round (open ones do not count yet)."""
    criteria = await round_criteria(round_id)
    rows = await (
        CurrentScore.select(
            CurrentScore.criterion,
            CurrentScore.value,
            CurrentScore.scorecard.submission.as_alias("submission"),
            CurrentScore.scorecard.judge.as_alias("judge"),
        )
        .where(
            (CurrentScore.scorecard.round == round_id)
            & (CurrentScore.scorecard.state == "final")
            & CurrentScore.value.is_not_null()
        )
        .run()
    )
    counts = await (
        Scorecard.select(Scorecard.state, Count())
        .where(Scorecard.round == round_id)
        .group_by(Scorecard.state)
        .run()
    )
    return RoundScores(
        criteria=criteria,
        scores=tuple(
            scoring.Score(
                submission_id=row["submission"],
                judge_id=row["judge"],
                criterion_id=row["criterion"],
                value=float(row["value"]),
            )
            for row in rows
        ),
        final_scorecards=sum(row["count"] for row in counts if row["state"] == "final"),
        all_scorecards=sum(row["count"] for row in counts),
    )


def aggregate_round(inputs: RoundScores, *, normalize: bool) -> scoring.Aggregation | None:
    """The round's aggregation, or None while it has no rubric (scoring.py refuses an empty one)."""
    if not inputs.criteria:
        return None
    return scoring.aggregate(inputs.rubric(), inputs.scores, normalize=normalize)


def prefilled(aggregation: scoring.Aggregation | None, rule: str, value: float) -> set[int]:
    """Who the round's rule advances: rank ≤ N (a tie at the N-th place advances together) or mean ≥ value."""
    if aggregation is None:
        return set()
    if rule == "threshold":
        return {r.submission_id for r in aggregation.results if r.raw_mean >= value - THRESHOLD_SLACK}
    return {r.submission_id for r in aggregation.results if r.rank <= int(value)}


async def in_play(challenge_id: int) -> list[dict[str, Any]]:
    """The challenge's applications still competing, by receipt number, with their organization's names."""
    rows: list[dict[str, Any]] = await (
        Submission.select(
            Submission.id,
            Submission.status,
            Submission.receipt_number,
            Submission.organization,
            Submission.organization.name_ja.as_alias("organization_name_ja"),
            Submission.organization.name_en.as_alias("organization_name_en"),
        )
        .where((Submission.challenge == challenge_id) & Submission.status.is_in(list(IN_PLAY)))
        .order_by(Submission.receipt_number)
        .run()
    )
    return rows


async def members_by_organization(organization_ids: Iterable[int]) -> dict[int, list[int]]:
    """The users of each organization (owners and members)."""
    ids = sorted(set(organization_ids))
    if not ids:
        return {}
    rows = (
        await Membership.select(Membership.user, Membership.organization)
        .where(Membership.organization.is_in(ids))
        .run()
    )
    members: dict[int, list[int]] = {}
    for row in rows:
        members.setdefault(row["organization"], []).append(row["user"])
    return members


async def confirm_advancement(
    user: Viewer | None, round_id: int, chosen: Sequence[int], reason: str, *, now: datetime
) -> list[int]:
    """Advance `chosen`, mark the other competing applications not selected, notify; returns who advanced.

    Raises:
        NotFoundException: the round does not exist or the user may not manage its judging.
        Refused: already confirmed, results already out, an unknown application, or a change without reason.
    """
    async with Round._meta.db.transaction():
        round_row, facts = await round_with_challenge(round_id)
        if not can_manage_judging(user, facts) or user is None:
            raise NotFoundException
        if facts.status not in DECIDING:
            raise Refused(_("Results are already published: advancement can no longer change."))
        if round_row["advanced_at"] is not None:
            raise Refused(_("Advancement for this round was already confirmed."))
        competing = await in_play(facts.id)
        chosen_ids = set(chosen)
        if not chosen_ids <= {row["id"] for row in competing}:
            raise Refused(_("Only applications still in the running can advance."))
        inputs = await round_scores(round_id)
        rule = prefilled(
            aggregate_round(inputs, normalize=round_row["normalize"]),
            round_row["advancement_rule"],
            round_row["advancement_value"],
        )
        reason = reason.strip()[:REASON_MAX_CHARS]
        if chosen_ids != rule and not reason:
            raise Refused(
                _("You changed who the rule advances: give the reason (it is kept in the audit trail).")
            )
        advanced = sorted(chosen_ids)
        not_selected = sorted(row["id"] for row in competing if row["id"] not in chosen_ids)
        if advanced:
            await (
                Submission.update({Submission.status: SubmissionStatus.ADVANCED.value})
                .where(Submission.id.is_in(advanced))
                .run()
            )
        if not_selected:
            await (
                Submission.update({Submission.status: SubmissionStatus.NOT_SELECTED.value})
                .where(Submission.id.is_in(not_selected))
                .run()
            )
        await Round.update({Round.advanced_at: now}).where(Round.id == round_id).run()
        await audit.record(
            "round.advanced",
            actor=user.id,
            challenge=facts.id,
            subject=f"round:{round_id}",
            details={
                "advanced": advanced,
                "not_selected": not_selected,
                "rule": round_row["advancement_rule"],
                "rule_value": round_row["advancement_value"],
                "rule_selection": sorted(rule),
                "adjusted": chosen_ids != rule,
                "reason": reason,
            },
            now=now,
        )
        members = await members_by_organization(row["organization"] for row in competing)
        for row in competing:
            await notify_users(
                "application_advanced",
                members.get(row["organization"], []),
                {
                    "title_ja": round_row["challenge_title_ja"],
                    "title_en": round_row["challenge_title_en"],
                    "slug": round_row["challenge_slug"],
                    "round_name_ja": round_row["name_ja"],
                    "round_name_en": round_row["name_en"],
                    "advanced": row["id"] in chosen_ids,
                },
                link=f"/submissions/{row['id']}",
                now=now,
                dedupe_key=f"advanced:{round_id}:{row['id']}:{{user}}",
            )
    return advanced


async def judge_names(judge_ids: Iterable[int]) -> dict[int, str]:
    """Display names of the judges (the officials' page only: applicants never see them)."""
    ids = sorted(set(judge_ids))
    if not ids:
        return {}
    rows = await User.select(User.id, User.display_name).where(User.id.is_in(ids)).run()
    return {row["id"]: row["display_name"] for row in rows}


def distribution_charts(
    inputs: RoundScores, names: Mapping[int, str], title_of: Mapping[int, str]
) -> dict[str, Markup]:
    """Box plots of the judges' totals (per judge) and of each criterion's scores (percent of its scale)."""
    if not inputs.scores:
        return {}
    rubric = inputs.rubric()
    by_judge: dict[str, list[float]] = {}
    for (_submission, judge_id), total in sorted(scoring.judge_totals(rubric, inputs.scores).items()):
        by_judge.setdefault(names.get(judge_id, f"#{judge_id}"), []).append(total)
    by_criterion = {
        title_of[criterion_id]: values
        for criterion_id, values in scoring.criterion_distributions(rubric, inputs.scores).items()
    }
    # scoring.py escapes every label and emits presentation attributes only: safe to inline under the CSP.
    judges = charts.distribution_svg(by_judge, title=_("Totals per judge (0–100)"), chart_id="chart-judges")
    criteria = charts.distribution_svg(
        by_criterion, title=_("Scores per criterion (percent of each scale)"), chart_id="chart-criteria"
    )
    return {"judges": Markup(judges), "criteria": Markup(criteria)}  # noqa: S704 (escaped by scoring.py)


async def ranking_view(round_row: Mapping[str, Any], challenge_id: int) -> dict[str, Any]:
    """Everything the ranking page shows: both rankings, ties, spread, agreement, charts, the pre-fill."""
    inputs = await round_scores(round_row["id"])
    aggregation = aggregate_round(inputs, normalize=round_row["normalize"])
    competing = await in_play(challenge_id)
    applications = {row["id"]: row for row in competing}
    missing = [sid for sid in {s.submission_id for s in inputs.scores} if sid not in applications]
    if missing:  # decided by an earlier round or at publication: still listed with its scores
        applications.update({row["id"]: row for row in await submissions_by_id(missing)})
    names = await judge_names(judge.judge_id for judge in (aggregation.judges if aggregation else ()))
    results = aggregation.results if aggregation else ()
    official_ranks = [r.rank for r in results]
    return {
        "inputs": inputs,
        "aggregation": aggregation,
        "results": results,
        "applications": applications,
        "unscored": [
            row for row in competing if aggregation is None or aggregation.result_for(row["id"]) is None
        ],
        "tied": {rank for rank in official_ranks if official_ranks.count(rank) > 1},
        "judge_names": names,
        "charts": distribution_charts(inputs, names, {c["id"]: c["name_ja"] for c in inputs.criteria}),
        "prefilled": prefilled(aggregation, round_row["advancement_rule"], round_row["advancement_value"]),
    }


async def submissions_by_id(ids: Sequence[int]) -> list[dict[str, Any]]:
    """Applications by id, with the same columns as `in_play`."""
    rows: list[dict[str, Any]] = await (
        Submission.select(
            Submission.id,
            Submission.status,
            Submission.receipt_number,
            Submission.organization,
            Submission.organization.name_ja.as_alias("organization_name_ja"),
            Submission.organization.name_en.as_alias("organization_name_en"),
        )
        .where(Submission.id.is_in(list(ids)))
        .run()
    )
    return rows
