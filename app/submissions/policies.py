"""Who may apply, edit, submit, withdraw, see and export applications. Every rule of this feature lives here.

An application is confidential until results say otherwise: anyone not named here gets a 404 (judges
are added by the judging feature).
"""

from __future__ import annotations

from datetime import datetime

from app.accounts.policies import can_act_for_bureau
from app.accounts.viewer import Viewer
from app.challenges.lifecycle import EDITABLE_STATUSES, ChallengeFacts, accepting_applications
from app.submissions.state import OPEN_STATUSES, SubmissionFacts


def is_applicant(user: Viewer | None, organization_id: int) -> bool:
    """A member (or owner) of the applying organization."""
    return user is not None and organization_id in user.memberships


def is_startup_member(user: Viewer | None) -> bool:
    """Only members of a registered organization apply (judges, officials and admins never do)."""
    return user is not None and bool(user.memberships)


def can_apply(user: Viewer | None, challenge: ChallengeFacts, now: datetime) -> bool:
    """Startup members may start an application while the challenge accepts them."""
    return is_startup_member(user) and accepting_applications(challenge, now)


def can_apply_for(
    user: Viewer | None, challenge: ChallengeFacts, organization_id: int, now: datetime
) -> bool:
    """A member of this organization may start its application now."""
    return is_applicant(user, organization_id) and accepting_applications(challenge, now)


def can_view_submission(user: Viewer | None, submission: SubmissionFacts) -> bool:
    """The applying organization's members and the owning bureau's officials (and admins)."""
    return is_applicant(user, submission.organization_id) or can_act_for_bureau(user, submission.bureau_id)


def may_change_submission(user: Viewer | None, submission: SubmissionFacts) -> bool:
    """Only the applying organization's members ever change, submit or withdraw it (the bureau reads it)."""
    return is_applicant(user, submission.organization_id)


def can_edit_submission(user: Viewer | None, submission: SubmissionFacts, now: datetime) -> bool:
    """The organization's members change the draft until the deadline (also after submitting: a resubmit)."""
    return (
        may_change_submission(user, submission)
        and submission.status in OPEN_STATUSES
        and accepting_applications(submission.challenge, now)
    )


def can_submit_submission(user: Viewer | None, submission: SubmissionFacts, now: datetime) -> bool:
    """Whoever may edit may submit (the server checks the deadline at the moment of the write)."""
    return can_edit_submission(user, submission, now)


def can_withdraw_submission(user: Viewer | None, submission: SubmissionFacts, now: datetime) -> bool:
    """The organization's members withdraw, with a reason, before the deadline."""
    return can_edit_submission(user, submission, now)


def can_review_applications(user: Viewer | None, challenge: ChallengeFacts) -> bool:
    """The owning bureau's officials (and admins) see every application of their challenge and export it."""
    return can_act_for_bureau(user, challenge.bureau_id)


def can_manage_form(user: Viewer | None, challenge: ChallengeFacts) -> bool:
    """The owning bureau's officials define the form until the challenge is finished (services then allow
    only new optional fields once someone has submitted)."""
    return can_act_for_bureau(user, challenge.bureau_id) and challenge.status in EDITABLE_STATUSES
