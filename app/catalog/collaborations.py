"""Collaborations after an award: each winner's path 協議中 → PoC実施中 → 契約 → 完了 / 中止, kept public."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from litestar.exceptions import NotFoundException
from piccolo.engine.postgres import PostgresEngine

from app.accounts.viewer import Viewer
from app.catalog.policies import can_manage_collaboration
from app.catalog.tables import Collaboration, CollaborationStep
from app.challenges.lifecycle import ChallengeFacts, Status
from app.challenges.tables import Challenge
from app.judging import audit
from app.submissions.state import SubmissionStatus
from app.submissions.tables import Submission
from app.validation import InvalidInput
from app.web.i18n import gettext as _
from app.web.jst import TOKYO
from app.web.page_cache import forget_public_pages

# Results stay public once the challenge is archived, and so does what came of them.
RESULTS_PUBLIC = (Status.RESULTS_PUBLISHED.value, Status.ARCHIVED.value)
NOTE_MAX_CHARS = 500
CASES_PAGE_SIZE = 30
MAX_ID = 2**31 - 1


class CollaborationStatus(StrEnum):
    """negotiating → poc → contract → done; stopped from any state."""

    NEGOTIATING = "negotiating"
    POC = "poc"
    CONTRACT = "contract"
    DONE = "done"
    STOPPED = "stopped"


PROGRESS = (
    CollaborationStatus.NEGOTIATING,
    CollaborationStatus.POC,
    CollaborationStatus.CONTRACT,
    CollaborationStatus.DONE,
)


def status_labels() -> dict[str, str]:
    """Each status as the reader's language names it (translated at render time)."""
    return {
        CollaborationStatus.NEGOTIATING: _("Negotiating"),
        CollaborationStatus.POC: _("PoC in progress"),
        CollaborationStatus.CONTRACT: _("Contracted"),
        CollaborationStatus.DONE: _("Completed"),
        CollaborationStatus.STOPPED: _("Stopped"),
    }


def transition_problem(current: CollaborationStatus, new: CollaborationStatus) -> str | None:
    """Why a step from `current` to `new` is refused, or None (same status: a progress note)."""
    if current is CollaborationStatus.STOPPED:
        return _("This collaboration was stopped: no further steps can be recorded.")
    if new is CollaborationStatus.STOPPED:
        return None
    if PROGRESS.index(new) < PROGRESS.index(current):
        labels = status_labels()
        return _("A collaboration cannot go back from “%(current)s” to “%(new)s”.") % {
            "current": labels[current],
            "new": labels[new],
        }
    return None


@dataclass(frozen=True)
class StepValues:
    """A checked progress step."""

    status: CollaborationStatus
    happened_on: date
    note_ja: str
    note_en: str


def clean_note(values: Mapping[str, str], name: str, errors: dict[str, str]) -> str:
    """A short note; control characters other than line breaks are refused (NUL breaks PostgreSQL)."""
    note = values.get(name, "").strip().replace("\r\n", "\n")
    if len(note) > NOTE_MAX_CHARS:
        errors[name] = _("At most %(count)s characters.") % {"count": NOTE_MAX_CHARS}
    elif any((ord(char) < 32 and char not in "\n\t") or ord(char) == 127 for char in note):
        errors[name] = _("Remove the control characters.")
    return note


def parse_step(
    values: Mapping[str, str], *, today: date, default_status: CollaborationStatus | None = None
) -> StepValues:
    """The step a form describes; every problem is reported at once (InvalidInput)."""
    errors: dict[str, str] = {}
    status = default_status
    if default_status is None:
        try:
            status = CollaborationStatus(values.get("status", ""))
        except ValueError:
            errors["status"] = _("Choose a status.")
    happened_on = today
    try:
        happened_on = date.fromisoformat(values.get("happened_on", ""))
    except ValueError:
        errors["happened_on"] = _("Enter a date such as 2026-04-01.")
    else:
        if happened_on > today:
            errors["happened_on"] = _("The date cannot be in the future.")
    note_ja = clean_note(values, "note_ja", errors)
    note_en = clean_note(values, "note_en", errors)
    if errors or status is None:
        raise InvalidInput(errors)
    return StepValues(status=status, happened_on=happened_on, note_ja=note_ja, note_en=note_en)


def tokyo_today(now: datetime) -> date:
    """The calendar day in Japan at `now` (step dates are Japanese calendar days)."""
    return now.astimezone(TOKYO).date()


# Services.


async def managed_challenge(user: Viewer | None, slug: str) -> ChallengeFacts:
    """A challenge with published results whose bureau the user acts for; 404 for everyone else."""
    row = await (
        Challenge.select(Challenge.id, Challenge.bureau, Challenge.status, Challenge.author)
        .where((Challenge.slug == slug) & Challenge.status.is_in(list(RESULTS_PUBLIC)))
        .first()
        .run()
    )
    if row is None:
        raise NotFoundException
    facts = ChallengeFacts.from_row(row)
    if not can_manage_collaboration(user, facts):
        raise NotFoundException
    return facts


async def create_collaboration(
    user: Viewer | None, slug: str, values: Mapping[str, str], *, now: datetime
) -> int:
    """Open a collaboration for a winner, with its first public step (協議中); returns its id.

    Raises:
        NotFoundException: no challenge with published results, or the user does not act for its bureau.
        InvalidInput: not a winner of this challenge, already has a collaboration, or a bad date or note.
    """
    facts = await managed_challenge(user, slug)
    assert user is not None  # noqa: S101 (managed_challenge refuses anonymous visitors)
    submission = values.get("submission", "")
    # Anything but a plausible id (a huge one overflows PostgreSQL's integer) names no winner.
    submission_id = int(submission) if submission.isascii() and submission.isdecimal() else -1
    submission_id = submission_id if submission_id <= MAX_ID else -1
    step = parse_step(values, today=tokyo_today(now), default_status=CollaborationStatus.NEGOTIATING)
    async with Collaboration._meta.db.transaction():
        winner = await (
            Submission.select(Submission.id)
            .where(
                (Submission.id == submission_id)
                & (Submission.challenge == facts.id)
                & (Submission.status == SubmissionStatus.WINNER.value)
            )
            .first()
            .run()
        )
        if winner is None:
            raise InvalidInput(
                {"submission": _("Only a winner of this challenge can start a collaboration.")}
            )
        if await Collaboration.exists().where(Collaboration.submission == winner["id"]).run():
            raise InvalidInput({"submission": _("This winner already has a collaboration.")})
        rows = await Collaboration.insert(
            Collaboration(
                challenge=facts.id,
                submission=winner["id"],
                status=CollaborationStatus.NEGOTIATING.value,
                started_at=now,
                updated_at=now,
            )
        ).run()
        collaboration_id = int(rows[0]["id"])
        await insert_step(user, collaboration_id, step, now=now)
        await audit.record(
            "collaboration_started",
            actor=user.id,
            challenge=facts.id,
            subject=f"collaboration:{collaboration_id}",
            details={"submission": winner["id"], "happened_on": step.happened_on.isoformat()},
            now=now,
        )
    await forget_public_pages()
    return collaboration_id


async def insert_step(user: Viewer, collaboration_id: int, step: StepValues, *, now: datetime) -> None:
    """Append a step (call inside the write transaction)."""
    await CollaborationStep.insert(
        CollaborationStep(
            collaboration=collaboration_id,
            status=step.status.value,
            happened_on=step.happened_on,
            note_ja=step.note_ja,
            note_en=step.note_en,
            recorded_by=user.id,
            recorded_at=now,
        )
    ).run()


async def managed_collaboration(user: Viewer | None, collaboration_id: int) -> dict[str, Any]:
    """A collaboration (with its challenge's facts) the user may manage; 404 for everyone else."""
    row = await (
        Collaboration.select(
            Collaboration.id,
            Collaboration.status,
            Collaboration.challenge.id.as_alias("challenge_id"),
            Collaboration.challenge.bureau.as_alias("bureau"),
            Collaboration.challenge.status.as_alias("challenge_status"),
            Collaboration.challenge.author.as_alias("author"),
        )
        .where(Collaboration.id == collaboration_id)
        .first()
        .run()
    )
    if row is None or row["challenge_status"] not in RESULTS_PUBLIC:
        raise NotFoundException
    facts = ChallengeFacts(
        id=row["challenge_id"],
        bureau_id=row["bureau"],
        status=Status(row["challenge_status"]),
        author_id=row["author"],
    )
    if not can_manage_collaboration(user, facts):
        raise NotFoundException
    return {**row, "facts": facts}


async def record_step(
    user: Viewer | None, collaboration_id: int, values: Mapping[str, str], *, now: datetime
) -> CollaborationStatus:
    """Append a public progress step; the collaboration's status follows it. Returns the new status.

    Raises:
        NotFoundException: unknown, not yet public, or the user does not act for the owning bureau.
        InvalidInput: a move backwards, a step after 中止, a date before the previous step, a bad note.
    """
    await managed_collaboration(user, collaboration_id)
    assert user is not None  # noqa: S101 (managed_collaboration refuses anonymous visitors)
    step = parse_step(values, today=tokyo_today(now))
    engine = Collaboration._meta.db
    async with engine.transaction():
        query = Collaboration.select(Collaboration.status, Collaboration.challenge).where(
            Collaboration.id == collaboration_id
        )
        if isinstance(engine, PostgresEngine):
            # Two officials recording at once must each see the other's step: they queue on this row.
            query = query.lock_rows("UPDATE")
        current = (await query.run())[0]
        problem = transition_problem(CollaborationStatus(current["status"]), step.status)
        if problem:
            raise InvalidInput({"status": problem})
        latest = await (
            CollaborationStep.select(CollaborationStep.happened_on)
            .where(CollaborationStep.collaboration == collaboration_id)
            .order_by(CollaborationStep.happened_on, ascending=False)
            .first()
            .run()
        )
        if latest is not None and step.happened_on < latest["happened_on"]:
            raise InvalidInput(
                {
                    "happened_on": _("The date cannot be before the previous step (%(day)s).")
                    % {"day": latest["happened_on"].isoformat()}
                }
            )
        await insert_step(user, collaboration_id, step, now=now)
        await (
            Collaboration.update({Collaboration.status: step.status.value, Collaboration.updated_at: now})
            .where(Collaboration.id == collaboration_id)
            .run()
        )
        await audit.record(
            "collaboration_step",
            actor=user.id,
            challenge=current["challenge"],
            subject=f"collaboration:{collaboration_id}",
            details={
                "from": current["status"],
                "to": step.status.value,
                "happened_on": step.happened_on.isoformat(),
            },
            now=now,
        )
    await forget_public_pages()
    return step.status


# Queries for pages.

CASE_COLUMNS = (
    Collaboration.id,
    Collaboration.status,
    Collaboration.started_at,
    Collaboration.updated_at,
    Collaboration.submission.as_alias("submission_id"),
    Collaboration.challenge.id.as_alias("challenge_id"),
    Collaboration.challenge.slug.as_alias("challenge_slug"),
    Collaboration.challenge.title_ja.as_alias("challenge_title_ja"),
    Collaboration.challenge.title_en.as_alias("challenge_title_en"),
    Collaboration.challenge.bureau.as_alias("bureau"),
    Collaboration.challenge.author.as_alias("author"),
    Collaboration.challenge.status.as_alias("challenge_status"),
    Collaboration.challenge._.bureau._.name_ja.as_alias("bureau_name_ja"),
    Collaboration.challenge._.bureau._.name_en.as_alias("bureau_name_en"),
    Collaboration.submission._.organization._.name_ja.as_alias("organization_name_ja"),
    Collaboration.submission._.organization._.name_en.as_alias("organization_name_en"),
)


@dataclass
class CollaborationPanel:
    """What templates/catalog/_collaborations.html shows: cases with their steps, and winners without one."""

    cases: list[dict[str, Any]]
    facts: ChallengeFacts | None = None  # set on a challenge's results page (officials see the forms)
    slug: str = ""
    open_winners: list[dict[str, Any]] = field(default_factory=list)
    show_challenge: bool = False

    @property
    def labels(self) -> dict[str, str]:
        """Status names in the reader's language."""
        return status_labels()

    @property
    def statuses(self) -> Sequence[str]:
        """Every status, in the order of the path."""
        return [status.value for status in CollaborationStatus]


async def attach_steps(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each case's steps, oldest first (one query for all of them)."""
    ids = [case["id"] for case in cases]
    steps = (
        await CollaborationStep.select(
            CollaborationStep.id,
            CollaborationStep.collaboration,
            CollaborationStep.status,
            CollaborationStep.happened_on,
            CollaborationStep.note_ja,
            CollaborationStep.note_en,
        )
        .where(CollaborationStep.collaboration.is_in(ids))
        .order_by(CollaborationStep.happened_on)
        .order_by(CollaborationStep.id)
        .run()
        if ids
        else []
    )
    by_case: dict[int, list[dict[str, Any]]] = {case_id: [] for case_id in ids}
    for step in steps:
        by_case[step["collaboration"]].append(step)
    for case in cases:
        case["steps"] = by_case[case["id"]]
    return cases


async def collaborations_of(challenge_id: int) -> CollaborationPanel:
    """The results page's panel: each winner's collaboration and steps, and winners without one yet.

    Empty before the results are published (nothing about a contest leaks early). Three queries.
    """
    challenge = await (
        Challenge.select(Challenge.id, Challenge.slug, Challenge.bureau, Challenge.status, Challenge.author)
        .where((Challenge.id == challenge_id) & Challenge.status.is_in(list(RESULTS_PUBLIC)))
        .first()
        .run()
    )
    if challenge is None:
        return CollaborationPanel(cases=[])
    cases = await attach_steps(
        await Collaboration.select(*CASE_COLUMNS)
        .where(Collaboration.challenge == challenge_id)
        .order_by(Collaboration.id)
        .run()
    )
    started = {case["submission_id"] for case in cases}
    winners = await (
        Submission.select(
            Submission.id,
            Submission.organization.name_ja.as_alias("organization_name_ja"),
            Submission.organization.name_en.as_alias("organization_name_en"),
        )
        .where((Submission.challenge == challenge_id) & (Submission.status == SubmissionStatus.WINNER.value))
        .order_by(Submission.receipt_number)
        .run()
    )
    return CollaborationPanel(
        cases=cases,
        facts=ChallengeFacts.from_row(challenge),
        slug=challenge["slug"],
        open_winners=[winner for winner in winners if winner["id"] not in started],
    )


def public_cases_query(status: CollaborationStatus | None) -> Any:
    """Collaborations of challenges whose results are public, optionally in one status."""
    query = Collaboration.select(*CASE_COLUMNS).where(
        Collaboration.challenge.status.is_in(list(RESULTS_PUBLIC))
    )
    if status is not None:
        query = query.where(Collaboration.status == status.value)
    return query


async def public_cases(
    status: CollaborationStatus | None, *, page: int, page_size: int = CASES_PAGE_SIZE
) -> tuple[list[dict[str, Any]], bool]:
    """A page of public cases, most recently updated first, with their steps; and whether more follow."""
    rows = (
        await public_cases_query(status)
        .order_by(Collaboration.updated_at, ascending=False)
        .order_by(Collaboration.id, ascending=False)
        .limit(page_size + 1)
        .offset((page - 1) * page_size)
        .run()
    )
    return await attach_steps(rows[:page_size]), len(rows) > page_size


async def public_case(collaboration_id: int) -> dict[str, Any]:
    """One public case with its steps; 404 when unknown or its challenge's results are not public."""
    row = await public_cases_query(None).where(Collaboration.id == collaboration_id).first().run()
    if row is None:
        raise NotFoundException
    row["facts"] = ChallengeFacts(
        id=row["challenge_id"],
        bureau_id=row["bureau"],
        status=Status(row["challenge_status"]),
        author_id=row["author"],
    )
    return (await attach_steps([row]))[0]
