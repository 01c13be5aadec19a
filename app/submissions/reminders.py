"""Reminders to organizations with an unsubmitted draft: 3 days and 1 day before, in JST, each once."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.challenges.lifecycle import Status
from app.challenges.reminders import REMINDER_DAYS, due_reminder
from app.notifications.outbox import notify_users
from app.submissions.state import SubmissionStatus
from app.submissions.tables import Submission, TeamMember


async def remind_unsubmitted_drafts(now: datetime) -> int:
    """Queue the reminders due now to each draft's team; returns how many messages were written."""
    horizon = now + timedelta(days=max(REMINDER_DAYS) + 1)
    drafts = await (
        Submission.select(
            Submission.id,
            Submission.challenge.slug,
            Submission.challenge.title_ja,
            Submission.challenge.title_en,
            Submission.challenge.applications_close_at,
        )
        .where(
            (Submission.status == SubmissionStatus.DRAFT.value)
            & (Submission.challenge.status == Status.PUBLISHED.value)
            & (Submission.challenge.applications_close_at > now)
            & (Submission.challenge.applications_close_at <= horizon)
        )
        .run()
    )
    written = 0
    for draft in drafts:
        deadline = draft["challenge.applications_close_at"]
        days = due_reminder(deadline, now)
        if not days:
            continue
        team = await TeamMember.select(TeamMember.user).where(TeamMember.submission == draft["id"]).run()
        context = {
            "slug": draft["challenge.slug"],
            "title_ja": draft["challenge.title_ja"],
            "title_en": draft["challenge.title_en"],
            "days": days,
            "deadline": deadline.isoformat(),
        }
        async with Submission._meta.db.transaction():
            written += await notify_users(
                "draft_deadline_reminder",
                [row["user"] for row in team],
                context,
                link=f"/submissions/{draft['id']}",
                now=now,
                dedupe_key=f"draft-reminder:{draft['id']}:{deadline.isoformat()}:{days}d:{{user}}",
            )
    return written
