"""Scheduled jobs with an injected clock: deadline reminders to followers, and closing past deadlines."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.engine.base import Engine

from app.challenges.reminders import due_reminder, remind_followers_of_deadlines
from app.challenges.services import close_past_deadline
from app.challenges.tables import Challenge, ChallengeEvent, Follow
from app.notifications.tables import Notification
from app.web.jst import TOKYO
from tests.challenges.factories import make_challenge, make_official
from tests.support.people import make_bureau, make_user

REMINDER = "followed_deadline_reminder"


def jst(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A moment given in Japan time, as a UTC datetime (how the database returns it)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=TOKYO).astimezone(UTC)


# Deadline 2026-12-10 17:00 JST: the 3-day reminder is due 2026-12-07 09:00 JST, the 1-day one 12-09 09:00.
DEADLINE = jst(2026, 12, 10, 17)
THREE_DAY_DUE = jst(2026, 12, 7, 9)
ONE_DAY_DUE = jst(2026, 12, 9, 9)


# due_reminder on its own.


def test_due_reminder_three_days_before_at_nine_jst() -> None:
    """Reminder N is due from 09:00 JST N calendar days before the deadline's JST date until that day ends."""
    assert due_reminder(DEADLINE, THREE_DAY_DUE - timedelta(seconds=1)) is None
    assert due_reminder(DEADLINE, THREE_DAY_DUE) == 3
    assert due_reminder(DEADLINE, jst(2026, 12, 7, 23, 59)) == 3
    assert due_reminder(DEADLINE, jst(2026, 12, 8, 12, 0)) is None  # "3 days left" would be wrong now
    assert due_reminder(DEADLINE, ONE_DAY_DUE - timedelta(seconds=1)) is None
    assert due_reminder(DEADLINE, ONE_DAY_DUE) == 1
    assert due_reminder(DEADLINE, jst(2026, 12, 9, 23, 59)) == 1
    assert due_reminder(DEADLINE, DEADLINE - timedelta(seconds=1)) is None  # the deadline's own day


def test_due_reminder_none_at_and_after_the_deadline() -> None:
    """No reminder is due once the deadline has passed."""
    assert due_reminder(DEADLINE, DEADLINE) is None
    assert due_reminder(DEADLINE, DEADLINE + timedelta(days=3)) is None


def test_due_reminder_uses_the_japanese_calendar_date_of_the_deadline() -> None:
    """A deadline at 00:30 JST (still the previous day in UTC) counts days from its JST date."""
    deadline = jst(2026, 12, 10, 0, 30)  # 2026-12-09 15:30 UTC
    assert deadline.date().isoformat() == "2026-12-09"
    assert due_reminder(deadline, jst(2026, 12, 7, 8, 59)) is None
    assert due_reminder(deadline, jst(2026, 12, 7, 9)) == 3
    assert due_reminder(deadline, jst(2026, 12, 9, 9)) == 1
    # 09:00 JST is 00:00 UTC: one second earlier is still the UTC day before.
    assert due_reminder(deadline, datetime(2026, 12, 6, 23, 59, 59, tzinfo=UTC)) is None
    assert due_reminder(deadline, datetime(2026, 12, 7, 0, 0, tzinfo=UTC)) == 3


def test_due_reminder_same_answer_whatever_the_time_zone_of_its_arguments() -> None:
    """The same instants given in JST, UTC or another zone give the same answer."""
    instants = [THREE_DAY_DUE - timedelta(minutes=1), THREE_DAY_DUE, ONE_DAY_DUE, DEADLINE]
    for moment in instants:
        answers = {
            due_reminder(DEADLINE.astimezone(zone), moment.astimezone(other))
            for zone in (UTC, TOKYO)
            for other in (UTC, TOKYO, datetime.now().astimezone().tzinfo)
        }
        assert len(answers) == 1, (moment, answers)


# The job against the database.


async def challenge_with_followers(
    count: int, *, deadline: datetime, published_at: datetime, slug: str = "bosai"
) -> tuple[int, list[int]]:
    """A published challenge with `deadline`, followed by `count` users; returns (id, follower ids)."""
    bureau_id = await make_bureau(f"bureau-{slug}")
    author_id = await make_official(bureau_id, f"official-{slug}@city.example.jp")
    challenge_id = await make_challenge(
        bureau_id=bureau_id,
        author_id=author_id,
        slug=slug,
        now=published_at,
        close_in=deadline - published_at,
    )
    followers = [(await make_user(f"follower{n}-{slug}@example.jp")).id for n in range(count)]
    if followers:
        await Follow.insert(
            *(Follow(user=user_id, challenge=challenge_id, created_at=published_at) for user_id in followers)
        ).run()
    return challenge_id, followers


async def reminders() -> list[dict[str, Any]]:
    """Every reminder row, oldest first."""
    return list(
        await Notification.select()
        .where(Notification.kind == REMINDER)
        .order_by(Notification.id)
        .output(load_json=True)
        .run()
    )


def per_follower(rows: list[dict[str, Any]], days: int) -> Counter[int]:
    """How many `days`-day reminders each user got."""
    return Counter(row["user"] for row in rows if row["context"]["days"] == days)


async def test_three_day_then_one_day_reminder_once_per_follower_despite_concurrency_and_restarts(
    database: Engine[Any],
) -> None:
    """Concurrent and repeated runs write exactly one 3-day and later one 1-day reminder per follower."""
    _, followers = await challenge_with_followers(
        3, deadline=DEADLINE, published_at=DEADLINE - timedelta(days=20)
    )

    assert await remind_followers_of_deadlines(THREE_DAY_DUE - timedelta(seconds=1)) == 0
    assert await reminders() == []

    written = await asyncio.gather(
        remind_followers_of_deadlines(THREE_DAY_DUE), remind_followers_of_deadlines(THREE_DAY_DUE)
    )
    assert sorted(written) == [0, 3]
    # "After a restart": the same minute again, then every hour until the 1-day reminder is due.
    assert await remind_followers_of_deadlines(THREE_DAY_DUE) == 0
    moment = THREE_DAY_DUE
    while moment < ONE_DAY_DUE:
        assert await remind_followers_of_deadlines(moment) == 0, moment
        moment += timedelta(hours=1)
    rows = await reminders()
    assert per_follower(rows, 3) == dict.fromkeys(followers, 1)
    assert per_follower(rows, 1) == {}
    assert {row["email_status"] for row in rows} == {"pending"}
    assert {row["created_at"] for row in rows} == {THREE_DAY_DUE}
    assert rows[0]["context"]["deadline"] == DEADLINE.isoformat()
    assert rows[0]["link"] == "/challenges/bosai"

    written = await asyncio.gather(
        remind_followers_of_deadlines(ONE_DAY_DUE), remind_followers_of_deadlines(ONE_DAY_DUE)
    )
    assert sorted(written) == [0, 3]
    assert await remind_followers_of_deadlines(DEADLINE - timedelta(minutes=1)) == 0
    rows = await reminders()
    assert per_follower(rows, 3) == dict.fromkeys(followers, 1)
    assert per_follower(rows, 1) == dict.fromkeys(followers, 1)
    assert len(rows) == 2 * len(followers)


async def test_no_reminder_after_the_deadline(database: Engine[Any]) -> None:
    """Once the deadline has passed, the job writes nothing (even though no reminder was ever sent)."""
    await challenge_with_followers(2, deadline=DEADLINE, published_at=DEADLINE - timedelta(days=20))

    assert await remind_followers_of_deadlines(DEADLINE) == 0
    assert await remind_followers_of_deadlines(DEADLINE + timedelta(hours=1)) == 0
    assert await remind_followers_of_deadlines(DEADLINE + timedelta(days=2)) == 0
    assert await reminders() == []


async def test_no_reminder_for_a_challenge_that_is_not_published(database: Engine[Any]) -> None:
    """A closed challenge gets no reminder, even before its stored deadline."""
    challenge_id, _ = await challenge_with_followers(
        2, deadline=DEADLINE, published_at=DEADLINE - timedelta(days=20)
    )
    await Challenge.update({Challenge.status: "closed"}).where(Challenge.id == challenge_id).run()

    assert await remind_followers_of_deadlines(ONE_DAY_DUE) == 0
    assert await reminders() == []


async def test_challenge_published_two_days_before_its_deadline_gets_only_the_one_day_reminder(
    database: Engine[Any],
) -> None:
    """A challenge published two days before its deadline gets the 1-day reminder and never the 3-day one."""
    published = DEADLINE - timedelta(days=2)  # 2026-12-08 17:00 JST, after the 3-day reminder's time
    _, followers = await challenge_with_followers(2, deadline=DEADLINE, published_at=published)

    moment = published
    while moment < DEADLINE:
        await remind_followers_of_deadlines(moment)
        moment += timedelta(hours=1)

    rows = await reminders()
    assert per_follower(rows, 1) == dict.fromkeys(followers, 1)
    assert per_follower(rows, 3) == {}


async def test_moving_the_deadline_later_gives_new_reminders(database: Engine[Any]) -> None:
    """When the deadline moves a week later, followers get the 3-day and 1-day reminders of the new date."""
    challenge_id, followers = await challenge_with_followers(
        2, deadline=DEADLINE, published_at=DEADLINE - timedelta(days=20)
    )
    assert await remind_followers_of_deadlines(THREE_DAY_DUE) == 2
    new_deadline = DEADLINE + timedelta(days=7)
    await (
        Challenge.update({Challenge.applications_close_at: new_deadline})
        .where(Challenge.id == challenge_id)
        .run()
    )

    # Nothing for the new date until its own time; the old 1-day reminder is gone with the old date.
    assert await remind_followers_of_deadlines(ONE_DAY_DUE) == 0
    assert await remind_followers_of_deadlines(THREE_DAY_DUE + timedelta(days=7)) == 2
    assert await remind_followers_of_deadlines(THREE_DAY_DUE + timedelta(days=7, hours=1)) == 0
    assert await remind_followers_of_deadlines(ONE_DAY_DUE + timedelta(days=7)) == 2

    rows = await reminders()
    assert per_follower(rows, 3) == dict.fromkeys(followers, 2)
    assert per_follower(rows, 1) == dict.fromkeys(followers, 1)
    assert {row["context"]["deadline"] for row in rows if row["context"]["days"] == 1} == {
        new_deadline.isoformat()
    }


async def test_close_past_deadline_twice_at_once_closes_each_challenge_once(database: Engine[Any]) -> None:
    """Two concurrent runs close each past-deadline challenge once, with one lifecycle event each."""
    now = jst(2026, 12, 10, 17, 1)
    past, _ = await challenge_with_followers(0, deadline=DEADLINE, published_at=DEADLINE - timedelta(days=20))
    also_past, _ = await challenge_with_followers(
        0, deadline=DEADLINE - timedelta(days=1), published_at=DEADLINE - timedelta(days=20), slug="other"
    )
    still_open, _ = await challenge_with_followers(
        0, deadline=DEADLINE + timedelta(days=1), published_at=DEADLINE - timedelta(days=20), slug="open"
    )

    closed = await asyncio.gather(close_past_deadline(now), close_past_deadline(now))

    assert sum(closed) == 2
    assert await close_past_deadline(now + timedelta(minutes=1)) == 0
    statuses = {
        row["id"]: row["status"] for row in await Challenge.select(Challenge.id, Challenge.status).run()
    }
    assert statuses == {past: "closed", also_past: "closed", still_open: "published"}
    events = await ChallengeEvent.select(
        ChallengeEvent.challenge, ChallengeEvent.from_status, ChallengeEvent.to_status
    ).run()
    assert sorted(events, key=lambda event: event["challenge"]) == [
        {"challenge": past, "from_status": "published", "to_status": "closed"},
        {"challenge": also_past, "from_status": "published", "to_status": "closed"},
    ]
