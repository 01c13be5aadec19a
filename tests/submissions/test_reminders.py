"""Organizations with an unsubmitted draft are reminded 3 days and 1 day before the deadline, once each."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from app.notifications.tables import Notification
from app.submissions.reminders import remind_unsubmitted_drafts
from app.submissions.state import SubmissionStatus
from app.submissions.tables import Submission, TeamMember
from tests.submissions.factories import make_contest

# Deadline 2026-12-10 17:00 JST = 08:00 UTC. Reminders: 12-07 09:00 JST (3 days), 12-09 09:00 JST (1 day).
DEADLINE = datetime(2026, 12, 10, 8, 0, tzinfo=UTC)


async def draft_for(contest_now: datetime) -> int:
    """A draft whose team is the founder; returns the founder's user id."""
    contest = await make_contest(now=contest_now, close_in=DEADLINE - contest_now)
    rows = await Submission.insert(
        Submission(
            challenge=contest.challenge_id,
            organization=contest.organization_id,
            status="draft",
            active_slot=f"{contest.challenge_id}:{contest.organization_id}",
            summary="",
            created_by=contest.founder.id,
            created_at=contest_now,
            updated_at=contest_now,
            withdraw_reason="",
        )
    ).run()
    await TeamMember.insert(
        TeamMember(submission=rows[0]["id"], user=contest.founder.id, added_at=contest_now)
    ).run()
    return contest.founder.id


async def reminders() -> list[str]:
    """The dedupe keys of the reminders written so far."""
    rows = (
        await Notification.select(Notification.dedupe_key)
        .where(Notification.kind == "draft_deadline_reminder")
        .run()
    )
    return sorted(row["dedupe_key"] for row in rows)


async def test_each_reminder_goes_once_even_with_two_workers_and_a_restart(database: object) -> None:
    """Nothing before 09:00 JST; the 3-day reminder once (twice at once, then again); later the 1-day one."""
    await draft_for(datetime(2026, 12, 1, tzinfo=UTC))
    assert (
        await remind_unsubmitted_drafts(datetime(2026, 12, 6, 23, 59, tzinfo=UTC)) == 0
    )  # 08:59 JST on 12-07
    three_days = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # 09:00 JST on 12-07
    await asyncio.gather(remind_unsubmitted_drafts(three_days), remind_unsubmitted_drafts(three_days))
    await remind_unsubmitted_drafts(datetime(2026, 12, 8, 3, 0, tzinfo=UTC))  # "after a restart"
    assert len(await reminders()) == 1
    assert ":3d:" in (await reminders())[0]
    await remind_unsubmitted_drafts(datetime(2026, 12, 9, 0, 0, tzinfo=UTC))
    await remind_unsubmitted_drafts(datetime(2026, 12, 9, 12, 0, tzinfo=UTC))
    keys = await reminders()
    assert len(keys) == 2
    assert ":1d:" in keys[0] or ":1d:" in keys[1]
    assert (
        await remind_unsubmitted_drafts(datetime(2026, 12, 10, 8, 0, tzinfo=UTC)) == 0
    )  # the deadline itself


async def test_submitted_applications_are_not_reminded(database: object) -> None:
    """Only drafts get reminders."""
    await draft_for(datetime(2026, 12, 1, tzinfo=UTC))
    await (
        Submission.update({Submission.status: SubmissionStatus.SUBMITTED.value})
        .where(Submission.id > 0)
        .run()
    )
    assert await remind_unsubmitted_drafts(datetime(2026, 12, 7, 1, 0, tzinfo=UTC)) == 0
