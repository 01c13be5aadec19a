"""A judge's work on one submission: the conflict question, scores as append-only events, finalize, unlock."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from litestar.exceptions import NotFoundException
from piccolo.engine.postgres import PostgresEngine

from app.accounts.viewer import Viewer
from app.challenges.lifecycle import ChallengeFacts
from app.judging import audit
from app.judging.facts import automatic_conflict, judge_access, round_with_challenge
from app.judging.policies import (
    JudgeAccess,
    can_declare_conflict,
    can_read_as_judge,
    can_score,
    can_unlock_scorecard,
)
from app.judging.tables import (
    Assignment,
    ConflictDeclaration,
    Criterion,
    CurrentScore,
    Round,
    Scorecard,
    ScoreEvent,
)
from app.validation import InvalidInput
from app.web.i18n import gettext as _

REASON_MAX_CHARS = 2000
COMMENT_MAX_CHARS = 10_000


class StaleScore(Exception):
    """The scorecard changed since the judge's page loaded it (another tab or device): refused with 409."""


@dataclass(frozen=True)
class JudgeContext:
    """A round, its challenge's facts, and what the judging policies know about this judge's access."""

    round: dict[str, Any]
    challenge: ChallengeFacts
    access: JudgeAccess


async def judge_context(
    user: Viewer | None, round_id: int, submission_id: int, now: datetime
) -> JudgeContext:
    """The judge's access to an assigned submission, flagging an automatic conflict when first found.

    Raises:
        NotFoundException: no such round, or the user is not assigned this submission in it.
    """
    if user is None:
        raise NotFoundException
    round_row, challenge = await round_with_challenge(round_id)
    access = await judge_access(user.id, round_row, submission_id)
    if not access.assigned:
        raise NotFoundException
    if not access.conflicted:
        reason = await automatic_conflict(user.id, submission_id)
        if reason is not None:
            async with ConflictDeclaration._meta.db.transaction():
                await ConflictDeclaration.insert(
                    ConflictDeclaration(
                        submission=submission_id, judge=user.id, conflicted=True,
                        reason=reason, source="auto", declared_at=now,
                    )
                ).run()  # fmt: skip
                await audit.record(
                    "conflict.flagged", actor=None, challenge=challenge.id,
                    subject=f"submission:{submission_id}",
                    details={"judge": user.id, "round": round_id, "reason": reason}, now=now,
                )  # fmt: skip
            access = replace(access, conflicted=True)
    return JudgeContext(round=round_row, challenge=challenge, access=access)


async def readable_context(
    user: Viewer | None, round_id: int, submission_id: int, now: datetime
) -> JudgeContext:
    """The context of a submission the judge may open (declared no conflict); 404 otherwise."""
    context = await judge_context(user, round_id, submission_id, now)
    if not can_read_as_judge(user, context.access):
        raise NotFoundException
    return context


async def declare_conflict(
    user: Viewer | None, round_id: int, submission_id: int, *, conflicted: bool, reason: str, now: datetime
) -> None:
    """Answer the conflict question; a conflict, once recorded, can never be taken back by the judge.

    Raises:
        NotFoundException: not assigned, or already conflicted (the submission is closed to this judge).
        InvalidInput: a conflict without a reason, or no answer chosen.
    """
    # Outside the transaction: an automatic flag found here is kept even though this request is refused.
    context = await judge_context(user, round_id, submission_id, now)
    if user is None or context.access.conflicted or not can_declare_conflict(user, context.access):
        raise NotFoundException
    reason = reason.strip()[:REASON_MAX_CHARS]
    if conflicted and not reason:
        raise InvalidInput({"reason": _("Describe the conflict of interest.")})
    async with ConflictDeclaration._meta.db.transaction():
        await ConflictDeclaration.insert(
            ConflictDeclaration(
                submission=submission_id, judge=user.id, conflicted=conflicted,
                reason=reason, source="declared", declared_at=now,
            )
        ).run()  # fmt: skip
        await audit.record(
            "conflict.declared", actor=user.id, challenge=context.challenge.id,
            subject=f"submission:{submission_id}",
            details={"round": round_id, "conflicted": conflicted, "reason": reason}, now=now,
        )  # fmt: skip


async def scorecard_row(round_id: int, submission_id: int, judge_id: int) -> dict[str, Any] | None:
    """The judge's scorecard for the submission in the round, or None before the first score."""
    row: dict[str, Any] | None = await (
        Scorecard.select()
        .where(
            (Scorecard.round == round_id)
            & (Scorecard.submission == submission_id)
            & (Scorecard.judge == judge_id)
        )
        .first()
        .run()
    )
    return row


async def open_scorecard(round_id: int, submission_id: int, judge_id: int) -> dict[str, Any]:
    """The scorecard, created (version 0) if missing; call inside the write transaction."""
    engine = Scorecard._meta.db
    if isinstance(engine, PostgresEngine):
        # Two first saves at once must not create two scorecards: they queue on the assignment row.
        await (
            Assignment.select(Assignment.id)
            .where(
                (Assignment.round == round_id)
                & (Assignment.submission == submission_id)
                & (Assignment.judge == judge_id)
            )
            .lock_rows("UPDATE")
            .run()
        )
    row = await scorecard_row(round_id, submission_id, judge_id)
    if row is not None:
        return row
    await Scorecard.insert(
        Scorecard(
            round=round_id, submission=submission_id, judge=judge_id, version=0, state="open", comment=""
        )
    ).run()
    created = await scorecard_row(round_id, submission_id, judge_id)
    assert created is not None  # noqa: S101 (inserted just above in this transaction)
    return created


def closed_message(context: JudgeContext, now: datetime) -> str:
    """Why the judge cannot change this scorecard now, in the reader's language."""
    if context.access.scorecard_final:
        return _("This scorecard is finalized. Ask the official to unlock it to make changes.")
    if context.access.results_published:
        return _("The results are published. Scores can no longer be changed.")
    if not context.access.window_open(now) and context.round["opens_at"] and now < context.round["opens_at"]:
        return _("Scoring for this round has not started yet. Nothing was saved.")
    return _("Scoring for this round is closed. Nothing was saved.")


async def scorable_context(
    user: Viewer | None, round_id: int, submission_id: int, now: datetime
) -> JudgeContext:
    """The context of a scorecard the judge may change now.

    Raises:
        NotFoundException: the judge may not open the submission.
        InvalidInput: the window is closed, the scorecard is final or the results are published.
    """
    context = await readable_context(user, round_id, submission_id, now)
    if not can_score(user, context.access, now):
        raise InvalidInput({"form": closed_message(context, now)})
    return context


def parse_score(raw: str, criterion: dict[str, Any]) -> int:
    """A whole number within the criterion's scale, or InvalidInput naming the scale."""
    text = raw.strip()
    low, high = criterion["scale_min"], criterion["scale_max"]
    key = f"criterion-{criterion['id']}"
    if not text.lstrip("-").isdecimal():
        raise InvalidInput({key: _("Choose a whole number from {low} to {high}.").format(low=low, high=high)})
    value = int(text)
    if not low <= value <= high:
        raise InvalidInput({key: _("Choose a score from {low} to {high}.").format(low=low, high=high)})
    return value


async def record_score(
    user: Viewer | None, round_id: int, submission_id: int, criterion_id: int, value: str, version: int, *,
    now: datetime,
) -> int:  # fmt: skip
    """Append a score event if the scorecard is still at `version`; returns the scorecard's new version.

    Raises:
        NotFoundException: not readable by this judge, or the criterion is not one of this round's.
        InvalidInput: scoring is closed, or the value is not a whole number on the criterion's scale.
        StaleScore: the scorecard changed since the judge's page loaded it.
    """
    # Access first, outside the transaction, so an automatic conflict flag found on the way is kept; the
    # compare-and-set below still refuses a scorecard finalized in between.
    context = await readable_context(user, round_id, submission_id, now)
    async with Scorecard._meta.db.transaction():
        criterion = await (
            Criterion.select(Criterion.id, Criterion.scale_min, Criterion.scale_max)
            .where((Criterion.id == criterion_id) & (Criterion.round == round_id))
            .first()
            .run()
        )
        if user is None or criterion is None:
            raise NotFoundException
        if not can_score(user, context.access, now):
            raise InvalidInput({"form": closed_message(context, now)})
        score = parse_score(value, criterion)
        card = await open_scorecard(round_id, submission_id, user.id)
        # Compare-and-set: the row lock taken by this UPDATE serializes concurrent saves of one scorecard.
        bumped = await (
            Scorecard.update({Scorecard.version: Scorecard.version + 1})
            .where(
                (Scorecard.id == card["id"]) & (Scorecard.version == version) & (Scorecard.state == "open")
            )
            .returning(Scorecard.version)
            .run()
        )
        if not bumped:
            raise StaleScore
        new_version: int = bumped[0]["version"]
        current = await (
            CurrentScore.select(CurrentScore.id, CurrentScore.value)
            .where((CurrentScore.scorecard == card["id"]) & (CurrentScore.criterion == criterion_id))
            .first()
            .run()
        )
        old = current["value"] if current else None
        await ScoreEvent.insert(
            ScoreEvent(
                scorecard=card["id"], criterion=criterion_id, old_value=old, new_value=float(score),
                version=new_version, judge=user.id, happened_at=now,
            )
        ).run()  # fmt: skip
        if current is None:
            await CurrentScore.insert(
                CurrentScore(scorecard=card["id"], criterion=criterion_id, value=float(score), updated_at=now)
            ).run()
        else:
            await (
                CurrentScore.update({CurrentScore.value: float(score), CurrentScore.updated_at: now})
                .where(CurrentScore.id == current["id"])
                .run()
            )
        # The first score of a round freezes its rubric (only an admin may change it afterwards).
        await (
            Round.update({Round.rubric_locked_at: now})
            .where((Round.id == round_id) & Round.rubric_locked_at.is_null())
            .run()
        )
        await audit.record(
            "score.recorded", actor=user.id, challenge=context.challenge.id,
            subject=f"scorecard:{card['id']}",
            details={"criterion": criterion_id, "old": old, "new": score, "version": new_version}, now=now,
        )  # fmt: skip
    return new_version


async def set_comment(
    user: Viewer | None, round_id: int, submission_id: int, comment: str, shareable: bool, *, now: datetime
) -> None:
    """Save the overall comment and whether the applicant may read it (no version bump: scores are separate).

    Raises:
        NotFoundException: not readable by this judge.
        InvalidInput: scoring is closed or the scorecard is final.
    """
    context = await scorable_context(user, round_id, submission_id, now)
    assert user is not None  # noqa: S101 (scorable_context lets only the judge through)
    async with Scorecard._meta.db.transaction():
        card = await open_scorecard(round_id, submission_id, user.id)
        if card["state"] != "open":  # finalized since the access check
            raise InvalidInput({"form": closed_message(context, now)})
        text = comment.strip()[:COMMENT_MAX_CHARS]
        if text == card["comment"] and shareable == card["comment_shareable"]:
            return
        await (
            Scorecard.update({Scorecard.comment: text, Scorecard.comment_shareable: shareable})
            .where(Scorecard.id == card["id"])
            .run()
        )
        await audit.record(
            "scorecard.commented", actor=user.id, challenge=context.challenge.id,
            subject=f"scorecard:{card['id']}",
            details={"comment": text, "shareable": shareable}, now=now,
        )  # fmt: skip


async def finalize_scorecard(
    user: Viewer | None, round_id: int, submission_id: int, *, now: datetime
) -> None:
    """Lock the scorecard once every criterion is scored (and commented, when the round requires it).

    Raises:
        NotFoundException: not readable by this judge.
        InvalidInput: scoring is closed, or something is missing (every gap is named).
    """
    context = await scorable_context(user, round_id, submission_id, now)
    assert user is not None  # noqa: S101 (scorable_context lets only the judge through)
    async with Scorecard._meta.db.transaction():
        card = await open_scorecard(round_id, submission_id, user.id)
        if card["state"] != "open":  # finalized since the access check
            raise InvalidInput({"form": closed_message(context, now)})
        criteria = await Criterion.select(Criterion.id).where(Criterion.round == round_id).run()
        scored = {
            row["criterion"]
            for row in await CurrentScore.select(CurrentScore.criterion)
            .where((CurrentScore.scorecard == card["id"]) & CurrentScore.value.is_not_null())
            .run()
        }
        errors = {
            f"criterion-{row['id']}": _("Choose a score for this criterion.")
            for row in criteria
            if row["id"] not in scored
        }
        if context.round["comments_required"] and not card["comment"].strip():
            errors["comment"] = _("This round requires an overall comment.")
        if errors:
            errors["form"] = _("The scorecard is not complete. Nothing was finalized.")
            raise InvalidInput(errors)
        await (
            Scorecard.update({Scorecard.state: "final", Scorecard.finalized_at: now})
            .where(Scorecard.id == card["id"])
            .run()
        )
        await audit.record(
            "scorecard.finalized", actor=user.id, challenge=context.challenge.id,
            subject=f"scorecard:{card['id']}",
            details={"round": round_id, "submission": submission_id, "version": card["version"]}, now=now,
        )  # fmt: skip


async def unlock_scorecard(
    user: Viewer | None, round_id: int, submission_id: int, judge_id: int, *, now: datetime
) -> None:
    """An official reopens a finalized scorecard; the audit trail keeps who did it and when.

    Raises:
        NotFoundException: not an official of the bureau, or no such scorecard.
        InvalidInput: the scorecard is not finalized.
    """
    async with Scorecard._meta.db.transaction():
        round_row, challenge = await round_with_challenge(round_id)
        if user is None or not can_unlock_scorecard(user, challenge):
            raise NotFoundException
        card = await scorecard_row(round_row["id"], submission_id, judge_id)
        if card is None:
            raise NotFoundException
        if card["state"] != "final":
            raise InvalidInput({"form": _("This scorecard is not finalized.")})
        await (
            Scorecard.update(
                {Scorecard.state: "open", Scorecard.unlocked_by: user.id, Scorecard.unlocked_at: now}
            )
            .where(Scorecard.id == card["id"])
            .run()
        )
        await audit.record(
            "scorecard.unlocked", actor=user.id, challenge=challenge.id, subject=f"scorecard:{card['id']}",
            details={"judge": judge_id, "round": round_id, "submission": submission_id}, now=now,
        )  # fmt: skip
