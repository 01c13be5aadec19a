"""Challenge actions: draft, edit with history, two-person review, publish, close, Q&A, follow."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from litestar.exceptions import NotFoundException, PermissionDeniedException

from app.accounts.viewer import Viewer
from app.challenges import messages, policies
from app.challenges.forms import ChallengeValues
from app.challenges.lifecycle import Action, ChallengeFacts, Status, TransitionRefused, next_status
from app.challenges.queries import forget_filter_options
from app.challenges.tables import (
    Challenge,
    ChallengeEvent,
    ChallengeRevision,
    ChallengeTheme,
    Follow,
    Question,
)
from app.search.changes import record_search_change
from app.validation import InvalidInput
from app.web.i18n import gettext as _
from app.web.jst import format_jst_local
from app.web.page_cache import forget_public_pages

FACT_COLUMNS = (
    Challenge.id,
    Challenge.bureau,
    Challenge.status,
    Challenge.author,
    Challenge.applications_open_at,
    Challenge.questions_close_at,
    Challenge.applications_close_at,
)
# Changing these after publication changes who may apply or until when: the public is told.
MATERIAL_FIELDS = frozenset(
    {"eligibility", "applications_open_at", "questions_close_at", "applications_close_at"}
)


async def load_facts(challenge_id: int) -> ChallengeFacts | None:
    """The policy-relevant facts of a challenge, or None."""
    row = await Challenge.select(*FACT_COLUMNS).where(Challenge.id == challenge_id).first().run()
    return ChallengeFacts.from_row(row) if row else None


async def visible_facts(user: Viewer | None, challenge_id: int) -> ChallengeFacts:
    """The facts of a challenge the user may see; 404 otherwise (no existence leak)."""
    facts = await load_facts(challenge_id)
    if facts is None or not policies.can_view_challenge(user, facts):
        raise NotFoundException
    return facts


async def create_challenge(user: Viewer | None, values: ChallengeValues, *, now: datetime) -> int:
    """Save a new draft for the user's bureau.

    Raises:
        PermissionDeniedException: the user may not author for this bureau.
        InvalidInput: the address is already used.
    """
    if user is None or not policies.can_create_challenge(user, values.bureau_id):
        raise PermissionDeniedException
    async with Challenge._meta.db.transaction():
        await ensure_slug_free(values.slug, None)
        rows = await Challenge.insert(
            Challenge(
                **values.columns(),
                status=Status.DRAFT.value,
                author=user.id,
                created_at=now,
                updated_at=now,
                material_change_note="",
            )
        ).run()
        challenge_id: int = rows[0]["id"]
        await replace_themes(challenge_id, values.themes)
        await record_event(challenge_id, user.id, Status.DRAFT, Status.DRAFT, "", now)
        await record_search_change("challenge", challenge_id, now=now)
    return challenge_id


async def ensure_slug_free(slug: str, challenge_id: int | None) -> None:
    """InvalidInput when another challenge already uses `slug`."""
    query = Challenge.exists().where(Challenge.slug == slug)
    if challenge_id is not None:
        query = query.where(Challenge.id != challenge_id)
    if await query.run():
        raise InvalidInput({"slug": _("Another challenge already uses this address.")})


async def replace_themes(challenge_id: int, themes: list[str]) -> None:
    """Store exactly `themes` for the challenge."""
    await ChallengeTheme.delete().where(ChallengeTheme.challenge == challenge_id).run()
    if themes:
        await ChallengeTheme.insert(
            *(ChallengeTheme(challenge=challenge_id, theme=theme) for theme in themes)
        ).run()
    forget_filter_options()


async def update_challenge(
    user: Viewer | None, challenge_id: int, values: ChallengeValues, *, now: datetime
) -> None:
    """Save edits; after publication every change is recorded and a material one is announced.

    Raises:
        NotFoundException: the user may not see the challenge.
        PermissionDeniedException: the challenge is frozen (in review, finished) or belongs to another bureau.
        InvalidInput: the address is taken, or a published challenge would lose its deadline.
    """
    async with Challenge._meta.db.transaction():
        facts = await visible_facts(user, challenge_id)
        if user is None or not policies.can_edit_challenge(user, facts):
            raise PermissionDeniedException
        if not policies.can_move_challenge(user, facts, values.bureau_id):
            raise InvalidInput({"bureau": _("Only an administrator can move a challenge to another bureau.")})
        await ensure_slug_free(values.slug, challenge_id)
        published = facts.status is not Status.DRAFT
        if published and values.times.get("applications_close_at") is None:
            raise InvalidInput(
                {"applications_close_at": _("A published challenge needs an application deadline.")}
            )
        before = (
            await Challenge.select().where(Challenge.id == challenge_id).first().output(load_json=True).run()
        )
        changes = changed_fields(before, values.columns())
        update: dict[Any, Any] = {getattr(Challenge, name): new for name, (_old, new) in changes.items()}
        update[Challenge.updated_at] = now
        if published and changes:
            material = bool(MATERIAL_FIELDS & changes.keys())
            await ChallengeRevision.insert(
                ChallengeRevision(
                    challenge=challenge_id,
                    editor=user.id,
                    changes=json.dumps(serializable(changes), ensure_ascii=False),
                    material=material,
                    edited_at=now,
                )
            ).run()
            if material:
                update[Challenge.material_change_at] = now
                update[Challenge.material_change_note] = material_note(changes)
        await Challenge.update(update).where(Challenge.id == challenge_id).run()
        await replace_themes(challenge_id, values.themes)
        await record_search_change("challenge", challenge_id, now=now)
        if published and MATERIAL_FIELDS & changes.keys():
            await messages.material_change(challenge_id, material_note(changes), user.id, now)
    await forget_public_pages()


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Field -> (old, new) for every column whose value differs."""
    return {name: (before.get(name), new) for name, new in after.items() if before.get(name) != new}


def serializable(changes: dict[str, tuple[Any, Any]]) -> dict[str, list[Any]]:
    """Changes as JSON-ready lists (instants as ISO 8601 UTC)."""
    return {
        name: [value.isoformat() if isinstance(value, datetime) else value for value in pair]
        for name, pair in changes.items()
    }


def material_note(changes: dict[str, tuple[Any, Any]]) -> str:
    """The public 更新 notice, in Japanese (the page shows it with its date in the reader's language)."""
    parts = []
    if "applications_close_at" in changes:
        old, new = changes["applications_close_at"]
        parts.append(f"応募締切を変更しました（{shown(old)} → {shown(new)}）")
    if "eligibility" in changes:
        parts.append("応募資格を変更しました")
    if {"applications_open_at", "questions_close_at"} & changes.keys():
        parts.append("スケジュールを変更しました")
    return "。".join(parts) + "。"


def shown(moment: datetime | None) -> str:
    """An instant as JST text for a notice."""
    return format_jst_local(moment).replace("T", " ") + " JST" if moment else "—"


async def record_event(
    challenge_id: int, actor_id: int | None, before: Status, after: Status, comment: str, now: datetime
) -> None:
    """Append a lifecycle step."""
    await ChallengeEvent.insert(
        ChallengeEvent(
            challenge=challenge_id,
            actor=actor_id,
            from_status=before.value,
            to_status=after.value,
            comment=comment,
            happened_at=now,
        )
    ).run()


async def transition(
    user: Viewer | None, challenge_id: int, action: Action, *, now: datetime, comment: str = ""
) -> Status:
    """Apply a lifecycle action after its policy and its checks; returns the new status.

    Raises:
        NotFoundException: the user may not see the challenge.
        PermissionDeniedException: the user may not take this action (e.g. approving their own draft).
        InvalidInput: the challenge is not ready (e.g. its deadline has passed) or a comment is missing.
    """
    async with Challenge._meta.db.transaction():
        facts = await visible_facts(user, challenge_id)
        if user is None or not ACTION_POLICIES[action](user, facts):
            raise PermissionDeniedException
        try:
            after = next_status(facts.status, action)
        except TransitionRefused as refused:
            raise PermissionDeniedException from refused
        if action is Action.REQUEST_CHANGES and not comment.strip():
            raise InvalidInput({"comment": _("Say what should change.")})
        update: dict[Any, Any] = {Challenge.status: after.value, Challenge.updated_at: now}
        if action is Action.APPROVE:
            await check_ready_to_publish(challenge_id, now)
            update.update({Challenge.approved_by: user.id, Challenge.published_at: now})
        await Challenge.update(update).where(Challenge.id == challenge_id).run()
        await record_event(challenge_id, user.id, facts.status, after, comment.strip(), now)
        await record_search_change("challenge", challenge_id, now=now)
        if action is Action.SUBMIT_FOR_REVIEW:
            await messages.review_requested(challenge_id, user.id, now)
        elif action in (Action.APPROVE, Action.REQUEST_CHANGES):
            await messages.review_decided(
                challenge_id,
                facts.author_id,
                approved=action is Action.APPROVE,
                comment=comment.strip(),
                now=now,
            )
    await forget_public_pages()
    return after


ACTION_POLICIES = {
    Action.SUBMIT_FOR_REVIEW: policies.can_submit_for_review,
    Action.REQUEST_CHANGES: policies.can_request_changes,
    Action.APPROVE: policies.can_approve_challenge,
    Action.CLOSE: policies.can_advance_challenge,
    Action.START_JUDGING: policies.can_advance_challenge,
    Action.PUBLISH_RESULTS: policies.can_advance_challenge,
    Action.ARCHIVE: policies.can_advance_challenge,
}


async def check_ready_to_publish(challenge_id: int, now: datetime) -> None:
    """A challenge goes public only with a Japanese title and summary and a deadline still ahead."""
    row = (
        await Challenge.select(Challenge.title_ja, Challenge.summary_ja, Challenge.applications_close_at)
        .where(Challenge.id == challenge_id)
        .first()
        .run()
    )
    if row is None:
        raise NotFoundException
    errors: dict[str, str] = {}
    if not row["title_ja"] or not row["summary_ja"]:
        errors["title_ja"] = _("Add a Japanese title and summary before publication.")
    if row["applications_close_at"] is None:
        errors["applications_close_at"] = _("Set the application deadline before publication.")
    elif row["applications_close_at"] <= now:
        errors["applications_close_at"] = _(
            "The application deadline has already passed. Move it later first."
        )
    if errors:
        raise InvalidInput(errors)


async def close_past_deadline(now: datetime) -> int:
    """Close every published challenge whose deadline has passed (at request time and by the scheduler).

    The conditional UPDATE ... RETURNING lets only one of several concurrent runs close each challenge.
    """
    async with Challenge._meta.db.transaction():
        closed = (
            await Challenge.update({Challenge.status: Status.CLOSED.value, Challenge.updated_at: now})
            .where((Challenge.status == Status.PUBLISHED.value) & (Challenge.applications_close_at <= now))
            .returning(Challenge.id)
            .run()
        )
        if not closed:
            return 0
        await ChallengeEvent.insert(
            *(
                ChallengeEvent(
                    challenge=row["id"],
                    actor=None,
                    from_status=Status.PUBLISHED.value,
                    to_status=Status.CLOSED.value,
                    comment="",
                    happened_at=now,
                )
                for row in closed
            )
        ).run()
        for row in closed:
            await record_search_change("challenge", row["id"], now=now)
    await forget_public_pages()
    return len(closed)


async def ask_question(user: Viewer | None, challenge_id: int, body: str, *, now: datetime) -> int:
    """Record a question; it stays with the bureau until answered.

    Raises:
        NotFoundException: the user may not see the challenge.
        PermissionDeniedException: the user belongs to no organization.
        InvalidInput: questions are closed, or the question is empty or too long.
    """
    async with Question._meta.db.transaction():
        facts = await visible_facts(user, challenge_id)
        if not policies.may_ask_questions(user):
            raise PermissionDeniedException(_("Only members of a registered organization can ask questions."))
        if user is None or not policies.can_ask_question(user, facts, now):
            raise InvalidInput({"body": _("Questions are not accepted for this challenge now.")})
        text = body.strip()
        if not text:
            raise InvalidInput({"body": _("Write your question.")})
        if len(text) > 2000:
            raise InvalidInput({"body": _("Use at most 2,000 characters.")})
        rows = await Question.insert(
            Question(challenge=challenge_id, asker=user.id, body=text, asked_at=now, answer="")
        ).run()
    question_id: int = rows[0]["id"]
    return question_id


async def answer_question(user: Viewer | None, question_id: int, answer: str, *, now: datetime) -> int:
    """Publish an official answer (the asker stays anonymous); returns the challenge id.

    Raises:
        NotFoundException: no such question, or not the user's bureau.
        InvalidInput: the answer is empty.
    """
    async with Question._meta.db.transaction():
        question = (
            await Question.select(Question.challenge, Question.asker, Question.answered_at)
            .where(Question.id == question_id)
            .first()
            .run()
        )
        if question is None:
            raise NotFoundException
        facts = await visible_facts(user, question["challenge"])
        if user is None or not policies.can_answer_question(user, facts):
            raise NotFoundException
        if not answer.strip():
            raise InvalidInput({"answer": _("Write the answer.")})
        await (
            Question.update(
                {Question.answer: answer.strip(), Question.answered_by: user.id, Question.answered_at: now}
            )
            .where(Question.id == question_id)
            .run()
        )
        await record_search_change("challenge", question["challenge"], now=now)
        if question["answered_at"] is None:  # a corrected answer is not news
            await messages.question_answered(
                question["challenge"], question_id, question["asker"], answer.strip(), now
            )
    await forget_public_pages()
    challenge_id: int = question["challenge"]
    return challenge_id


async def set_following(user: Viewer | None, challenge_id: int, follow: bool, *, now: datetime) -> None:
    """Follow or stop following a challenge (idempotent)."""
    facts = await visible_facts(user, challenge_id)
    if user is None or not policies.can_follow_challenge(user, facts):
        raise NotFoundException
    async with Follow._meta.db.transaction():
        mine = (Follow.user == user.id) & (Follow.challenge == challenge_id)
        exists = await Follow.exists().where(mine).run()
        if follow and not exists:
            await Follow.insert(Follow(user=user.id, challenge=challenge_id, created_at=now)).run()
        elif not follow and exists:
            await Follow.delete().where(mine).run()
