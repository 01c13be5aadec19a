"""Who may author, approve, see and discuss a challenge. Every rule of this feature lives here."""

from __future__ import annotations

from datetime import datetime

from app.accounts.policies import can_act_for_bureau
from app.accounts.viewer import Viewer
from app.challenges.lifecycle import (
    EDITABLE_STATUSES,
    PUBLIC_STATUSES,
    ChallengeFacts,
    Status,
    accepting_questions,
)


def can_author_challenges(user: Viewer | None) -> bool:
    """Officials (of any bureau) and admins have the authoring pages; each bureau's rules then apply."""
    return user is not None and (user.is_official or user.is_admin)


def can_create_challenge(user: Viewer | None, bureau_id: int) -> bool:
    """Officials draft challenges for their own bureau; admins for any."""
    return can_act_for_bureau(user, bureau_id)


def can_view_challenge(user: Viewer | None, challenge: ChallengeFacts) -> bool:
    """Everyone sees a published challenge; drafts and reviews only the bureau's officials and admins."""
    return challenge.status in PUBLIC_STATUSES or can_act_for_bureau(user, challenge.bureau_id)


def can_edit_challenge(user: Viewer | None, challenge: ChallengeFacts) -> bool:
    """The bureau's officials edit a challenge unless it is frozen for review or finished."""
    return challenge.status in EDITABLE_STATUSES and can_act_for_bureau(user, challenge.bureau_id)


def can_move_challenge(user: Viewer | None, challenge: ChallengeFacts, bureau_id: int) -> bool:
    """Keeping a challenge in its bureau is always allowed; moving it to another is for admins only."""
    return bureau_id == challenge.bureau_id or (user is not None and user.is_admin)


def can_submit_for_review(user: Viewer | None, challenge: ChallengeFacts) -> bool:
    """The bureau's officials send a draft to review."""
    return challenge.status is Status.DRAFT and can_act_for_bureau(user, challenge.bureau_id)


def can_approve_challenge(user: Viewer | None, challenge: ChallengeFacts) -> bool:
    """Two-person rule: another official of the same bureau, or an admin, never the author."""
    if user is None or challenge.status is not Status.IN_REVIEW or user.id == challenge.author_id:
        return False
    return can_act_for_bureau(user, challenge.bureau_id)


def can_request_changes(user: Viewer | None, challenge: ChallengeFacts) -> bool:
    """Whoever may approve may instead send the draft back with a comment."""
    return can_approve_challenge(user, challenge)


def can_advance_challenge(user: Viewer | None, challenge: ChallengeFacts) -> bool:
    """The bureau's officials close, start judging, publish results and archive."""
    return challenge.status in PUBLIC_STATUSES and can_act_for_bureau(user, challenge.bureau_id)


def can_see_history(user: Viewer | None, challenge: ChallengeFacts) -> bool:
    """The bureau sees every lifecycle step and revision (the public sees the 更新 notices)."""
    return can_act_for_bureau(user, challenge.bureau_id)


def may_ask_questions(user: Viewer | None) -> bool:
    """Only startup members ask questions (judges, officials and admins never do)."""
    return user is not None and bool(user.memberships)


def can_ask_question(user: Viewer | None, challenge: ChallengeFacts, now: datetime) -> bool:
    """Startup members ask while applications and the question period are open."""
    return may_ask_questions(user) and accepting_questions(challenge, now)


def can_answer_question(user: Viewer | None, challenge: ChallengeFacts) -> bool:
    """The bureau's officials answer (and see unanswered questions)."""
    return can_act_for_bureau(user, challenge.bureau_id)


def can_follow_challenge(user: Viewer | None, challenge: ChallengeFacts) -> bool:
    """Any signed-in user follows a challenge the public can see."""
    return user is not None and challenge.status in PUBLIC_STATUSES
