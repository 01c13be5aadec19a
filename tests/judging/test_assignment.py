"""Balanced assignment: k judges each, loads within one, no conflicted pair, and rebalancing on drop-out."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.judging.assignment import AssignmentPlan, balanced_assignment, rebalance


@st.composite
def pools(draw: st.DrawFn, *, with_conflicts: bool) -> tuple[list[int], list[int], int, set[tuple[int, int]]]:
    """Submissions, judges, k, and (optionally) conflicted (judge, submission) pairs."""
    submissions = draw(st.lists(st.integers(1, 10_000), min_size=0, max_size=40, unique=True))
    judges = draw(st.lists(st.integers(1, 10_000), min_size=1, max_size=12, unique=True))
    k = draw(st.integers(1, len(judges)))
    conflicts: set[tuple[int, int]] = set()
    if with_conflicts and submissions:
        pairs = st.tuples(st.sampled_from(judges), st.sampled_from(submissions))
        conflicts = draw(st.sets(pairs, max_size=len(judges) * len(submissions)))
    return submissions, judges, k, conflicts


def _check_plan(
    plan: AssignmentPlan, submissions: list[int], judges: list[int], k: int, conflicts: set[tuple[int, int]]
) -> None:
    """Every submission has min(k, eligible) distinct eligible judges; loads and shortfall add up."""
    assert set(plan.judges_by_submission) == set(submissions)
    for s, assigned in plan.judges_by_submission.items():
        eligible = [j for j in judges if (j, s) not in conflicts]
        assert len(set(assigned)) == len(assigned) == min(k, len(eligible))
        assert all((j, s) not in conflicts and j in judges for j in assigned)
        assert plan.shortfall.get(s, 0) == k - len(assigned)
    assert dict(plan.loads) == {
        j: sum(j in assigned for assigned in plan.judges_by_submission.values()) for j in judges
    }


@given(pools(with_conflicts=False), st.integers(0, 3) | st.none())
def test_without_conflicts_every_submission_gets_k_and_loads_differ_by_at_most_one(
    pool: tuple[list[int], list[int], int, set[tuple[int, int]]], seed: int | None
) -> None:
    submissions, judges, k, conflicts = pool
    plan = balanced_assignment(submissions, judges, k, conflicts, seed=seed)
    _check_plan(plan, submissions, judges, k, conflicts)
    assert plan.shortfall == {}
    assert plan.balanced


@given(pools(with_conflicts=True), st.integers(0, 3))
def test_a_conflicted_pair_is_never_assigned_and_shortfalls_are_reported(
    pool: tuple[list[int], list[int], int, set[tuple[int, int]]], seed: int
) -> None:
    submissions, judges, k, conflicts = pool
    plan = balanced_assignment(submissions, judges, k, conflicts, seed=seed)
    _check_plan(plan, submissions, judges, k, conflicts)
    # Deterministic for a seed.
    assert balanced_assignment(submissions, judges, k, conflicts, seed=seed) == plan


def test_a_few_conflicts_still_give_a_balanced_plan() -> None:
    # 12 submissions, 4 judges, k = 2: 24 pairs, 6 per judge. Judge 1 is conflicted with four submissions.
    conflicts = {(1, s) for s in (1, 2, 3, 4)}
    plan = balanced_assignment(list(range(1, 13)), [1, 2, 3, 4], 2, conflicts, seed=7)
    _check_plan(plan, list(range(1, 13)), [1, 2, 3, 4], 2, conflicts)
    assert sorted(plan.loads.values()) == [6, 6, 6, 6]


def test_a_submission_with_too_few_eligible_judges_gets_all_of_them() -> None:
    plan = balanced_assignment([1, 2], [10, 20, 30], 3, {(10, 1), (20, 1)})
    assert plan.judges_by_submission[1] == (30,)
    assert plan.shortfall == {1: 2}
    assert plan.judges_by_submission[2] == (10, 20, 30)


def test_existing_pairs_are_kept_and_a_now_conflicted_one_is_dropped() -> None:
    existing = {1: [10], 2: [20]}
    plan = balanced_assignment([1, 2, 3], [10, 20, 30], 2, {(20, 2)}, existing=existing)
    assert 10 in plan.judges_by_submission[1]
    assert 20 not in plan.judges_by_submission[2]
    assert plan.dropped_conflicts == ((20, 2),)
    _check_plan(plan, [1, 2, 3], [10, 20, 30], 2, {(20, 2)})
    assert plan.balanced


@pytest.mark.parametrize(
    ("submissions", "judges", "k", "existing", "message"),
    [
        ([1], [10, 20], 3, None, "only 2 judges"),
        ([1], [10, 20], 0, None, "at least one judge"),
        ([1, 1], [10], 1, None, "submissions contain a repeated id"),
        ([1], [10, 10], 1, None, "judges contain a repeated id"),
        ([1], [10], 1, {2: [10]}, "submission 2"),
        ([1], [10], 1, {1: [99]}, "judge 99"),
    ],
)
def test_impossible_requests_are_refused(
    submissions: list[int], judges: list[int], k: int, existing: dict[int, list[int]] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        balanced_assignment(submissions, judges, k, existing=existing)


@given(pools(with_conflicts=True), st.data())
def test_rebalance_moves_only_the_departed_judges_pairs(
    pool: tuple[list[int], list[int], int, set[tuple[int, int]]], data: st.DataObject
) -> None:
    submissions, judges, k, conflicts = pool
    if len(judges) < 2:
        return
    k = min(k, len(judges) - 1)
    before = balanced_assignment(submissions, judges, k, conflicts, seed=1)
    dropped = data.draw(st.sampled_from(judges))
    remaining = [j for j in judges if j != dropped]
    after = rebalance(before.judges_by_submission, dropped, judges, k, conflicts, seed=2)
    _check_plan(after, submissions, remaining, k, conflicts)
    for s, assigned in before.judges_by_submission.items():
        assert set(assigned) - {dropped} <= set(after.judges_by_submission[s])
        if dropped not in assigned:
            assert after.judges_by_submission[s] == assigned
    # Balance: no new pair could move to a judge with 2 fewer (keeping the others' pairs may forbid more).
    for s, assigned in after.judges_by_submission.items():
        for giver in set(assigned) - set(before.judges_by_submission[s]):
            for taker in remaining:
                if after.loads[giver] - after.loads[taker] >= 2:
                    assert taker in assigned or (taker, s) in conflicts
    if not conflicts and k == 1:
        assert after.balanced


def test_rebalance_cannot_always_even_out_without_moving_others() -> None:
    # Judge 2 leaves submissions 2 and 3; judge 5 (load 2, the lowest) is already on both.
    assignments = {1: [1, 3, 4, 6], 2: [1, 2, 5, 6], 3: [2, 3, 4, 5], 4: [1, 3, 4, 6]}
    plan = rebalance(assignments, 2, [1, 2, 3, 4, 5, 6], 4)
    assert plan.judges_by_submission[1] == (1, 3, 4, 6)
    assert plan.judges_by_submission[4] == (1, 3, 4, 6)
    assert sorted(plan.loads.values()) == [2, 3, 3, 4, 4]
    assert not plan.balanced


def test_rebalance_refuses_when_too_few_judges_remain() -> None:
    plan = balanced_assignment([1, 2], [10, 20], 2)
    with pytest.raises(ValueError, match="only 1 judges remain after judge 10 left"):
        rebalance(plan.judges_by_submission, 10, [10, 20], 2)
