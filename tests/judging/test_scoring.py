"""Aggregation of scores: a hand-computed round, invariances, rankings, agreement and the SVG chart."""

from __future__ import annotations

import math
import random
import xml.etree.ElementTree as ET
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.judging.charts import distribution_svg
from app.judging.scoring import (
    Aggregation,
    Criterion,
    Score,
    aggregate,
    criterion_distributions,
    judge_totals,
    kendall_w,
    zscores,
)

# --- A hand-computed example ---------------------------------------------------------------------------


def test_judge_totals_rescale_each_criterion_and_normalise_weights() -> None:
    # Impact weighs 3 on 1..5, feasibility 1 on 0..10; W = 4, so
    # total = 100 · (3/4 · (impact − 1)/4 + 1/4 · feasibility/10).
    #   judge 10, submission 1: impact 5, feasibility 10 → 100 · (0.75 · 1   + 0.25 · 1  ) = 100
    #   judge 10, submission 2: impact 3, feasibility 6  → 100 · (0.75 · 0.5 + 0.25 · 0.6) = 37.5 + 15 = 52.5
    #   judge 20, submission 1: impact 4, feasibility 6  → 100 · (0.75 · 0.75 + 0.25 · 0.6) = 71.25
    #   judge 20, submission 2: impact 1, feasibility 2  → 100 · (0 + 0.25 · 0.2) = 5
    criteria = [Criterion(1, 3, 1, 5), Criterion(2, 1, 0, 10)]
    scores = [
        Score(1, 10, 1, 5), Score(1, 10, 2, 10), Score(2, 10, 1, 3), Score(2, 10, 2, 6),
        Score(1, 20, 1, 4), Score(1, 20, 2, 6), Score(2, 20, 1, 1), Score(2, 20, 2, 2),
    ]  # fmt: skip
    totals = judge_totals(criteria, scores)
    assert totals == pytest.approx({(1, 10): 100.0, (2, 10): 52.5, (1, 20): 71.25, (2, 20): 5.0})
    # The same weights as 75 % / 25 %, or 0.3 / 0.1, give the same totals.
    for weights in ((75, 25), (0.3, 0.1)):
        scaled = [Criterion(1, weights[0], 1, 5), Criterion(2, weights[1], 0, 10)]
        assert judge_totals(scaled, scores) == pytest.approx(totals)


def _one_criterion_round() -> Aggregation:
    # One criterion on 0..10, weight 1: a total is 10 × the value.
    # Judge 1 (severe) scores submissions 1, 2, 3 → totals 20, 40, 60: μ = 40, σ = √(800/3) = 16.3299,
    #   z = −1.2247, 0, +1.2247.
    # Judge 2 (lenient) scores submissions 3, 4, 5 → totals 70, 80, 100: μ = 83.333, σ = √(4200/27) = 12.4722,
    #   z = −1.0690, −0.2673, +1.3363.
    # Raw means: s1 20, s2 40, s3 (60 + 70)/2 = 65, s4 80, s5 100 → raw order 5, 4, 3, 2, 1.
    # Normalized: s1 −1.2247, s2 0, s3 (1.2247 − 1.0690)/2 = 0.0778, s4 −0.2673, s5 1.3363
    #   → normalized order 5, 3, 2, 4, 1.
    # Places moved (raw position − normalized position): s5 0, s3 3−2 = +1, s2 4−3 = +1, s4 2−4 = −2, s1 0.
    # Submission 3's spread: sample SD of 60 and 70 = √((25 + 25)/1) = 7.0711, range 10.
    criteria = [Criterion(1, 1, 0, 10)]
    values = {(1, 1): 2, (2, 1): 4, (3, 1): 6, (3, 2): 7, (4, 2): 8, (5, 2): 10}
    scores = [Score(s, j, 1, v) for (s, j), v in values.items()]
    return aggregate(criteria, scores, normalize=True, disagreement_range=10)


def test_hand_computed_round() -> None:
    result = _one_criterion_round()
    by_id = {r.submission_id: r for r in result.results}
    assert [r.submission_id for r in result.results] == [5, 3, 2, 4, 1]
    assert {s: r.raw_mean for s, r in by_id.items()} == pytest.approx({1: 20, 2: 40, 3: 65, 4: 80, 5: 100})
    assert {s: r.normalized_mean for s, r in by_id.items()} == pytest.approx(
        {1: -1.224745, 2: 0, 3: 0.077850, 4: -0.267261, 5: 1.336306}, abs=1e-6
    )
    assert {s: r.raw_rank for s, r in by_id.items()} == {5: 1, 4: 2, 3: 3, 2: 4, 1: 5}
    assert {s: r.normalized_rank for s, r in by_id.items()} == {5: 1, 3: 2, 2: 3, 4: 4, 1: 5}
    assert {s: r.rank for s, r in by_id.items()} == {s: r.normalized_rank for s, r in by_id.items()}
    assert {s: r.places_moved for s, r in by_id.items()} == {5: 0, 3: 1, 2: 1, 4: -2, 1: 0}
    assert by_id[3].spread_sd == pytest.approx(math.sqrt(50))
    assert by_id[3].spread_range == pytest.approx(10)
    assert by_id[3].disagreement is True
    assert by_id[1].spread_sd is None
    assert by_id[1].disagreement is False
    assert by_id[3].criterion_means == pytest.approx({1: 6.5})
    assert [(j.judge_id, j.scorecards) for j in result.judges] == [(1, 3), (2, 3)]
    assert result.judges[0].mean == pytest.approx(40)
    assert result.judges[0].sd == pytest.approx(math.sqrt(800 / 3))
    # Only submission 3 was scored by both judges: too few for Kendall's W.
    assert result.agreement.kendall_w is None
    assert result.agreement.submissions == 1


def test_raw_ranking_is_official_without_normalization() -> None:
    criteria = [Criterion(1, 1, 0, 10)]
    scores = [Score(s, j, 1, v) for (s, j), v in {(1, 1): 2, (2, 1): 4, (2, 2): 9, (3, 2): 7}.items()]
    result = aggregate(criteria, scores, normalize=False)
    assert result.normalized is False
    assert [r.submission_id for r in result.results] == [3, 2, 1]  # raw means 70, 65, 20
    assert all(r.rank == r.raw_rank for r in result.results)


def test_ties_are_shared_and_broken_by_the_documented_rule() -> None:
    # Judge 1: s1 5, s3 9, s4 1 → totals 50, 90, 10, μ = 50, z = 0, +1.2247, −1.2247.
    # Judge 2: s2 5, s3 1, s4 9 → totals 50, 10, 90, μ = 50, z = 0, −1.2247, +1.2247.
    # Raw means all 50, normalized means all 0, medians all 50: everyone shares rank 1 in both rankings.
    # Tie-break: more judges first (s3, s4 have two, s1, s2 one), then the lower submission id.
    criteria = [Criterion(1, 1, 0, 10)]
    scores = [
        Score(1, 1, 1, 5), Score(3, 1, 1, 9), Score(4, 1, 1, 1),
        Score(2, 2, 1, 5), Score(3, 2, 1, 1), Score(4, 2, 1, 9),
    ]  # fmt: skip
    for normalize in (False, True):
        result = aggregate(criteria, scores, normalize=normalize)
        assert [r.submission_id for r in result.results] == [3, 4, 1, 2]
        assert {(r.raw_rank, r.normalized_rank, r.rank) for r in result.results} == {(1, 1, 1)}
        assert [r.places_moved for r in result.results] == [0, 0, 0, 0]


def test_the_other_mean_breaks_a_tie_first() -> None:
    # Raw means tie at 50 (s1: 50 from judge 1; s2: 50 from judge 2), but judge 1's average is 30 and judge
    # 2's is 70, so s1 is above its judge's average and s2 below: s1 goes first in the raw order.
    criteria = [Criterion(1, 1, 0, 10)]
    scores = [Score(1, 1, 1, 5), Score(3, 1, 1, 1), Score(2, 2, 1, 5), Score(4, 2, 1, 9)]
    result = aggregate(criteria, scores, normalize=False)
    assert [(r.submission_id, r.raw_rank) for r in result.results[1:3]] == [(1, 2), (2, 2)]


def test_float_noise_does_not_split_a_tie() -> None:
    # 0.1 + 0.2 != 0.3 in floating point; the two submissions still share the rank.
    criteria = [Criterion(1, 1, 0, 1), Criterion(2, 1, 0, 1)]
    scores = [Score(1, 1, 1, 0.1), Score(1, 1, 2, 0.2), Score(2, 1, 1, 0.3), Score(2, 1, 2, 0.0)]
    result = aggregate(criteria, scores, normalize=False)
    assert [r.raw_rank for r in result.results] == [1, 1]


def test_incomplete_scorecards_are_left_out_and_reported() -> None:
    criteria = [Criterion(1, 1, 0, 10), Criterion(2, 1, 0, 10)]
    scores = [Score(1, 1, 1, 8), Score(1, 1, 2, 8), Score(1, 2, 1, 0), Score(2, 2, 1, 5)]
    result = aggregate(criteria, scores, normalize=True)
    assert result.incomplete == ((1, 2), (2, 2))
    assert [(r.submission_id, r.judge_count, r.raw_mean) for r in result.results] == [(1, 1, 80.0)]
    assert result.result_for(2) is None


@pytest.mark.parametrize(
    ("criteria", "scores", "message"),
    [
        ([Criterion(1, 0, 0, 10)], [], "sum to zero"),
        ([Criterion(1, -1, 0, 10), Criterion(2, 3, 0, 10)], [], "weights must be >= 0"),
        ([Criterion(1, 1, 5, 5)], [], "minimum must be below"),
        ([Criterion(1, 1, 0, 10), Criterion(1, 1, 0, 10)], [], "twice"),
        ([], [], "no criteria"),
        ([Criterion(1, 1, 0, 10)], [Score(1, 1, 2, 5)], "unknown criterion 2"),
        ([Criterion(1, 1, 0, 10)], [Score(1, 1, 1, 11)], "outside"),
        ([Criterion(1, 1, 0, 10)], [Score(1, 1, 1, math.nan)], "outside"),
        ([Criterion(1, 1, 0, 10)], [Score(1, 1, 1, 5), Score(1, 1, 1, 6)], "two scores"),
    ],
)
def test_invalid_input_is_refused_with_a_clear_message(
    criteria: list[Criterion], scores: list[Score], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        aggregate(criteria, scores, normalize=True)


def test_a_constant_judge_and_a_single_scorecard_get_z_zero() -> None:
    z, judges = zscores({(1, 1): 70.0, (2, 1): 70.0, (3, 2): 40.0})
    assert z == {(1, 1): 0.0, (2, 1): 0.0, (3, 2): 0.0}
    assert [(j.judge_id, j.sd) for j in judges] == [(1, 0.0), (2, 0.0)]


def test_kendall_w_by_hand() -> None:
    # Ranks (1, 2, 3), (1, 2, 3), (3, 2, 1): rank sums 5, 6, 7, mean 6, S = 1 + 0 + 1 = 2;
    # W = 12 · 2 / (3² · (3³ − 3)) = 24 / 216 = 1/9.
    assert kendall_w([[3, 2, 1], [3, 2, 1], [1, 2, 3]]) == pytest.approx(1 / 9)
    # Two opposite judges: no agreement at all.
    assert kendall_w([[3, 2, 1], [1, 2, 3]]) == pytest.approx(0)
    # Identical judges with a tie: 1 thanks to the tie correction.
    assert kendall_w([[1, 1, 2], [1, 1, 2]]) == pytest.approx(1)
    # Everything tied: there is no order to agree on.
    assert kendall_w([[5, 5], [5, 5]]) is None
    assert kendall_w([[1, 2]]) is None


@given(
    st.lists(
        st.tuples(st.sampled_from([0.1, 0.3, 0.7, 1, 3, 33.3]), st.integers(-3, 3), st.integers(1, 10)),
        min_size=1,
        max_size=6,
    )
)
def test_a_full_scorecard_totals_100_at_most_and_charts_on_0_to_100(
    rubric: list[tuple[float, int, int]],
) -> None:
    # Σ span · 100·w/(W·span) can exceed 100 by one ulp; a total above 100 would break the 0..100 chart.
    criteria = [Criterion(i, weight, low, low + span) for i, (weight, low, span) in enumerate(rubric)]
    totals = judge_totals(criteria, [Score(1, 1, c.id, c.scale_max) for c in criteria])
    assert totals[1, 1] == pytest.approx(100)
    assert totals[1, 1] <= 100
    distribution_svg({"judge": list(totals.values())}, title="t")


def test_criterion_distributions_are_percent_of_each_scale() -> None:
    criteria = [Criterion(1, 1, 1, 5), Criterion(2, 1, 0, 10)]
    scores = [Score(1, 1, 1, 2), Score(1, 1, 2, 10), Score(2, 1, 1, 5), Score(2, 1, 2, 0)]
    assert criterion_distributions(criteria, scores) == {1: [25.0, 100.0], 2: [100.0, 0.0]}


# --- Properties ------------------------------------------------------------------------------------------

SCALE_ROOM = 10  # Scores are drawn in min..min+10 on a scale of min..min+20: room to shift or stretch them.


@st.composite
def rounds(
    draw: st.DrawFn, *, everyone_scores_everything: bool = False
) -> tuple[list[Criterion], list[Score]]:
    """A rubric and integer scores of 2–5 judges on 2–8 submissions, with room at the top of each scale."""
    criterion_count = draw(st.integers(1, 4))
    weights = draw(st.lists(st.integers(0, 5), min_size=criterion_count, max_size=criterion_count))
    if not any(weights):
        weights[0] = 1
    criteria = []
    for i, weight in enumerate(weights):
        low = draw(st.integers(-5, 5))
        criteria.append(Criterion(i + 1, weight, low, low + 2 * SCALE_ROOM))
    judges = draw(st.lists(st.integers(1, 1000), min_size=2, max_size=5, unique=True))
    submissions = draw(st.lists(st.integers(1, 1000), min_size=2, max_size=8, unique=True))
    scores = []
    for judge in judges:
        scored = submissions if everyone_scores_everything else draw(st.sets(st.sampled_from(submissions)))
        for submission in scored:
            for criterion in criteria:
                value = criterion.scale_min + draw(st.integers(0, SCALE_ROOM))
                scores.append(Score(submission, judge, criterion.id, value))
    return criteria, scores


def _ranks(result: Aggregation) -> dict[int, tuple[int, int]]:
    return {r.submission_id: (r.raw_rank, r.normalized_rank) for r in result.results}


def _normalized_ranks(result: Aggregation) -> dict[int, int]:
    return {r.submission_id: r.normalized_rank for r in result.results}


@given(rounds(), st.randoms(use_true_random=False))
def test_permuting_judges_and_scores_changes_nothing(
    round_: tuple[list[Criterion], list[Score]], rng: random.Random
) -> None:
    criteria, scores = round_
    judge_ids = sorted({s.judge_id for s in scores})
    relabel = dict(zip(judge_ids, rng.sample(judge_ids, len(judge_ids)), strict=True))
    permuted = [Score(s.submission_id, relabel[s.judge_id], s.criterion_id, s.value) for s in scores]
    rng.shuffle(permuted)
    before = aggregate(criteria, scores, normalize=True)
    after = aggregate(criteria, permuted, normalize=True)
    # fsum and rubric-order sums make every figure independent of order: equal, not merely close.
    assert after.results == before.results
    assert after.agreement.kendall_w == before.agreement.kendall_w
    assert after.incomplete == tuple(sorted((s, relabel[j]) for s, j in before.incomplete))


@given(rounds(), st.data())
def test_shifting_one_judge_changes_no_normalized_rank(
    round_: tuple[list[Criterion], list[Score]], data: st.DataObject
) -> None:
    criteria, scores = round_
    judge = data.draw(st.sampled_from(sorted({s.judge_id for s in scores}))) if scores else None
    shift = data.draw(st.integers(1, SCALE_ROOM))
    shifted = [
        Score(s.submission_id, s.judge_id, s.criterion_id, s.value + shift * (s.judge_id == judge))
        for s in scores
    ]
    before = aggregate(criteria, scores, normalize=True)
    after = aggregate(criteria, shifted, normalize=True)
    assert _normalized_ranks(after) == _normalized_ranks(before)


@given(rounds(), st.data())
def test_stretching_one_judge_changes_no_normalized_rank(
    round_: tuple[list[Criterion], list[Score]], data: st.DataObject
) -> None:
    criteria, scores = round_
    judge = data.draw(st.sampled_from(sorted({s.judge_id for s in scores}))) if scores else None
    factor = data.draw(st.floats(0.1, 2.0))
    low = {c.id: c.scale_min for c in criteria}

    def stretched(score: Score) -> float:
        if score.judge_id != judge:
            return score.value
        return low[score.criterion_id] + (score.value - low[score.criterion_id]) * factor

    scaled = [Score(s.submission_id, s.judge_id, s.criterion_id, stretched(s)) for s in scores]
    before = aggregate(criteria, scores, normalize=True)
    after = aggregate(criteria, scaled, normalize=True)
    assert _normalized_ranks(after) == _normalized_ranks(before)


@given(rounds(), st.sampled_from([2, 3, 0.5, 0.01, 100]))
def test_scaling_all_weights_changes_nothing(
    round_: tuple[list[Criterion], list[Score]], factor: float
) -> None:
    criteria, scores = round_
    scaled = [Criterion(c.id, c.weight * factor, c.scale_min, c.scale_max) for c in criteria]
    before = aggregate(criteria, scores, normalize=True)
    after = aggregate(scaled, scores, normalize=True)
    assert _ranks(after) == _ranks(before)
    for a, b in zip(after.results, before.results, strict=True):
        assert a.raw_mean == pytest.approx(b.raw_mean)
        assert a.normalized_mean == pytest.approx(b.normalized_mean, abs=1e-9)


def _is_competition_ranking(ranks_by_value: Sequence[tuple[float, int]]) -> bool:
    """Each rank is 1 + the number of strictly better values (values compared as the module does)."""
    keys = [round(value * 1e9) for value, _ in ranks_by_value]
    return all(
        rank == 1 + sum(other > key for other in keys)
        for key, (_, rank) in zip(keys, ranks_by_value, strict=True)
    )


@given(rounds(), st.booleans())
def test_rankings_are_competition_rankings_and_moves_sum_to_zero(
    round_: tuple[list[Criterion], list[Score]], normalize: bool
) -> None:
    criteria, scores = round_
    result = aggregate(criteria, scores, normalize=normalize)
    assert _is_competition_ranking([(r.raw_mean, r.raw_rank) for r in result.results])
    assert _is_competition_ranking([(r.normalized_mean, r.normalized_rank) for r in result.results])
    assert [r.rank for r in result.results] == sorted(r.rank for r in result.results)
    assert sum(r.places_moved for r in result.results) == 0
    for r in result.results:
        assert 0 <= r.raw_mean <= 100
        assert r.spread_range >= 0
        assert (r.spread_sd is None) == (r.judge_count == 1)


@given(rounds(everyone_scores_everything=True))
def test_kendall_w_is_between_0_and_1(round_: tuple[list[Criterion], list[Score]]) -> None:
    criteria, scores = round_
    w = aggregate(criteria, scores, normalize=True).agreement.kendall_w
    assert w is None or 0 <= w <= 1


@given(st.lists(st.integers(0, 20), min_size=2, max_size=12), st.integers(2, 6))
def test_identical_judges_agree_fully(values: list[int], judges: int) -> None:
    w = kendall_w([values] * judges)
    if len(set(values)) == 1:
        assert w is None
    else:
        assert w == pytest.approx(1)


@settings(max_examples=25)
@given(rounds(everyone_scores_everything=True))
def test_judges_scoring_everything_are_all_in_the_agreement(
    round_: tuple[list[Criterion], list[Score]],
) -> None:
    criteria, scores = round_
    agreement = aggregate(criteria, scores, normalize=True).agreement
    assert agreement.judge_ids == tuple(sorted({s.judge_id for s in scores}))
    assert agreement.submissions == len({s.submission_id for s in scores})


# --- The chart -------------------------------------------------------------------------------------------


def test_chart_is_accessible_escaped_and_self_contained() -> None:
    svg = distribution_svg(
        {"Judge <script>alert(1)</script>": [10, 20, 30, 80], "審査員B & co": [], "\x07bell": [50]},
        title='Scores "per" judge',
        chart_id="judges-round-1",
    )
    root = ET.fromstring(svg)  # noqa: S314 (our own output, parsed to check it is well-formed)
    namespace = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "judges-round-1-title judges-round-1-desc"
    assert root.findtext(f"{namespace}title") == 'Scores "per" judge'
    description = root.findtext(f"{namespace}desc") or ""
    assert "median 25.0" in description
    assert "審査員B & co: no scores" in description
    assert "<script" not in svg
    assert len(root.findall(f".//{namespace}rect")) == 2  # one box per group that has scores
    for element in root.iter():
        assert not any(name.startswith("on") or name in ("style", "href") for name in element.attrib)


def test_chart_uses_a_given_summary_and_refuses_bad_input() -> None:
    svg = distribution_svg({"A": [1.0]}, title="t", scale=(1, 5), summary="審査員ごとの得点分布")
    assert '<desc id="score-distribution-desc">審査員ごとの得点分布</desc>' in svg
    with pytest.raises(ValueError, match="outside"):
        distribution_svg({"A": [6.0]}, title="t", scale=(1, 5))
    with pytest.raises(ValueError, match="outside"):
        distribution_svg({"A": [math.nan]}, title="t")
    assert "<rect" in distribution_svg({"A": [100.00000000000001, 0.0]}, title="t")  # float noise is drawn
    with pytest.raises(ValueError, match="empty"):
        distribution_svg({"A": [1.0]}, title="t", scale=(5, 5))
    with pytest.raises(ValueError, match="chart id"):
        distribution_svg({"A": [1.0]}, title="t", chart_id='x" onload="alert(1)')
