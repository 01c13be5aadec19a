"""Rounds and their rubric: officials define the scoring window, rules and weighted criteria of each round.

The rubric locks when the first score is recorded (the scoring code sets `Round.rubric_locked_at`); from
then on only an admin may change a criterion, and every such change is written to the audit trail.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from litestar.exceptions import NotFoundException, PermissionDeniedException

from app.accounts.viewer import Viewer
from app.challenges.lifecycle import ChallengeFacts
from app.challenges.services import visible_facts
from app.judging import audit, policies
from app.judging.facts import round_with_challenge
from app.judging.round_forms import CriterionValues, RoundValues
from app.judging.tables import Criterion, CurrentScore, Round, ScoreEvent
from app.submissions.tables import FormField
from app.validation import InvalidInput
from app.web.i18n import gettext as _


async def managed_facts(user: Viewer | None, challenge_id: int) -> ChallengeFacts:
    """The challenge's facts when the user may set up its judging; 404 for everyone else."""
    facts = await visible_facts(user, challenge_id)
    # Judging set-up is the bureau's internal work: outsiders are not told it exists.
    if not policies.can_manage_judging(user, facts):
        raise NotFoundException
    return facts


async def managed_round(user: Viewer | None, round_id: int) -> tuple[dict[str, Any], ChallengeFacts]:
    """A round (with its challenge) the user may set up; 404 otherwise."""
    row, facts = await round_with_challenge(round_id)
    return row, await managed_facts(user, facts.id)


async def rounds_of(challenge_id: int) -> list[dict[str, Any]]:
    """The rounds of a challenge in order."""
    rows: list[dict[str, Any]] = (
        await Round.select(*Round.all_columns())
        .where(Round.challenge == challenge_id)
        .order_by(Round.position)
        .output(load_json=True)
        .run()
    )
    return rows


async def criteria_of(round_id: int) -> list[dict[str, Any]]:
    """The rubric of a round in order, levels loaded as a dict."""
    rows: list[dict[str, Any]] = (
        await Criterion.select(*Criterion.all_columns())
        .where(Criterion.round == round_id)
        .order_by(Criterion.position, Criterion.id)
        .output(load_json=True)
        .run()
    )
    return rows


def round_columns(values: RoundValues) -> dict[Any, Any]:
    """Round column -> value."""
    return {getattr(Round, name): value for name, value in asdict(values).items()}


async def create_round(user: Viewer | None, challenge_id: int, values: RoundValues, *, now: datetime) -> int:
    """Append a round to the challenge; returns its id (404 when the user may not set up judging)."""
    async with Round._meta.db.transaction():
        await managed_facts(user, challenge_id)
        last = (
            await Round.select(Round.position)
            .where(Round.challenge == challenge_id)
            .order_by(Round.position, ascending=False)
            .first()
            .run()
        )
        position = last["position"] + 1 if last else 1
        rows = await Round.insert(
            Round(challenge=challenge_id, position=position, created_at=now, **asdict(values))
        ).run()
        round_id: int = rows[0]["id"]
        await audit.record(
            "round_created",
            actor=user.id if user else None,
            challenge=challenge_id,
            subject=f"round:{round_id}",
            details={"position": position, **asdict(values)},
            now=now,
        )
    return round_id


async def update_round(user: Viewer | None, round_id: int, values: RoundValues, *, now: datetime) -> None:
    """Change a round's window and rules (recorded with the values before and after)."""
    async with Round._meta.db.transaction():
        row, facts = await managed_round(user, round_id)
        await Round.update(round_columns(values)).where(Round.id == round_id).run()
        before = {name: row[name] for name in asdict(values)}
        await audit.record(
            "round_updated",
            actor=user.id if user else None,
            challenge=facts.id,
            subject=f"round:{round_id}",
            details={"before": before, "after": asdict(values)},
            now=now,
        )


async def set_hidden_fields(
    user: Viewer | None, round_id: int, field_ids: list[int], *, now: datetime
) -> None:
    """Mark which form fields identify the applicant: blind judges do not see them."""
    async with Round._meta.db.transaction():
        _row, facts = await managed_round(user, round_id)
        known = await FormField.select(FormField.id).where(FormField.challenge == facts.id).run()
        chosen = sorted({field_id for field_id in field_ids if field_id in {r["id"] for r in known}})
        await Round.update({Round.hidden_field_ids: chosen}).where(Round.id == round_id).run()
        await audit.record(
            "hidden_fields_set",
            actor=user.id if user else None,
            challenge=facts.id,
            subject=f"round:{round_id}",
            details={"field_ids": chosen},
            now=now,
        )


async def editable_rubric(user: Viewer | None, round_id: int) -> tuple[dict[str, Any], ChallengeFacts]:
    """The round whose rubric the user may change now (inside the caller's transaction).

    Raises:
        NotFoundException: the user may not set up this round's judging.
        PermissionDeniedException: the rubric is locked by a recorded score and the user is not an admin.
    """
    row, facts = await managed_round(user, round_id)
    if row["rubric_locked_at"] is not None and not policies.can_change_locked_rubric(user):
        raise PermissionDeniedException(
            _("Scores have been recorded: only an administrator can change the rubric.")
        )
    return row, facts


async def record_rubric_change(
    user: Viewer | None, row: dict[str, Any], facts: ChallengeFacts, details: dict[str, Any], now: datetime
) -> None:
    """Write a rubric change to the audit trail, marked when it happened after the lock."""
    action = "rubric_changed_after_lock" if row["rubric_locked_at"] is not None else "rubric_changed"
    await audit.record(
        action,
        actor=user.id if user else None,
        challenge=facts.id,
        subject=f"round:{row['id']}",
        details=details,
        now=now,
    )


async def add_criterion(user: Viewer | None, round_id: int, values: CriterionValues, *, now: datetime) -> int:
    """Append a criterion to the rubric; returns its id."""
    async with Round._meta.db.transaction():
        row, facts = await editable_rubric(user, round_id)
        last = (
            await Criterion.select(Criterion.position)
            .where(Criterion.round == round_id)
            .order_by(Criterion.position, ascending=False)
            .first()
            .run()
        )
        rows = await Criterion.insert(
            Criterion(round=round_id, position=last["position"] + 1 if last else 0, **asdict(values))
        ).run()
        criterion_id: int = rows[0]["id"]
        details = {"change": "added", "criterion": criterion_id, "after": asdict(values)}
        await record_rubric_change(user, row, facts, details, now)
    return criterion_id


async def stored_criterion(round_id: int, criterion_id: int) -> dict[str, Any]:
    """One criterion of this round, or 404."""
    for criterion in await criteria_of(round_id):
        if criterion["id"] == criterion_id:
            return criterion
    raise NotFoundException


async def update_criterion(
    user: Viewer | None, round_id: int, criterion_id: int, values: CriterionValues, *, now: datetime
) -> None:
    """Change a criterion (after the lock: admins only, recorded with before and after)."""
    async with Round._meta.db.transaction():
        row, facts = await editable_rubric(user, round_id)
        before = await stored_criterion(round_id, criterion_id)
        columns = {getattr(Criterion, name): value for name, value in asdict(values).items()}
        await Criterion.update(columns).where(Criterion.id == criterion_id).run()
        kept = {name: before[name] for name in asdict(values)}
        details = {"change": "updated", "criterion": criterion_id, "before": kept, "after": asdict(values)}
        await record_rubric_change(user, row, facts, details, now)


async def remove_criterion(user: Viewer | None, round_id: int, criterion_id: int, *, now: datetime) -> None:
    """Delete a criterion nobody has scored (a scored one keeps its evidence: refused)."""
    async with Round._meta.db.transaction():
        row, facts = await editable_rubric(user, round_id)
        before = await stored_criterion(round_id, criterion_id)
        scored = await ScoreEvent.exists().where(ScoreEvent.criterion == criterion_id).run()
        if scored or await CurrentScore.exists().where(CurrentScore.criterion == criterion_id).run():
            raise InvalidInput({"rubric": _("Judges have scored this criterion, so it cannot be removed.")})
        await Criterion.delete().where(Criterion.id == criterion_id).run()
        kept = {name: before[name] for name in ("name_ja", "name_en", "weight", "scale_min", "scale_max")}
        details = {"change": "removed", "criterion": criterion_id, "before": kept}
        await record_rubric_change(user, row, facts, details, now)
