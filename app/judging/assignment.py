"""Balanced assignment of judges to submissions: k judges each, loads within one, never a conflicted pair.

Pure functions without I/O. A conflict is a (judge id, submission id) pair that must never be assigned.

Algorithm. (1) Existing assignments are kept as they are (a judge may already have started), except a pair
that is now conflicted, which is dropped and reported. (2) Greedy: submissions in order of fewest eligible
judges first (the hardest to staff choose first), each filled up to min(k, eligible judges) with the
least-loaded eligible judges not already on it. (3) Repair: while two judges' loads differ by 2 or more, look
(breadth-first) for a chain of moves of pairs made in step 2 — the busiest judge hands a submission to a
judge who is eligible and not yet on it, who may hand another one on, and so on — ending at a judge with at
least 2 fewer; each chain lowers the sum of squared loads, so the repair ends. Without conflicts or existing
assignments the greedy alone keeps loads within 1 (it always takes the k least loaded); with them, balance
is the best the chains can reach (`AssignmentPlan.balanced` says whether it is within 1).

Rebalancing after a judge drops out keeps every other pair and fills only that judge's submissions, so loads
within 1 are not always reachable: with judges 1, 3, 4, 5, 6 left, k = 4, and the departed judge's two
submissions already holding judge 5 (the least loaded), both replacements must go to busier judges. The
plan is then as even as moving the new pairs allows, and `balanced` is False.

A submission with fewer than k eligible judges gets all of them, and `shortfall` says how many it lacks.
Ties between equally loaded judges, and between equally constrained submissions, follow the ids in
ascending order, or a shuffle by `seed`: the same input and seed always give the same plan.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AssignmentPlan:
    """Judges of each submission, each judge's load, shortfalls, and existing pairs dropped for conflict."""

    judges_by_submission: Mapping[int, tuple[int, ...]]  # judge ids in ascending order
    loads: Mapping[int, int]  # judge id → number of submissions
    shortfall: Mapping[int, int]  # submission id → judges missing to reach k (too few eligible judges)
    dropped_conflicts: tuple[tuple[int, int], ...]  # existing (judge, submission) pairs now conflicted

    @property
    def balanced(self) -> bool:
        """Whether every two judges' loads differ by at most one."""
        return not self.loads or max(self.loads.values()) - min(self.loads.values()) <= 1


def _check_unique(ids: Sequence[int], what: str) -> None:
    """Refuse a list of ids with a repeat."""
    if len(set(ids)) != len(ids):
        raise ValueError(f"the {what} contain a repeated id")


def _plan(
    submissions: Sequence[int],
    judges: Sequence[int],
    k: int,
    conflicts: Collection[tuple[int, int]],
    existing: Mapping[int, Sequence[int]],
    seed: int | None,
    fill: Collection[int] | None,
) -> AssignmentPlan:
    """Keep the existing pairs, fill the submissions in `fill` (all if None) greedily, then repair."""
    _check_unique(submissions, "submissions")
    _check_unique(judges, "judges")
    if k < 1:
        raise ValueError(f"each submission needs at least one judge, not k={k}")
    if k > len(judges):
        raise ValueError(f"k={k} judges per submission, but only {len(judges)} judges are available")
    conflicted = frozenset(conflicts)
    # A seeded shuffle only spreads ties fairly and reproducibly; nothing here needs to be unpredictable.
    rng = random.Random(seed) if seed is not None else None  # noqa: S311
    judge_order = sorted(judges)
    submission_order = sorted(submissions)
    if rng is not None:
        rng.shuffle(judge_order)
        rng.shuffle(submission_order)
    judge_rank = {j: i for i, j in enumerate(judge_order)}
    submission_rank = {s: i for i, s in enumerate(submission_order)}

    assigned: dict[int, set[int]] = {s: set() for s in submissions}
    loads = dict.fromkeys(judges, 0)
    dropped: list[tuple[int, int]] = []
    for s, current in existing.items():
        if s not in assigned:
            raise ValueError(f"the existing assignments name submission {s}, which is not in the list")
        for j in current:
            if j not in loads:
                raise ValueError(f"the existing assignments name judge {j}, who is not in the list")
            if (j, s) in conflicted:
                dropped.append((j, s))
            elif j not in assigned[s]:
                assigned[s].add(j)
                loads[j] += 1

    eligible = {s: [j for j in judge_order if (j, s) not in conflicted] for s in submissions}
    movable: set[tuple[int, int]] = set()  # (submission, judge) pairs made here, which the repair may move
    to_fill = sorted(
        submissions if fill is None else fill, key=lambda s: (len(eligible[s]), submission_rank[s])
    )
    for s in to_fill:
        need = min(k, len(eligible[s])) - len(assigned[s])
        if need <= 0:
            continue
        candidates = sorted(
            (j for j in eligible[s] if j not in assigned[s]), key=lambda j: (loads[j], judge_rank[j])
        )
        for j in candidates[:need]:
            assigned[s].add(j)
            loads[j] += 1
            movable.add((s, j))

    while _move_along_chain(assigned, loads, movable, conflicted, judge_order):
        pass
    shortfall = {s: k - len(assigned[s]) for s in submissions if len(assigned[s]) < k}
    return AssignmentPlan(
        judges_by_submission={s: tuple(sorted(assigned[s])) for s in submissions},
        loads=loads,
        shortfall=shortfall,
        dropped_conflicts=tuple(sorted(dropped)),
    )


def _move_along_chain(
    assigned: dict[int, set[int]],
    loads: dict[int, int],
    movable: set[tuple[int, int]],
    conflicted: frozenset[tuple[int, int]],
    judge_order: Sequence[int],
) -> bool:
    """Find and apply one chain of moves from a judge to one with at least 2 fewer; False if none is left."""
    if not loads or max(loads.values()) - min(loads.values()) <= 1:
        return False
    held: dict[int, list[int]] = {j: [] for j in judge_order}
    for s, j in sorted(movable):
        held[j].append(s)
    # From the busiest loads down, so the chain found first is the one that evens out the most.
    for level in sorted(set(loads.values()), reverse=True):
        sources = [j for j in judge_order if loads[j] == level]
        came_from: dict[int, tuple[int, int] | None] = dict.fromkeys(sources)
        queue = deque(sources)
        while queue:
            giver = queue.popleft()
            for s in held[giver]:
                for taker in judge_order:
                    if taker in came_from or taker in assigned[s] or (taker, s) in conflicted:
                        continue
                    came_from[taker] = (giver, s)
                    if loads[taker] <= level - 2:
                        _apply_chain(taker, came_from, assigned, loads, movable)
                        return True
                    queue.append(taker)
    return False


def _apply_chain(
    end: int,
    came_from: Mapping[int, tuple[int, int] | None],
    assigned: dict[int, set[int]],
    loads: dict[int, int],
    movable: set[tuple[int, int]],
) -> None:
    """Move each pair of the chain ending at `end` one judge along: only its two ends change load."""
    taker = end
    step = came_from[taker]
    loads[taker] += 1
    while step is not None:
        giver, s = step
        assigned[s].discard(giver)
        assigned[s].add(taker)
        movable.discard((s, giver))
        movable.add((s, taker))
        taker = giver
        step = came_from[taker]
    loads[taker] -= 1


def balanced_assignment(
    submissions: Sequence[int],
    judges: Sequence[int],
    k: int,
    conflicts: Collection[tuple[int, int]] = frozenset(),
    *,
    existing: Mapping[int, Sequence[int]] | None = None,
    seed: int | None = None,
) -> AssignmentPlan:
    """Give each submission k distinct, unconflicted judges with loads within one (module docstring)."""
    return _plan(submissions, judges, k, conflicts, existing or {}, seed, fill=None)


def rebalance(
    assignments: Mapping[int, Sequence[int]],
    dropped_judge: int,
    judges: Sequence[int],
    k: int,
    conflicts: Collection[tuple[int, int]] = frozenset(),
    *,
    seed: int | None = None,
) -> AssignmentPlan:
    """Hand a departing judge's submissions to the others, keeping every other pair where it is."""
    remaining = [j for j in judges if j != dropped_judge]
    if k > len(remaining):
        raise ValueError(
            f"k={k} judges per submission, but only {len(remaining)} judges remain "
            f"after judge {dropped_judge} left"
        )
    affected = [s for s, current in assignments.items() if dropped_judge in current]
    kept = {s: [j for j in current if j != dropped_judge] for s, current in assignments.items()}
    return _plan(list(assignments), remaining, k, conflicts, kept, seed, fill=affected)
