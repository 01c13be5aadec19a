"""The lifecycle of a challenge as pure functions: allowed transitions, the status the public sees, phases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """Stored lifecycle states."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    CLOSED = "closed"
    JUDGING = "judging"
    RESULTS_PUBLISHED = "results_published"
    ARCHIVED = "archived"


class Action(StrEnum):
    """What a person (or the deadline) does to a challenge."""

    SUBMIT_FOR_REVIEW = "submit_for_review"
    REQUEST_CHANGES = "request_changes"
    APPROVE = "approve"
    CLOSE = "close"
    START_JUDGING = "start_judging"
    PUBLISH_RESULTS = "publish_results"
    ARCHIVE = "archive"


TRANSITIONS: Mapping[tuple[Status, Action], Status] = {
    (Status.DRAFT, Action.SUBMIT_FOR_REVIEW): Status.IN_REVIEW,
    (Status.IN_REVIEW, Action.REQUEST_CHANGES): Status.DRAFT,
    (Status.IN_REVIEW, Action.APPROVE): Status.PUBLISHED,
    (Status.PUBLISHED, Action.CLOSE): Status.CLOSED,
    (Status.CLOSED, Action.START_JUDGING): Status.JUDGING,
    (Status.JUDGING, Action.PUBLISH_RESULTS): Status.RESULTS_PUBLISHED,
    (Status.RESULTS_PUBLISHED, Action.ARCHIVE): Status.ARCHIVED,
}

# States the public may see; drafts and reviews exist only for the bureau.
PUBLIC_STATUSES = frozenset(
    {Status.PUBLISHED, Status.CLOSED, Status.JUDGING, Status.RESULTS_PUBLISHED, Status.ARCHIVED}
)
# Editable states: a challenge under review is frozen so the approver sees what will be published.
EDITABLE_STATUSES = frozenset({Status.DRAFT, Status.PUBLISHED, Status.CLOSED, Status.JUDGING})


class PublicStage(StrEnum):
    """The four stages the public filters by: 募集中 / 審査中 / 結果発表 / 終了."""

    OPEN = "open"
    REVIEWING = "reviewing"
    RESULTS = "results"
    ENDED = "ended"


class TransitionRefused(Exception):
    """The action is not allowed from the challenge's current state."""


def next_status(current: Status, action: Action) -> Status:
    """The state after `action`, or TransitionRefused."""
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        raise TransitionRefused(f"{action} is not allowed from {current}") from None


@dataclass(frozen=True)
class ChallengeFacts:
    """What policies and pages need to know about a challenge, without the database."""

    id: int
    bureau_id: int
    status: Status
    author_id: int
    applications_open_at: datetime | None = None
    questions_close_at: datetime | None = None
    applications_close_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ChallengeFacts:
        """From a row selected with at least id, bureau, status, author and the application times."""
        return cls(
            id=row["id"],
            bureau_id=row["bureau"],
            status=Status(row["status"]),
            author_id=row["author"],
            applications_open_at=row.get("applications_open_at"),
            questions_close_at=row.get("questions_close_at"),
            applications_close_at=row.get("applications_close_at"),
        )


def effective_status(facts: ChallengeFacts, now: datetime) -> Status:
    """The stored status, except that a published challenge is closed once its deadline has passed."""
    if (
        facts.status is Status.PUBLISHED
        and facts.applications_close_at
        and now >= facts.applications_close_at
    ):
        return Status.CLOSED
    return facts.status


def public_stage(status: Status) -> PublicStage | None:
    """The stage the public filters by, or None for states the public never sees."""
    return {
        Status.PUBLISHED: PublicStage.OPEN,
        Status.CLOSED: PublicStage.REVIEWING,
        Status.JUDGING: PublicStage.REVIEWING,
        Status.RESULTS_PUBLISHED: PublicStage.RESULTS,
        Status.ARCHIVED: PublicStage.ENDED,
    }.get(status)


def accepting_applications(facts: ChallengeFacts, now: datetime) -> bool:
    """Published, opened, and before the deadline (the server's clock decides, at the moment of the write)."""
    if effective_status(facts, now) is not Status.PUBLISHED:
        return False
    return facts.applications_open_at is None or now >= facts.applications_open_at


def accepting_questions(facts: ChallengeFacts, now: datetime) -> bool:
    """Applications are open and the question deadline (if any) has not passed."""
    if not accepting_applications(facts, now):
        return False
    return facts.questions_close_at is None or now < facts.questions_close_at


PHASES = (
    "applications_open_at",
    "questions_close_at",
    "applications_close_at",
    "screening_at",
    "pitch_at",
    "results_at",
)


def current_phase(times: Mapping[str, datetime | None], now: datetime) -> str | None:
    """The last phase whose instant has passed (None before the first)."""
    passed = [phase for phase in PHASES if times.get(phase) is not None and now >= times[phase]]  # type: ignore[operator]
    return passed[-1] if passed else None
