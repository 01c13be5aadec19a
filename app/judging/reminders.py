"""Reminders to judges: when a round opens, and a day before it closes, with the count still to score.

Each goes once per judge and round (the dedupe key names the round, the instant and the kind), however
many workers run the job and however often; a judge with nothing left to score gets no closing reminder.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from app.judging.tables import Assignment, ConflictDeclaration, Round, Scorecard
from app.notifications.outbox import notify_users

CLOSING_NOTICE = timedelta(days=1)


async def remaining_by_judge(round_id: int) -> Counter[int]:
    """Assigned, unconflicted submissions each judge has not finalized yet."""
    assigned = await (
        Assignment.select(Assignment.judge, Assignment.submission)
        .where((Assignment.round == round_id) & Assignment.removed_at.is_null())
        .run()
    )
    final = {
        (row["judge"], row["submission"])
        for row in await Scorecard.select(Scorecard.judge, Scorecard.submission)
        .where((Scorecard.round == round_id) & (Scorecard.state == "final"))
        .run()
    }
    conflicted = {
        (row["judge"], row["submission"])
        for row in await ConflictDeclaration.select(ConflictDeclaration.judge, ConflictDeclaration.submission)
        .where(ConflictDeclaration.conflicted == True)  # noqa: E712 (Piccolo SQL)
        .run()
    }
    pairs = {(row["judge"], row["submission"]) for row in assigned}
    return Counter(judge for judge, submission in pairs - final - conflicted)


async def remind_judges(now: datetime) -> int:
    """Queue the opening and closing reminders due now; returns how many messages were written."""
    rounds = await (
        Round.select(
            Round.id,
            Round.name_ja,
            Round.name_en,
            Round.opens_at,
            Round.closes_at,
            Round.challenge.slug.as_alias("slug"),
            Round.challenge.title_ja.as_alias("title_ja"),
            Round.challenge.title_en.as_alias("title_en"),
        )
        .where(Round.closes_at.is_not_null() & (Round.closes_at > now) & Round.advanced_at.is_null())
        .run()
    )
    written = 0
    for round_row in rounds:
        opened = round_row["opens_at"] is None or round_row["opens_at"] <= now
        closing = round_row["closes_at"] - CLOSING_NOTICE <= now
        if not opened:
            continue
        remaining = await remaining_by_judge(round_row["id"])
        moment = "closing" if closing else "opening"
        for judge, count in remaining.items():
            context = {
                "slug": round_row["slug"],
                "title_ja": round_row["title_ja"],
                "title_en": round_row["title_en"],
                "round_name_ja": round_row["name_ja"],
                "round_name_en": round_row["name_en"],
                "remaining": count,
                "closes_at": round_row["closes_at"].isoformat(),
            }
            async with Round._meta.db.transaction():
                written += await notify_users(
                    "judging_reminder",
                    [judge],
                    context,
                    link="/judging",
                    now=now,
                    dedupe_key=f"judging-{moment}:{round_row['id']}:{round_row['closes_at'].isoformat()}:{{user}}",
                )
    return written
