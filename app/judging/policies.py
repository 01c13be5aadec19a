"""Who may set up rounds, judge, see scores, decide results and read the audit trail. Every rule lives here.

A judge reaches a submission only through an active assignment, after declaring no conflict, and never
when a conflict is recorded (declared or found automatically). Judges never see each other's scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.accounts.policies import can_act_for_bureau
from app.accounts.viewer import Viewer
from app.challenges.lifecycle import ChallengeFacts, Status
from app.submissions.policies import is_applicant


@dataclass(frozen=True)
class JudgeAccess:
    """What is known about one judge and one submission in one round."""

    judge_id: int
    assigned: bool
    declared: bool  # the judge has answered the conflict question
    conflicted: bool  # declared or automatically flagged
    round_opens_at: datetime | None
    round_closes_at: datetime | None
    scorecard_final: bool = False
    results_published: bool = False

    def window_open(self, now: datetime) -> bool:
        """Whether scoring is allowed at `now` (the window's end is exclusive)."""
        started = self.round_opens_at is None or now >= self.round_opens_at
        return started and (self.round_closes_at is None or now < self.round_closes_at)


def can_manage_judging(user: Viewer | None, challenge: ChallengeFacts) -> bool:
    """The owning bureau's officials (and admins) set up rounds, invite and assign judges, see all scores."""
    return can_act_for_bureau(user, challenge.bureau_id)


def can_change_locked_rubric(user: Viewer | None) -> bool:
    """Once a score exists, only an admin may change the rubric (and it is recorded in the audit trail)."""
    return user is not None and user.is_admin


def can_declare_conflict(user: Viewer | None, access: JudgeAccess) -> bool:
    """The assigned judge answers the conflict question, seeing only the receipt number and organization."""
    own = user is not None and user.id == access.judge_id
    return own and access.assigned and not access.results_published


def can_read_as_judge(user: Viewer | None, access: JudgeAccess) -> bool:
    """The assigned judge opens the submission only after declaring no conflict."""
    return (
        user is not None
        and user.id == access.judge_id
        and access.assigned
        and access.declared
        and not access.conflicted
    )


def can_score(user: Viewer | None, access: JudgeAccess, now: datetime) -> bool:
    """The judge who may read it scores it while the window is open and the scorecard is not final."""
    return (
        can_read_as_judge(user, access)
        and access.window_open(now)
        and not access.scorecard_final
        and not access.results_published
    )


def can_unlock_scorecard(user: Viewer | None, challenge: ChallengeFacts) -> bool:
    """An official reopens a finalized scorecard (the audit trail keeps the trace)."""
    return can_act_for_bureau(user, challenge.bureau_id) and challenge.status is not Status.RESULTS_PUBLISHED


def can_propose_results(user: Viewer | None, challenge: ChallengeFacts) -> bool:
    """The bureau's officials propose winners while judging is under way."""
    deciding = challenge.status in (Status.CLOSED, Status.JUDGING)
    return can_act_for_bureau(user, challenge.bureau_id) and deciding


def can_approve_results(user: Viewer | None, challenge: ChallengeFacts, proposed_by: int) -> bool:
    """Two-person rule: another official of the bureau, or an admin, never the proposer."""
    return user is not None and user.id != proposed_by and can_propose_results(user, challenge)


def can_see_pitch_slot(user: Viewer | None, challenge: ChallengeFacts | None, organization_id: int) -> bool:
    """A finalist's pitch slot (and its calendar file): the applying organization's members and the bureau."""
    official = challenge is not None and can_manage_judging(user, challenge)
    return official or is_applicant(user, organization_id)


def can_view_audit_trail(user: Viewer | None) -> bool:
    """Admins read and verify the whole trail."""
    return user is not None and user.is_admin
