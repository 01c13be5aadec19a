"""The worker loop: deliver due mail, and run the scheduled jobs every minute.

In-process by default (the web app's lifespan starts it); `python -m app worker` runs it as its own
process. Several may run at once: claims never overlap, and each scheduled job is written so that running
it twice, at once or after a restart, changes nothing the second time (dedupe keys, conditional updates).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from app.clock import utcnow
from app.notifications.delivery import BATCH_SIZE, deliver_due
from app.notifications.outbox import wait_for_work
from app.settings import Settings

ScheduledJob = Callable[[datetime], Awaitable[object]]
POLL_SECONDS = 2.0
SCHEDULE_EVERY_SECONDS = 60.0
log = logging.getLogger(__name__)


async def run_scheduled_jobs(jobs: Sequence[ScheduledJob], now: datetime) -> None:
    """Run each job once; one failing job does not stop the others."""
    for job in jobs:
        try:
            await job(now)
        except Exception:
            log.exception("Scheduled job %s failed", getattr(job, "__name__", job))


async def run_worker(
    settings: Settings,
    jobs: Sequence[ScheduledJob],
    *,
    frequent_jobs: Sequence[ScheduledJob] = (),
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Deliver and schedule until cancelled: `jobs` every minute, `frequent_jobs` every few seconds."""
    last_schedule = -SCHEDULE_EVERY_SECONDS
    while True:
        if time.monotonic() - last_schedule >= SCHEDULE_EVERY_SECONDS:
            last_schedule = time.monotonic()
            await run_scheduled_jobs(jobs, clock())
        # Frequent jobs (applying search changes) run on every pass: at most POLL_SECONDS after a change.
        await run_scheduled_jobs(frequent_jobs, clock())
        try:
            report = await deliver_due(settings, clock())
        except Exception:
            log.exception("Delivering notifications failed")
            await asyncio.sleep(POLL_SECONDS)
            continue
        if report.handled < BATCH_SIZE:
            await wait_for_work(POLL_SECONDS)
