"""What a submission is, without the database: its states, the facts policies need, receipt numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from app.challenges.lifecycle import ChallengeFacts, Status
from app.web.jst import TOKYO

RECEIPT_PREFIX = "KY"


class SubmissionStatus(StrEnum):
    """draft → submitted → withdrawn | advanced | not_selected | winner."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"
    ADVANCED = "advanced"
    NOT_SELECTED = "not_selected"
    WINNER = "winner"


# The applicant may still change these (before the deadline); later states belong to judging.
OPEN_STATUSES = frozenset({SubmissionStatus.DRAFT, SubmissionStatus.SUBMITTED})


class FieldKind(StrEnum):
    """The kinds of question a form can ask."""

    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    URL = "url"
    FILE = "file"


@dataclass(frozen=True)
class SubmissionFacts:
    """What policies need to know about a submission and its challenge."""

    id: int
    organization_id: int
    status: SubmissionStatus
    challenge: ChallengeFacts

    @property
    def bureau_id(self) -> int:
        """The bureau that owns the challenge."""
        return self.challenge.bureau_id

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> SubmissionFacts:
        """From a submission row joined with its challenge's facts (prefixed `challenge.`)."""
        return cls(
            id=row["id"],
            organization_id=row["organization"],
            status=SubmissionStatus(row["status"]),
            challenge=ChallengeFacts(
                id=row["challenge"],
                bureau_id=row["challenge.bureau"],
                status=Status(row["challenge.status"]),
                author_id=row["challenge.author"],
                applications_open_at=row["challenge.applications_open_at"],
                questions_close_at=row["challenge.questions_close_at"],
                applications_close_at=row["challenge.applications_close_at"],
            ),
        )


def receipt_number(challenge_id: int, sequence: int, submitted_at: datetime) -> str:
    """受付番号 such as KY-2026-0042-0007: year (JST), challenge, and the challenge's n-th submission."""
    return f"{RECEIPT_PREFIX}-{submitted_at.astimezone(TOKYO).year}-{challenge_id:04d}-{sequence:04d}"


def count_characters(text: str) -> int:
    """Characters as a reader counts them: one per code point, line breaks as one (CRLF too)."""
    return len(text.replace("\r\n", "\n"))
