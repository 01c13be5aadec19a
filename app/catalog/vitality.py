"""How alive a catalogue entry is, from figures the platform holds (pure: no I/O, explained on the page).

Four factors add up to a score out of 100; each factor's rule is shown beside its points, so a reader can
check the figure by hand:

- release: the last release's age — up to 180 days 30, up to a year 20, up to two years 10, else 0;
- repository: commits in the last 90 days — 30 or more 25, 10 or more 15, at least one 5 — plus stars —
  100 or more 5, 10 or more 2;
- adoption: adoption records created or changed in the last 12 months — 3 or more 30, at least one 15;
- collaboration: the collaboration behind it — under way (negotiating, PoC, contract) 10, done 5.

A factor without data scores 0 and is marked unknown. 60 or more is "active", 30 or more "steady", below
that "quiet".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

ACTIVE_FROM = 60
STEADY_FROM = 30
ONGOING_COLLABORATION = frozenset({"negotiating", "poc", "contract"})


@dataclass(frozen=True)
class VitalityInputs:
    """The figures behind the indicator."""

    today: date
    release_date: date | None
    adoption_changes_12m: int
    collaboration_status: str | None
    commits_90d: int | None
    stars: int | None


@dataclass(frozen=True)
class Factor:
    """One factor's contribution: its key, points out of `maximum`, and whether its data was known."""

    key: str  # release, repository, adoption, collaboration
    points: int
    maximum: int
    known: bool


@dataclass(frozen=True)
class Vitality:
    """The indicator: score out of 100, its level, and every factor (for the explanation)."""

    score: int
    level: str  # active, steady, quiet
    factors: tuple[Factor, ...]


def release_points(today: date, release_date: date | None) -> Factor:
    """Recent releases count most; a release date in the future counts as today's."""
    if release_date is None:
        return Factor("release", 0, 30, known=False)
    age = max((today - release_date).days, 0)
    points = 30 if age <= 180 else 20 if age <= 365 else 10 if age <= 730 else 0
    return Factor("release", points, 30, known=True)


def repository_points(commits_90d: int | None, stars: int | None) -> Factor:
    """Commits show work now; stars, a little, show interest."""
    if commits_90d is None and stars is None:
        return Factor("repository", 0, 30, known=False)
    commits = max(commits_90d or 0, 0)
    commit_points = 25 if commits >= 30 else 15 if commits >= 10 else 5 if commits >= 1 else 0
    star_count = max(stars or 0, 0)
    star_points = 5 if star_count >= 100 else 2 if star_count >= 10 else 0
    return Factor("repository", commit_points + star_points, 30, known=True)


def adoption_points(changes_12m: int) -> Factor:
    """Municipalities adopting, evaluating or leaving it this year: the entry is in use and watched."""
    points = 30 if changes_12m >= 3 else 15 if changes_12m >= 1 else 0
    return Factor("adoption", points, 30, known=True)


def collaboration_points(status: str | None) -> Factor:
    """A collaboration under way keeps the software moving; a finished one still had a maintainer."""
    if status is None:
        return Factor("collaboration", 0, 10, known=False)
    points = 10 if status in ONGOING_COLLABORATION else 5 if status == "done" else 0
    return Factor("collaboration", points, 10, known=True)


def level_of(score: int) -> str:
    """The level shown as a badge."""
    return "active" if score >= ACTIVE_FROM else "steady" if score >= STEADY_FROM else "quiet"


def vitality(inputs: VitalityInputs) -> Vitality:
    """The indicator for one entry."""
    factors = (
        release_points(inputs.today, inputs.release_date),
        repository_points(inputs.commits_90d, inputs.stars),
        adoption_points(max(inputs.adoption_changes_12m, 0)),
        collaboration_points(inputs.collaboration_status),
    )
    score = sum(factor.points for factor in factors)
    return Vitality(score=score, level=level_of(score), factors=factors)
