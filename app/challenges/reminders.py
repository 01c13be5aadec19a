"""Deadline reminders to followers: 3 days and 1 day before the application deadline, in JST, each once.

A reminder is due from 09:00 JST on the calendar day N days before the deadline's JST date, for the rest
of that day (a challenge published two days before its deadline gets the 1-day one only), and the dedupe
key makes a second run, another worker or a restart send nothing more.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from app.challenges.lifecycle import Status
from app.challenges.messages import followers, message_context
from app.challenges.tables import Challenge
from app.notifications.outbox import notify_users
from app.web.jst import TOKYO

REMINDER_DAYS = (1, 3)  # nearest first
SEND_AT = time(9, 0)


def due_reminder(deadline: datetime, now: datetime) -> int | None:
    """The number of days of the reminder due at `now` for `deadline`, or None.

    Reminder N is due from 09:00 JST on the day N calendar days before the deadline's JST date, until the
    end of that day: a reminder that could only go out later would state the wrong number of days.
    """
    if now >= deadline:
        return None
    deadline_day = deadline.astimezone(TOKYO).date()
    remaining = (deadline_day - now.astimezone(TOKYO).date()).days
    for days in REMINDER_DAYS:
        due_at = datetime.combine(deadline_day - timedelta(days=days), SEND_AT, TOKYO)
        if remaining == days and now >= due_at:
            return days
    return None


async def remind_followers_of_deadlines(now: datetime) -> int:
    """Queue the reminders due now; returns how many messages were written."""
    horizon = now + timedelta(days=max(REMINDER_DAYS) + 1)
    open_challenges = await (
        Challenge.select(Challenge.id, Challenge.applications_close_at)
        .where(
            (Challenge.status == Status.PUBLISHED.value)
            & (Challenge.applications_close_at > now)
            & (Challenge.applications_close_at <= horizon)
        )
        .run()
    )
    written = 0
    for challenge in open_challenges:
        days = due_reminder(challenge["applications_close_at"], now)
        people = await followers(challenge["id"]) if days else []
        if not days or not people:
            continue
        context = {**await message_context(challenge["id"]), "days": days,
                   "deadline": challenge["applications_close_at"].isoformat()}  # fmt: skip
        async with Challenge._meta.db.transaction():
            written += await notify_users(
                "followed_deadline_reminder",
                people,
                context,
                link=f"/challenges/{context['slug']}",
                now=now,
                # A moved deadline gets reminders of its own.
                dedupe_key=f"deadline-reminder:{challenge['id']}:{context['deadline']}:{days}d:{{user}}",
            )
    return written
