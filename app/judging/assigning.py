"""Assignment of judges to applications: balanced or by hand, conflicts kept out, re-balanced on drop-out.

A pair the system flags (the judge belongs to the applicant) gets an automatic conflict declaration the
moment it is considered, and a conflicted pair is never assigned, by hand or by the balancer.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from app.accounts.viewer import Viewer
from app.judging import audit
from app.judging.assignment import AssignmentPlan, balanced_assignment, rebalance
from app.judging.facts import automatic_conflicts
from app.judging.judges import active_assignments, actor, judges_of, submissions_in_scope
from app.judging.rounds import managed_round
from app.judging.tables import Assignment, ConflictDeclaration, Round, RoundJudge
from app.validation import InvalidInput
from app.web.i18n import gettext as _

Pair = tuple[int, int]  # (judge user id, submission id), the order assignment.py uses


async def conflicts_for(
    round_row: dict[str, Any], judge_ids: list[int], submission_ids: list[int], now: datetime
) -> set[Pair]:
    """Every conflicted pair, after recording an automatic declaration for each newly flagged pair."""
    rows = await (
        ConflictDeclaration.select(
            ConflictDeclaration.judge,
            ConflictDeclaration.submission,
            ConflictDeclaration.conflicted,
            ConflictDeclaration.source,
        )
        .where(ConflictDeclaration.judge.is_in(judge_ids or [0]))
        .where(ConflictDeclaration.submission.is_in(submission_ids or [0]))
        .run()
    )
    conflicted = {(r["judge"], r["submission"]) for r in rows if r["conflicted"]}
    flagged = {(r["judge"], r["submission"]) for r in rows if r["source"] == "auto"}
    automatic = await automatic_conflicts(judge_ids, submission_ids)
    for (judge_id, submission_id), reason in sorted(automatic.items()):
        if (judge_id, submission_id) in flagged:
            continue
        await ConflictDeclaration.insert(
            ConflictDeclaration(
                submission=submission_id,
                judge=judge_id,
                conflicted=True,
                reason=reason,
                source="auto",
                declared_at=now,
            )
        ).run()
        await audit.record(
            "conflict_flagged",
            actor=None,
            challenge=round_row["challenge"],
            subject=f"submission:{submission_id}",
            details={"judge": judge_id, "reason": reason},
            now=now,
        )
        conflicted.add((judge_id, submission_id))
    return conflicted


async def insert_pairs(round_id: int, pairs: set[Pair], user: Viewer | None, now: datetime) -> None:
    """Store new assignments."""
    if pairs:
        await Assignment.insert(
            *(
                Assignment(
                    round=round_id,
                    judge=judge,
                    submission=submission,
                    assigned_by=actor(user),
                    assigned_at=now,
                )
                for judge, submission in sorted(pairs)
            )
        ).run()


def pairs_of(plan: AssignmentPlan) -> set[Pair]:
    """The balancer's plan as (judge, submission) pairs."""
    return {
        (judge, submission) for submission, judges in plan.judges_by_submission.items() for judge in judges
    }


def by_submission(pairs: set[Pair], judge_ids: list[int], submission_ids: list[int]) -> dict[int, list[int]]:
    """Current pairs as the balancer reads them: submission -> its judges (every submission listed)."""
    current: dict[int, list[int]] = {submission: [] for submission in submission_ids}
    for judge, submission in sorted(pairs):
        if judge in judge_ids and submission in current:
            current[submission].append(judge)
    return current


async def end_pairs(round_id: int, pairs: set[Pair], now: datetime) -> None:
    """End the assignments of these pairs (the rows stay, with the time they ended)."""
    for judge, submission in sorted(pairs):
        await (
            Assignment.update({Assignment.removed_at: now})
            .where(
                (Assignment.round == round_id)
                & (Assignment.judge == judge)
                & (Assignment.submission == submission)
                & Assignment.removed_at.is_null()
            )
            .run()
        )


async def setup(
    user: Viewer | None, round_id: int, now: datetime
) -> tuple[dict[str, Any], list[int], list[int], set[Pair], set[Pair]]:
    """The round, its judge ids with accounts, submission ids in scope, conflicts and current pairs."""
    row, _facts = await managed_round(user, round_id)
    judge_ids = sorted({j["user"] for j in await judges_of(round_id) if j["user"] is not None})
    submission_ids = [s["id"] for s in await submissions_in_scope(row)]
    conflicts = await conflicts_for(row, judge_ids, submission_ids, now)
    current = {(a["judge"], a["submission"]) for a in await active_assignments(round_id)}
    return row, judge_ids, submission_ids, conflicts, current


async def auto_assign(
    user: Viewer | None, round_id: int, *, now: datetime, seed: int | None = None
) -> AssignmentPlan:
    """Give each submission k judges, loads within 1, keeping current unconflicted pairs; returns the plan."""
    async with Round._meta.db.transaction():
        row, judge_ids, submission_ids, conflicts, current = await setup(user, round_id, now)
        if not judge_ids or not submission_ids:
            why = _("Invite judges and wait for applications before assigning.")
            raise InvalidInput({"assignments": why})
        k = row["judges_per_submission"]
        if k > len(judge_ids):
            raise InvalidInput({"assignments": _("There are fewer judges than judges per application.")})
        existing = by_submission(current, judge_ids, submission_ids)
        plan = balanced_assignment(submission_ids, judge_ids, k, conflicts, existing=existing, seed=seed)
        # A pair assigned earlier and flagged since (e.g. the judge joined the applicant) must end now.
        await end_pairs(round_id, set(plan.dropped_conflicts), now)
        added = pairs_of(plan) - current
        await insert_pairs(round_id, added, user, now)
        await audit.record(
            "assignments_generated",
            actor=actor(user),
            challenge=row["challenge"],
            subject=f"round:{round_id}",
            details={
                "k": k,
                "added": sorted(added),
                "ended_for_conflict": list(plan.dropped_conflicts),
                "shortfall": {str(s): n for s, n in plan.shortfall.items()},
                "seed": seed,
            },
            now=now,
        )
    return plan


async def remove_judge(user: Viewer | None, round_id: int, round_judge_id: int, *, now: datetime) -> int:
    """Drop a judge: their assignments move to the others, balanced; returns how many moved."""
    async with Round._meta.db.transaction():
        row, _facts = await managed_round(user, round_id)
        dropped = next((j for j in await judges_of(round_id) if j["id"] == round_judge_id), None)
        if dropped is None:
            raise InvalidInput({"judges": _("This judge is no longer part of the round.")})
        await RoundJudge.update({RoundJudge.removed_at: now}).where(RoundJudge.id == round_judge_id).run()
        await audit.record(
            "judge_removed",
            actor=actor(user),
            challenge=row["challenge"],
            subject=f"round:{round_id}",
            details={"round_judge": round_judge_id, "user": dropped["user"]},
            now=now,
        )
        if dropped["user"] is None or dropped["user"] in {j["user"] for j in await judges_of(round_id)}:
            return 0
        return await rebalance_after_drop(user, row, dropped["user"], now)


async def rebalance_after_drop(user: Viewer | None, row: dict[str, Any], dropped: int, now: datetime) -> int:
    """End the dropped judge's assignments and hand each submission to the least-loaded eligible judges."""
    round_id = row["id"]
    _row, judge_ids, submission_ids, conflicts, current = await setup(user, round_id, now)
    theirs = {pair for pair in current if pair[0] == dropped}
    if not theirs:
        return 0
    await end_pairs(round_id, theirs, now)
    k = row["judges_per_submission"]
    if k > len(judge_ids):
        # Too few judges remain to reach k: the others keep theirs and the official invites more.
        wanted = current - theirs
    else:
        plan = rebalance(
            by_submission(current, [*judge_ids, dropped], submission_ids), dropped, judge_ids, k, conflicts
        )
        wanted = pairs_of(plan)
    added = wanted - current
    await insert_pairs(round_id, added, user, now)
    await audit.record(
        "assignments_rebalanced",
        actor=actor(user),
        challenge=row["challenge"],
        subject=f"round:{round_id}",
        details={"dropped_judge": dropped, "removed": sorted(theirs), "added": sorted(added)},
        now=now,
    )
    return len(added)


async def assign(
    user: Viewer | None, round_id: int, judge_id: int, submission_id: int, *, now: datetime
) -> None:
    """Assign one judge to one submission by hand (refused for conflicted or duplicate pairs)."""
    async with Round._meta.db.transaction():
        row, judge_ids, submission_ids, conflicts, current = await setup(user, round_id, now)
        if judge_id not in judge_ids or submission_id not in submission_ids:
            raise InvalidInput({"assignments": _("Choose a judge and an application of this round.")})
        if (judge_id, submission_id) in conflicts:
            raise InvalidInput(
                {"assignments": _("This judge has a conflict of interest with this application.")}
            )
        if (judge_id, submission_id) in current:
            raise InvalidInput({"assignments": _("This judge is already assigned to this application.")})
        await insert_pairs(round_id, {(judge_id, submission_id)}, user, now)
        await audit.record(
            "assignment_made",
            actor=actor(user),
            challenge=row["challenge"],
            subject=f"submission:{submission_id}",
            details={"round": round_id, "judge": judge_id},
            now=now,
        )


async def unassign(user: Viewer | None, round_id: int, assignment_id: int, *, now: datetime) -> Pair:
    """End one assignment (the row stays, with the time it ended); returns its pair."""
    async with Round._meta.db.transaction():
        row, _facts = await managed_round(user, round_id)
        found = next((a for a in await active_assignments(round_id) if a["id"] == assignment_id), None)
        if found is None:
            raise InvalidInput({"assignments": _("This assignment has already ended.")})
        await Assignment.update({Assignment.removed_at: now}).where(Assignment.id == assignment_id).run()
        await audit.record(
            "assignment_removed",
            actor=actor(user),
            challenge=row["challenge"],
            subject=f"submission:{found['submission']}",
            details={"round": round_id, "judge": found["judge"]},
            now=now,
        )
    return found["judge"], found["submission"]


async def reassign(
    user: Viewer | None, round_id: int, assignment_id: int, judge_id: int, *, now: datetime
) -> None:
    """Move one assignment to another judge (e.g. after a declared conflict), in one transaction."""
    async with Round._meta.db.transaction():
        _judge, submission_id = await unassign(user, round_id, assignment_id, now=now)
        await assign(user, round_id, judge_id, submission_id, now=now)


async def conflicts_of(round_row: dict[str, Any]) -> list[dict[str, Any]]:
    """Every conflict declaration about this round's applications by its judges, with the reason."""
    submissions = {s["id"]: s for s in await submissions_in_scope(round_row)}
    judges = {j["user"]: j for j in await judges_of(round_row["id"]) if j["user"] is not None}
    rows = await (
        ConflictDeclaration.select(*ConflictDeclaration.all_columns())
        .where(ConflictDeclaration.judge.is_in(list(judges) or [0]))
        .where(ConflictDeclaration.submission.is_in(list(submissions) or [0]))
        .order_by(ConflictDeclaration.declared_at, ascending=False)
        .run()
    )
    assigned = {(a["judge"], a["submission"]): a["id"] for a in await active_assignments(round_row["id"])}
    return [
        {
            **declaration,
            "judge_name": judges[declaration["judge"]]["display_name"],
            "receipt_number": submissions[declaration["submission"]]["receipt_number"],
            "assignment_id": assigned.get((declaration["judge"], declaration["submission"])),
        }
        for declaration in rows
    ]


def loads(assignments: list[dict[str, Any]]) -> Counter[int]:
    """How many applications each judge has."""
    return Counter(a["judge"] for a in assignments)
