"""The worker's scheduled jobs, listed explicitly (as asgi.py lists controllers); each is safe to repeat."""

from __future__ import annotations

from app.challenges.reminders import remind_followers_of_deadlines
from app.challenges.services import close_past_deadline
from app.judging.reminders import remind_judges
from app.notifications.worker import ScheduledJob
from app.search_sources import apply_search_changes
from app.submissions.reminders import remind_unsubmitted_drafts

SCHEDULED_JOBS: tuple[ScheduledJob, ...] = (
    close_past_deadline,
    remind_followers_of_deadlines,
    remind_unsubmitted_drafts,
    remind_judges,
)
# Run on every pass of the worker (every couple of seconds): a change shows in search almost at once.
FREQUENT_JOBS: tuple[ScheduledJob, ...] = (apply_search_changes,)
