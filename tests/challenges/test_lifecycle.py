"""Every allowed and every forbidden lifecycle transition; effective status at the deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from app.challenges.lifecycle import (
    TRANSITIONS,
    Action,
    ChallengeFacts,
    PublicStage,
    Status,
    TransitionRefused,
    accepting_applications,
    accepting_questions,
    effective_status,
    next_status,
    public_stage,
)

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
ALLOWED = {
    (Status.DRAFT, Action.SUBMIT_FOR_REVIEW): Status.IN_REVIEW,
    (Status.IN_REVIEW, Action.REQUEST_CHANGES): Status.DRAFT,
    (Status.IN_REVIEW, Action.APPROVE): Status.PUBLISHED,
    (Status.PUBLISHED, Action.CLOSE): Status.CLOSED,
    (Status.CLOSED, Action.START_JUDGING): Status.JUDGING,
    (Status.JUDGING, Action.PUBLISH_RESULTS): Status.RESULTS_PUBLISHED,
    (Status.RESULTS_PUBLISHED, Action.ARCHIVE): Status.ARCHIVED,
}


@pytest.mark.parametrize(("status", "action"), list(product(Status, Action)))
def test_every_pair(status: Status, action: Action) -> None:
    if (status, action) in ALLOWED:
        assert next_status(status, action) is ALLOWED[(status, action)]
    else:
        with pytest.raises(TransitionRefused):
            next_status(status, action)


def test_the_table_is_exactly_the_documented_one() -> None:
    assert dict(TRANSITIONS) == ALLOWED


def facts(status: Status, close: datetime | None, questions: datetime | None = None) -> ChallengeFacts:
    """A challenge's facts."""
    return ChallengeFacts(
        id=1,
        bureau_id=1,
        status=status,
        author_id=1,
        applications_close_at=close,
        questions_close_at=questions,
    )


def test_published_becomes_closed_at_the_deadline_instant() -> None:
    deadline = NOW
    assert (
        effective_status(facts(Status.PUBLISHED, deadline), NOW - timedelta(milliseconds=1))
        is Status.PUBLISHED
    )
    assert effective_status(facts(Status.PUBLISHED, deadline), NOW) is Status.CLOSED
    assert accepting_applications(facts(Status.PUBLISHED, deadline), NOW - timedelta(milliseconds=1))
    assert not accepting_applications(facts(Status.PUBLISHED, deadline), NOW)
    assert effective_status(facts(Status.DRAFT, deadline), NOW + timedelta(days=1)) is Status.DRAFT


def test_question_deadline_is_respected() -> None:
    challenge = facts(Status.PUBLISHED, NOW + timedelta(days=5), questions=NOW)
    assert accepting_questions(challenge, NOW - timedelta(seconds=1))
    assert not accepting_questions(challenge, NOW)


def test_public_stages() -> None:
    assert public_stage(Status.PUBLISHED) is PublicStage.OPEN
    assert public_stage(Status.CLOSED) is PublicStage.REVIEWING
    assert public_stage(Status.JUDGING) is PublicStage.REVIEWING
    assert public_stage(Status.RESULTS_PUBLISHED) is PublicStage.RESULTS
    assert public_stage(Status.ARCHIVED) is PublicStage.ENDED
    assert public_stage(Status.DRAFT) is None
    assert public_stage(Status.IN_REVIEW) is None
