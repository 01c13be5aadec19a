"""Who hears about what happens to a challenge: the messages challenges enqueue through notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.accounts.tables import StaffRole
from app.challenges.tables import Challenge, Follow
from app.notifications.outbox import notify_users


async def message_context(challenge_id: int) -> dict[str, Any]:
    """What every challenge message shows: its address and its title in both languages."""
    row = await (
        Challenge.select(Challenge.slug, Challenge.title_ja, Challenge.title_en, Challenge.bureau)
        .where(Challenge.id == challenge_id)
        .first()
        .run()
    )
    if row is None:
        raise LookupError(f"No challenge {challenge_id}")
    return row


async def followers(challenge_id: int) -> list[int]:
    """Users who follow the challenge."""
    rows = await Follow.select(Follow.user).where(Follow.challenge == challenge_id).run()
    return [row["user"] for row in rows]


async def review_requested(challenge_id: int, author_id: int, now: datetime) -> None:
    """Tell the bureau's other officials that a draft waits for a second person's approval."""
    challenge = await message_context(challenge_id)
    officials = await (
        StaffRole.select(StaffRole.user)
        .where((StaffRole.bureau == challenge["bureau"]) & (StaffRole.role == "official"))
        .run()
    )
    reviewers = {row["user"] for row in officials} - {author_id}
    await notify_users(
        "challenge_review_requested",
        reviewers,
        challenge,
        link=f"/challenges/{challenge['slug']}",
        now=now,
    )


async def review_decided(
    challenge_id: int, author_id: int, *, approved: bool, comment: str, now: datetime
) -> None:
    """Tell the author that their challenge was published, or what should change."""
    challenge = await message_context(challenge_id)
    await notify_users(
        "challenge_reviewed",
        [author_id],
        {**challenge, "approved": approved, "comment": comment},
        link=f"/challenges/{challenge['slug']}",
        now=now,
    )


async def question_answered(
    challenge_id: int, question_id: int, asker_id: int, answer: str, now: datetime
) -> None:
    """Tell the asker their question was answered, and the challenge's followers that a new answer is up."""
    challenge = await message_context(challenge_id)
    link = f"/challenges/{challenge['slug']}#question-{question_id}"
    context = {**challenge, "answer": answer}
    await notify_users("question_answered", [asker_id], context, link=link, now=now)
    others = [user_id for user_id in await followers(challenge_id) if user_id != asker_id]
    await notify_users("followed_challenge_answer", others, context, link=link, now=now)


async def material_change(challenge_id: int, note: str, editor_id: int, now: datetime) -> None:
    """Tell followers that the deadline or the eligibility changed."""
    challenge = await message_context(challenge_id)
    others = [user_id for user_id in await followers(challenge_id) if user_id != editor_id]
    await notify_users(
        "followed_challenge_updated",
        others,
        {**challenge, "note": note},
        link=f"/challenges/{challenge['slug']}",
        now=now,
    )
