"""Judges are reminded when a round opens and a day before it closes, once, with the count left to score."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from piccolo.engine.base import Engine

from app.judging.reminders import remind_judges
from app.judging.tables import Assignment, Round, Scorecard
from app.notifications.tables import Notification
from app.submissions.tables import Submission
from tests.submissions.factories import make_contest
from tests.support.people import make_user

OPENS = datetime(2026, 12, 14, 0, 0, tzinfo=UTC)
CLOSES = datetime(2026, 12, 21, 8, 0, tzinfo=UTC)


async def round_with_two_judges() -> tuple[int, int, int]:
    """A round over two submissions; judge A has both left, judge B has finalized both. Returns ids."""
    contest = await make_contest(now=OPENS - timedelta(days=20), close_in=timedelta(days=10))
    rows = await Round.insert(
        Round(challenge=contest.challenge_id, position=1, kind="document", name_ja="書類審査",
              name_en="Documents", opens_at=OPENS, closes_at=CLOSES, created_at=OPENS - timedelta(days=5))
    ).run()  # fmt: skip
    round_id = rows[0]["id"]
    submissions = []
    for number in range(2):
        inserted = await Submission.insert(
            Submission(challenge=contest.challenge_id, organization=contest.organization_id,
                       status="submitted", active_slot=None, summary=f"案{number}",
                       created_by=contest.founder.id,
                       created_at=OPENS, updated_at=OPENS, withdraw_reason="")
        ).run()  # fmt: skip
        submissions.append(inserted[0]["id"])
    judge_a = (await make_user("a@judges.example", role="judge")).id
    judge_b = (await make_user("b@judges.example", role="judge")).id
    for judge in (judge_a, judge_b):
        for submission in submissions:
            await Assignment.insert(
                Assignment(round=round_id, submission=submission, judge=judge, assigned_at=OPENS)
            ).run()
    for submission in submissions:
        await Scorecard.insert(
            Scorecard(
                round=round_id, submission=submission, judge=judge_b, version=2, state="final", comment=""
            )
        ).run()
    return round_id, judge_a, judge_b


async def reminders_of(judge: int) -> list[tuple[str, int]]:
    """(dedupe key, remaining) of the reminders queued for a judge."""
    rows = await (
        Notification.select(Notification.dedupe_key, Notification.context)
        .where((Notification.user == judge) & (Notification.kind == "judging_reminder"))
        .output(load_json=True)
        .run()
    )
    return sorted((row["dedupe_key"], row["context"]["remaining"]) for row in rows)


async def test_opening_and_closing_reminders_go_once_to_judges_with_work_left(database: Engine) -> None:  # type: ignore[type-arg]
    """Before opening nothing; at opening once (two runs at once, then again); a day before closing once."""
    _, judge_a, judge_b = await round_with_two_judges()
    assert await remind_judges(OPENS - timedelta(minutes=1)) == 0
    await asyncio.gather(remind_judges(OPENS), remind_judges(OPENS))
    await remind_judges(OPENS + timedelta(hours=3))
    first = await reminders_of(judge_a)
    assert len(first) == 1
    assert first[0][0].startswith("judging-opening:")
    assert first[0][1] == 2
    await remind_judges(CLOSES - timedelta(hours=23))
    await remind_judges(CLOSES - timedelta(hours=2))
    keys = [key for key, _ in await reminders_of(judge_a)]
    assert len(keys) == 2
    assert any(key.startswith("judging-closing:") for key in keys)
    assert await reminders_of(judge_b) == []  # nothing left to score
    assert await remind_judges(CLOSES) == 0
