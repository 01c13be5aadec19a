"""Time to aggregate one round: 1,000 submissions × 10 judges × 6 criteria (target: median <= 100 ms).

    .venv/bin/python -m pytest bench/scoring_bench.py --benchmark-only -q -p no:cacheprovider
    .venv/bin/python bench/scoring_bench.py [--repeat 21]

Every judge scores every submission (60,000 scores, seeded random integers on 1–5 and 0–10 scales with
unequal weights); the timed call is `aggregate(criteria, scores, normalize=True)`, which validates every
score, builds the totals, the z-scores, both rankings, the spread and Kendall's W. The script prints the
median and fastest wall-clock time and the median CPU time of the process in milliseconds (on a shared
machine the CPU time shows the cost without the neighbours' load); pytest-benchmark prints its own table.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from app.judging.scoring import Criterion, Score, aggregate

SUBMISSIONS, JUDGES = 1_000, 10
CRITERIA = [
    Criterion(1, 30, 1, 5),
    Criterion(2, 20, 1, 5),
    Criterion(3, 20, 0, 10),
    Criterion(4, 10, 0, 10),
    Criterion(5, 10, 1, 5),
    Criterion(6, 10, 1, 5),
]
TARGET_MS = 100.0


def make_round(seed: int = 2026) -> list[Score]:
    """Seeded scores: each judge has a leniency offset, so normalization has something to remove."""
    rng = random.Random(seed)  # noqa: S311 (reproducible bench data, not a secret)
    leniency = {judge: rng.choice((-1, 0, 0, 1)) for judge in range(1, JUDGES + 1)}
    scores = []
    for submission in range(1, SUBMISSIONS + 1):
        quality = rng.random()
        for judge, offset in leniency.items():
            for criterion in CRITERIA:
                span = criterion.scale_max - criterion.scale_min
                value = round(criterion.scale_min + quality * span + offset + rng.gauss(0, span / 6))
                scores.append(
                    Score(
                        submission,
                        judge,
                        criterion.id,
                        min(max(value, criterion.scale_min), criterion.scale_max),
                    )
                )
    return scores


def test_aggregate_a_round_of_1000_submissions(benchmark: Any) -> None:
    """pytest-benchmark: the normalized aggregation of the whole round."""
    scores = make_round()
    result = benchmark(aggregate, CRITERIA, scores, normalize=True)
    assert len(result.results) == SUBMISSIONS  # noqa: S101 (a pytest check, not input validation)
    assert result.agreement.submissions == SUBMISSIONS  # noqa: S101 (same)


def main(argv: Sequence[str] | None = None) -> int:
    """Time `aggregate` a number of times and print the median and fastest run and the median CPU time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21, help="timed runs (default 21)")
    args = parser.parse_args(argv)
    scores = make_round()
    aggregate(CRITERIA, scores, normalize=True)  # Warm-up: first-call costs are not what we measure.
    wall, cpu = [], []
    for _ in range(args.repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = aggregate(CRITERIA, scores, normalize=True)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    print(
        f"aggregate(normalize=True), {SUBMISSIONS} submissions × {JUDGES} judges × {len(CRITERIA)} criteria "
        f"({len(scores)} scores), {args.repeat} runs: median {statistics.median(wall):.1f} ms "
        f"(fastest {min(wall):.1f} ms; CPU time median {statistics.median(cpu):.1f} ms), "
        f"target <= {TARGET_MS:.0f} ms; Kendall's W {result.agreement.kendall_w:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
