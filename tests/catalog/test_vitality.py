"""The vitality indicator: each factor's rule, the levels, and bounds for any input."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.catalog.vitality import VitalityInputs, vitality

TODAY = date(2026, 11, 28)


def inputs(**overrides: object) -> VitalityInputs:
    """Inputs with no data, overridden by keyword."""
    values: dict[str, object] = {
        "today": TODAY,
        "release_date": None,
        "adoption_changes_12m": 0,
        "collaboration_status": None,
        "commits_90d": None,
        "stars": None,
        **overrides,
    }
    return VitalityInputs(**values)  # type: ignore[arg-type]


def points(result_key: str, **overrides: object) -> int:
    """The points of one factor."""
    result = vitality(inputs(**overrides))
    return next(factor.points for factor in result.factors if factor.key == result_key)


def test_nothing_known_is_quiet_with_unknown_factors() -> None:
    result = vitality(inputs())
    assert result.score == 0
    assert result.level == "quiet"
    assert [factor.known for factor in result.factors] == [False, False, True, False]


def test_release_age_rule() -> None:
    assert points("release", release_date=TODAY) == 30
    assert points("release", release_date=TODAY - timedelta(days=180)) == 30
    assert points("release", release_date=TODAY - timedelta(days=181)) == 20
    assert points("release", release_date=TODAY - timedelta(days=365)) == 20
    assert points("release", release_date=TODAY - timedelta(days=730)) == 10
    assert points("release", release_date=TODAY - timedelta(days=731)) == 0
    assert points("release", release_date=TODAY + timedelta(days=3)) == 30


def test_repository_rule() -> None:
    assert points("repository", commits_90d=0, stars=0) == 0
    assert points("repository", commits_90d=1) == 5
    assert points("repository", commits_90d=10, stars=10) == 17
    assert points("repository", commits_90d=30, stars=100) == 30


def test_adoption_and_collaboration_rules() -> None:
    assert points("adoption", adoption_changes_12m=1) == 15
    assert points("adoption", adoption_changes_12m=3) == 30
    assert points("collaboration", collaboration_status="poc") == 10
    assert points("collaboration", collaboration_status="done") == 5
    assert points("collaboration", collaboration_status="stopped") == 0


def test_levels() -> None:
    everything = vitality(
        inputs(
            release_date=TODAY,
            commits_90d=50,
            stars=500,
            adoption_changes_12m=5,
            collaboration_status="contract",
        )
    )
    assert everything.score == 100
    assert everything.level == "active"
    steady = vitality(inputs(release_date=TODAY))
    assert steady.score == 30
    assert steady.level == "steady"


@given(
    st.one_of(st.none(), st.dates()),
    st.integers(min_value=-5, max_value=10_000),
    st.one_of(st.none(), st.sampled_from(["negotiating", "poc", "contract", "done", "stopped", "x"])),
    st.one_of(st.none(), st.integers(min_value=-5, max_value=10_000)),
    st.one_of(st.none(), st.integers(min_value=-5, max_value=10**6)),
)
def test_score_is_the_sum_of_bounded_factors(
    release: date | None, changes: int, collaboration: str | None, commits: int | None, stars: int | None
) -> None:
    result = vitality(
        inputs(
            release_date=release,
            adoption_changes_12m=changes,
            collaboration_status=collaboration,
            commits_90d=commits,
            stars=stars,
        )
    )
    assert 0 <= result.score <= 100
    assert result.score == sum(factor.points for factor in result.factors)
    assert all(0 <= factor.points <= factor.maximum for factor in result.factors)
    assert sum(factor.maximum for factor in result.factors) == 100
