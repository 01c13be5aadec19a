"""Aggregation of judges' scores: weighted totals, z-score normalization, rankings, spread and agreement.

Pure functions without I/O: frozen dataclasses in, frozen dataclasses out; and `distribution_svg`, a box-plot
chart of score distributions (per judge or per criterion) rendered on the server as an SVG string.

Totals. A judge's total for a submission is, in points out of 100,

    total = 100 · Σ_c (w_c / W) · (v_c − min_c) / (max_c − min_c),        W = Σ_c w_c

so each criterion is first rescaled to 0..1 by its own scale (a 1–5 and a 0–10 criterion weigh only by their
weights) and weights need not sum to 1 or 100. A negative weight, a total weight of zero, an unknown
criterion, a value outside its scale (or NaN) and two scores for the same cell are `ValueError`s. Only
complete scorecards count: a judge who left any criterion of a submission empty has no total for it; the
pair is listed in `Aggregation.incomplete` so the official can chase it. A submission without any complete
scorecard does not appear in the results.

Raw mean. The mean of the submission's judges' totals (0..100).

Normalization (per-judge z-scores). With μ_j and σ_j the mean and population standard deviation of judge
j's totals over all the submissions j scored completely, z_sj = (total_sj − μ_j) / σ_j. A judge with a single
scorecard, or with σ_j < 1e-9 (all totals equal), gets z = 0: such a judge says nothing about relative order.
The normalized mean is the mean of the z over the submission's judges: 0 is "average for its judges", +1 one
standard deviation above. It removes a severe or lenient judge's offset and a judge's narrow or wide use of
the scale; it assumes every judge saw a comparable mix of submissions (true for a balanced assignment).

Ranking. Competition ranking ("1, 2, 2, 4") on the value rounded to a 1e-9 grid (`TIE_GRID`), so float
noise does not split a tie. The raw and the normalized rankings are both computed;
`normalize=True` makes the normalized one official (`rank`, the order of `results`), else the raw one.
Published ranks show ties honestly; the order within a tie (the tie-break) is, in turn: the higher other
mean (raw when the official ranking is normalized, and vice versa), the higher median total, more judges,
the lower submission id (the earlier receipt). Places moved = raw position − normalized position, with
positions 1..n in tie-broken order: positive means the submission moved up once judges' bias was removed;
the places moved of a round sum to zero.

Spread and agreement. Per submission: the sample standard deviation of its judges' totals (None with one
judge) and their range (max − min, in points); `disagreement` is set when the range reaches the threshold
(25 points by default), so the official sees where judges disagree. Across the round: Kendall's coefficient
of concordance W with the correction for ties, over the judges who scored at least one submission and the
submissions every one of them scored (None when fewer than 2 judges or 2 such submissions, or when every
judge tied everything). Read W as 0 = no agreement at all on the order, 1 = every judge ranked in the same
order; roughly < 0.3 weak, 0.3–0.7 moderate, > 0.7 strong. With a k-of-n assignment few submissions are
scored by every judge: then rely on the per-submission spread.
"""

from __future__ import annotations

import math
import operator
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

TIE_GRID = 1e9  # Values are compared for ties on a 1e-9 grid: far below any meaningful score difference.
MIN_SIGMA = 1e-9  # A judge whose totals vary less than this (in points) is treated as constant.
DEFAULT_DISAGREEMENT_RANGE = 25.0  # Points out of 100 between the highest and lowest judge.


@dataclass(frozen=True, slots=True)
class Criterion:
    """A rubric criterion: its weight and the scale its scores are given on."""

    id: int
    weight: float
    scale_min: float
    scale_max: float


@dataclass(frozen=True, slots=True)
class Score:
    """One judge's current value for one criterion of one submission."""

    submission_id: int
    judge_id: int
    criterion_id: int
    value: float


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    """The aggregate of one submission: means, both rankings, spread, and per-criterion means."""

    submission_id: int
    judge_count: int
    raw_mean: float  # 0..100
    normalized_mean: float  # mean z-score; 0 = average for its judges
    median: float  # median judge total, 0..100
    raw_rank: int
    normalized_rank: int
    rank: int  # the official one: normalized_rank if the aggregation was normalized, else raw_rank
    places_moved: int  # raw position − normalized position; positive = moved up when normalized
    spread_sd: float | None  # sample standard deviation of the judges' totals; None with one judge
    spread_range: float  # highest minus lowest judge total, in points
    disagreement: bool
    criterion_means: Mapping[int, float]  # criterion id → mean value on that criterion's own scale


@dataclass(frozen=True, slots=True)
class JudgeSummary:
    """How one judge scored: how many complete scorecards, their mean and spread (the z-score basis)."""

    judge_id: int
    scorecards: int
    mean: float  # μ_j, 0..100
    sd: float  # σ_j, population standard deviation, points


@dataclass(frozen=True, slots=True)
class Agreement:
    """Kendall's W across judges, with the judges and the number of submissions it was computed on."""

    kendall_w: float | None
    judge_ids: tuple[int, ...]
    submissions: int


@dataclass(frozen=True, slots=True)
class Aggregation:
    """The outcome of a round: results in official order, judges, agreement, and incomplete scorecards."""

    normalized: bool
    results: tuple[SubmissionResult, ...]
    judges: tuple[JudgeSummary, ...]
    agreement: Agreement
    incomplete: tuple[tuple[int, int], ...]  # (submission id, judge id), sorted

    def result_for(self, submission_id: int) -> SubmissionResult | None:
        """The result of one submission, or None if it has no complete scorecard."""
        return next((r for r in self.results if r.submission_id == submission_id), None)


def _rubric(criteria: Sequence[Criterion]) -> tuple[dict[int, int], list[float], list[float], list[float]]:
    """Validate the rubric and return criterion index, scale minima, maxima and points per scale unit."""
    if not criteria:
        raise ValueError("the rubric has no criteria")
    index: dict[int, int] = {}
    for position, criterion in enumerate(criteria):
        if criterion.id in index:
            raise ValueError(f"criterion {criterion.id} appears twice in the rubric")
        if not math.isfinite(criterion.weight) or criterion.weight < 0:
            raise ValueError(f"criterion {criterion.id} has weight {criterion.weight}; weights must be >= 0")
        if not criterion.scale_min < criterion.scale_max:
            raise ValueError(
                f"criterion {criterion.id} has scale {criterion.scale_min}..{criterion.scale_max}; "
                "the minimum must be below the maximum"
            )
        index[criterion.id] = position
    total_weight = math.fsum(c.weight for c in criteria)
    if total_weight <= 0:
        raise ValueError("the criteria's weights sum to zero; at least one criterion needs a positive weight")
    factors = [100.0 * c.weight / total_weight / (c.scale_max - c.scale_min) for c in criteria]
    return index, [c.scale_min for c in criteria], [c.scale_max for c in criteria], factors


Cards = dict[int, dict[int, list[float]]]  # submission → judge → (value − scale minimum), in rubric order


def _scorecards(
    criteria: Sequence[Criterion], scores: Iterable[Score]
) -> tuple[Cards, list[tuple[int, int]]]:
    """Group scores into complete scorecards (submission → judge → values) and the incomplete pairs."""
    index, lows, highs, _ = _rubric(criteria)
    bounds = {criterion_id: (i, lows[i], highs[i]) for criterion_id, i in index.items()}
    width = len(criteria)
    cards: dict[int, dict[int, list[float | None]]] = {}
    # The hot loop of a 60,000-score round: nested dicts of int keys are faster than tuple keys, and scores
    # usually come grouped by scorecard (ORDER BY submission, judge), so the previous card is tried first.
    card: list[float | None] = []
    card_submission = card_judge = None
    for score in scores:
        try:
            position, low, high = bounds[score.criterion_id]
        except KeyError:
            raise ValueError(f"score for unknown criterion {score.criterion_id}") from None
        value = score.value
        # Written as a positive test so that NaN fails it too.
        if not low <= value <= high:
            raise ValueError(
                f"score {value} of judge {score.judge_id} on submission {score.submission_id} is outside "
                f"criterion {score.criterion_id}'s scale {low}..{high}"
            )
        if score.judge_id != card_judge or score.submission_id != card_submission:
            card_submission, card_judge = score.submission_id, score.judge_id
            row = cards.get(card_submission)
            if row is None:
                row = cards[card_submission] = {}
            found = row.get(card_judge)
            if found is None:
                found = row[card_judge] = [None] * width
            card = found
        if card[position] is not None:
            raise ValueError(
                f"judge {score.judge_id} has two scores for criterion {score.criterion_id} "
                f"of submission {score.submission_id}"
            )
        card[position] = value - low  # Stored from the scale's minimum: totals need no subtraction.
    complete: Cards = {}
    incomplete: list[tuple[int, int]] = []
    for submission_id, row in cards.items():
        full = {}
        for judge_id, card in row.items():
            if None in card:
                incomplete.append((submission_id, judge_id))
            else:
                full[judge_id] = card
        if full:
            complete[submission_id] = full  # type: ignore[assignment]  # None was ruled out just above
    return complete, sorted(incomplete)


def _totals(criteria: Sequence[Criterion], cards: Cards) -> dict[int, dict[int, float]]:
    """The weighted total (0..100) of each complete scorecard, as submission → judge → total."""
    factors = _rubric(criteria)[3]
    mul = operator.mul
    # Always summed in rubric order, so a total does not depend on the order the scores came in; capped at
    # 100 because a full scorecard can add up to 100.00000000000001, which a chart on 0..100 would refuse.
    return {
        s: {j: min(100.0, sum(map(mul, card, factors))) for j, card in row.items()}
        for s, row in cards.items()
    }


def judge_totals(criteria: Sequence[Criterion], scores: Iterable[Score]) -> dict[tuple[int, int], float]:
    """Each judge's weighted total (0..100) per (submission, judge) complete scorecard."""
    cards, _ = _scorecards(criteria, scores)
    return {(s, j): total for s, row in _totals(criteria, cards).items() for j, total in row.items()}


def criterion_distributions(criteria: Sequence[Criterion], scores: Iterable[Score]) -> dict[int, list[float]]:
    """Each criterion's values on complete scorecards, as percent of its scale (for a chart on one axis)."""
    _, lows, highs, _ = _rubric(criteria)
    cards, _ = _scorecards(criteria, scores)
    return {
        criterion.id: [
            100.0 * card[i] / (highs[i] - lows[i]) for row in cards.values() for card in row.values()
        ]
        for i, criterion in enumerate(criteria)
    }


def _by_judge(by_submission: Mapping[int, Mapping[int, float]]) -> dict[int, dict[int, float]]:
    """Transpose submission → judge → value into judge → submission → value."""
    by_judge: dict[int, dict[int, float]] = {}
    for submission_id, row in by_submission.items():
        for judge_id, value in row.items():
            column = by_judge.get(judge_id)
            if column is None:
                column = by_judge[judge_id] = {}
            column[submission_id] = value
    return by_judge


def _judge_zscores(
    by_judge: Mapping[int, Mapping[int, float]],
) -> tuple[dict[int, dict[int, float]], list[JudgeSummary]]:
    """Each judge's z-scores (judge → submission → z) and their mean and population standard deviation."""
    z: dict[int, dict[int, float]] = {}
    summaries: list[JudgeSummary] = []
    for judge_id in sorted(by_judge):
        column = by_judge[judge_id]
        count = len(column)
        # fsum is exactly rounded, so the result does not depend on the order the scores came in.
        mean = math.fsum(column.values()) / count
        sd = math.sqrt(math.fsum([(t - mean) ** 2 for t in column.values()]) / count)
        summaries.append(JudgeSummary(judge_id=judge_id, scorecards=count, mean=mean, sd=sd))
        if count < 2 or sd < MIN_SIGMA:
            z[judge_id] = dict.fromkeys(column, 0.0)
        else:
            z[judge_id] = {s: (t - mean) / sd for s, t in column.items()}
    return z, summaries


def zscores(
    totals: Mapping[tuple[int, int], float],
) -> tuple[dict[tuple[int, int], float], list[JudgeSummary]]:
    """Per-judge z-scores of (submission, judge) totals, and each judge's mean and standard deviation."""
    by_submission: dict[int, dict[int, float]] = {}
    for (s, j), total in totals.items():
        by_submission.setdefault(s, {})[j] = total
    z, summaries = _judge_zscores(_by_judge(by_submission))
    return {(s, j): value for j, column in z.items() for s, value in column.items()}, summaries


def _tie_key(value: float) -> int:
    """The value on the tie grid: two values with the same key are tied."""
    return round(value * TIE_GRID)


def _average_ranks(values: Sequence[float]) -> tuple[list[float], float]:
    """Ranks 1..n of the values (highest first, ties get their average rank) and the tie term Σ(t³ − t)."""
    keys = [_tie_key(value) for value in values]
    counts = Counter(keys)
    first: dict[int, int] = {}  # tie key → how many values rank above it
    offset = 0
    for key in sorted(counts, reverse=True):
        first[key] = offset
        offset += counts[key]
    tie_term = float(sum(c**3 - c for c in counts.values()))
    return [first[key] + (counts[key] + 1) / 2 for key in keys], tie_term


def kendall_w(values_by_judge: Sequence[Sequence[float]]) -> float | None:
    """Kendall's W (tie-corrected) for m judges' values over the same n submissions, in [0, 1], or None."""
    m = len(values_by_judge)
    n = len(values_by_judge[0]) if m else 0
    if m < 2 or n < 2:
        return None
    if any(len(values) != n for values in values_by_judge):
        raise ValueError("every judge must score the same submissions for Kendall's W")
    rank_sums = [0.0] * n
    tie_terms = 0.0
    for values in values_by_judge:
        ranks, tie_term = _average_ranks(values)
        tie_terms += tie_term
        for i, rank in enumerate(ranks):
            rank_sums[i] += rank
    mean_sum = m * (n + 1) / 2
    s = math.fsum((r - mean_sum) ** 2 for r in rank_sums)
    denominator = m * m * (n**3 - n) - m * tie_terms
    if denominator <= 0:
        return None  # Every judge tied every submission: there is no order to agree on.
    return min(1.0, max(0.0, 12 * s / denominator))


def _agreement(by_judge: Mapping[int, Mapping[int, float]]) -> Agreement:
    """Kendall's W over the judges who scored and the submissions all of them scored."""
    judge_ids = tuple(sorted(by_judge))
    common = set.intersection(*(set(column) for column in by_judge.values())) if by_judge else set()
    ordered = sorted(common)
    w = kendall_w([[by_judge[j][s] for s in ordered] for j in judge_ids])
    return Agreement(kendall_w=w, judge_ids=judge_ids, submissions=len(ordered))


def _competition_ranks(order: Sequence[int], rounded: Mapping[int, int]) -> dict[int, int]:
    """Competition ranks ("1, 2, 2, 4") of submissions already sorted, tied on their rounded value."""
    ranks: dict[int, int] = {}
    previous: int | None = None
    rank = 0
    for position, submission_id in enumerate(order, start=1):
        value = rounded[submission_id]
        if value != previous:
            rank, previous = position, value
        ranks[submission_id] = rank
    return ranks


def aggregate(
    criteria: Sequence[Criterion],
    scores: Iterable[Score],
    *,
    normalize: bool,
    disagreement_range: float = DEFAULT_DISAGREEMENT_RANGE,
) -> Aggregation:
    """Aggregate a round: means, raw and normalized rankings, spread and agreement (module docstring)."""
    cards, incomplete = _scorecards(criteria, scores)
    totals = _totals(criteria, cards)
    by_judge = _by_judge(totals)
    z, judges = _judge_zscores(by_judge)

    raw: dict[int, float] = {}
    normalized: dict[int, float] = {}
    medians: dict[int, float] = {}
    stats: dict[int, tuple[int, float | None, float, dict[int, float]]] = {}
    for submission_id, row in totals.items():
        count = len(row)
        values = sorted(row.values())
        mean = math.fsum(values) / count
        raw[submission_id] = mean
        normalized[submission_id] = math.fsum([z[j][submission_id] for j in row]) / count
        middle = count // 2
        medians[submission_id] = values[middle] if count % 2 else (values[middle - 1] + values[middle]) / 2
        sd = math.sqrt(math.fsum([(v - mean) ** 2 for v in values]) / (count - 1)) if count > 1 else None
        columns = zip(*cards[submission_id].values(), strict=True)
        criterion_means = {
            c.id: c.scale_min + math.fsum(column) / count for c, column in zip(criteria, columns, strict=True)
        }
        stats[submission_id] = (count, sd, values[-1] - values[0], criterion_means)

    rounded_raw = {s: _tie_key(value) for s, value in raw.items()}
    rounded_normalized = {s: _tie_key(value) for s, value in normalized.items()}
    rounded_medians = {s: _tie_key(value) for s, value in medians.items()}

    def order_by(primary: Mapping[int, int], secondary: Mapping[int, int]) -> list[int]:
        return sorted(raw, key=lambda s: (-primary[s], -secondary[s], -rounded_medians[s], -stats[s][0], s))

    raw_order = order_by(rounded_raw, rounded_normalized)
    normalized_order = order_by(rounded_normalized, rounded_raw)
    raw_ranks = _competition_ranks(raw_order, rounded_raw)
    normalized_ranks = _competition_ranks(normalized_order, rounded_normalized)
    raw_positions = {s: position for position, s in enumerate(raw_order)}
    normalized_positions = {s: position for position, s in enumerate(normalized_order)}
    official_order, official_ranks = (
        (normalized_order, normalized_ranks) if normalize else (raw_order, raw_ranks)
    )

    results = []
    for s in official_order:
        count, sd, spread, criterion_means = stats[s]
        results.append(
            SubmissionResult(
                submission_id=s,
                judge_count=count,
                raw_mean=raw[s],
                normalized_mean=normalized[s],
                median=medians[s],
                raw_rank=raw_ranks[s],
                normalized_rank=normalized_ranks[s],
                rank=official_ranks[s],
                places_moved=raw_positions[s] - normalized_positions[s],
                spread_sd=sd,
                spread_range=spread,
                disagreement=spread >= disagreement_range,
                criterion_means=criterion_means,
            )
        )
    return Aggregation(
        normalized=normalize,
        results=tuple(results),
        judges=tuple(judges),
        agreement=_agreement(by_judge),
        incomplete=tuple(incomplete),
    )
