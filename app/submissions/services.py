"""Application actions: start a draft, autosave without silent overwrites, team, consents, withdraw."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from litestar.exceptions import NotFoundException, PermissionDeniedException

from app.accounts.tables import Membership
from app.accounts.viewer import Viewer
from app.challenges.services import visible_facts
from app.challenges.tables import Challenge
from app.search.changes import record_search_change
from app.submissions import policies
from app.submissions.state import SubmissionFacts, SubmissionStatus
from app.submissions.tables import Answer, Consent, FormField, Submission, TeamMember
from app.validation import InvalidInput
from app.web.i18n import gettext as _

SUMMARY_KEY = "summary"
SUMMARY_MAX_CHARS = 2000
# A draft keeps what was typed even when it breaks a rule (submit checks the rules); this only stops abuse.
STORED_TEXT_MAX = 200_000


class StaleEdit(Exception):
    """Someone saved this answer since the editor loaded it: their save is refused (409), nothing is lost."""


FACT_COLUMNS = (
    Submission.id,
    Submission.organization,
    Submission.status,
    Submission.challenge,
    Submission.challenge.bureau,
    Submission.challenge.status,
    Submission.challenge.author,
    Submission.challenge.applications_open_at,
    Submission.challenge.questions_close_at,
    Submission.challenge.applications_close_at,
)


async def load_facts(submission_id: int) -> SubmissionFacts | None:
    """The policy-relevant facts of a submission and its challenge, or None."""
    row = await Submission.select(*FACT_COLUMNS).where(Submission.id == submission_id).first().run()
    return SubmissionFacts.from_row(row) if row else None


async def visible_submission(user: Viewer | None, submission_id: int) -> SubmissionFacts:
    """The facts of a submission the user may see; 404 otherwise (no existence leak)."""
    facts = await load_facts(submission_id)
    if facts is None or not policies.can_view_submission(user, facts):
        raise NotFoundException
    return facts


async def editable_submission(user: Viewer | None, submission_id: int, now: datetime) -> SubmissionFacts:
    """The facts of a submission the user may change now.

    Raises:
        NotFoundException: the user may not see it.
        PermissionDeniedException: the user may see it but is not of the applying organization.
        InvalidInput: it is closed for changes (deadline passed, withdrawn, or judged).
    """
    facts = await visible_submission(user, submission_id)
    refuse_unless_applicant(user, facts)
    if not policies.can_edit_submission(user, facts, now):
        raise InvalidInput({"form": closed_message(facts, now)})
    return facts


def refuse_unless_applicant(user: Viewer | None, facts: SubmissionFacts) -> None:
    """403 for someone who may read the application (its bureau, an admin) but not change it."""
    if not policies.may_change_submission(user, facts):
        raise PermissionDeniedException(
            _("Only the applying organization's members can change this application.")
        )


def closed_message(facts: SubmissionFacts, now: datetime) -> str:
    """Why an application cannot be changed, in the reader's language."""
    deadline = facts.challenge.applications_close_at
    if deadline is not None and now >= deadline:
        return _("The application deadline has passed. Nothing was changed.")
    if facts.status is SubmissionStatus.WITHDRAWN:
        return _("This application was withdrawn. Nothing was changed.")
    return _("This application can no longer be changed.")


async def start_submission(
    user: Viewer | None, challenge_id: int, organization_id: int, *, now: datetime
) -> int:
    """Open (or return the existing) draft of the organization for the challenge; the starter joins the team.

    Raises:
        NotFoundException: the user may not see the challenge.
        PermissionDeniedException: the user belongs to no organization (judges, officials).
        InvalidInput: applications are closed, or the user is not a member of that organization.
    """
    async with Submission._meta.db.transaction():
        facts = await visible_facts(user, challenge_id)
        if not policies.is_startup_member(user):
            raise PermissionDeniedException(_("Only members of a registered organization can apply."))
        if user is None or not policies.can_apply_for(user, facts, organization_id, now):
            raise InvalidInput(
                {"organization": _("Choose one of your organizations while applications are open.")}
            )
        slot = f"{challenge_id}:{organization_id}"
        existing = await Submission.select(Submission.id).where(Submission.active_slot == slot).first().run()
        if existing is not None:
            existing_id: int = existing["id"]
            return existing_id
        rows = await Submission.insert(
            Submission(
                challenge=challenge_id,
                organization=organization_id,
                status=SubmissionStatus.DRAFT.value,
                active_slot=slot,
                summary="",
                created_by=user.id,
                created_at=now,
                updated_at=now,
                withdraw_reason="",
            )
        ).run()
        submission_id: int = rows[0]["id"]
        await TeamMember.insert(TeamMember(submission=submission_id, user=user.id, added_at=now)).run()
    return submission_id


async def save_answer(
    user: Viewer | None, submission_id: int, key: str, value: Any, revision: int, *, now: datetime
) -> int:
    """Save one answer (or the summary) if nobody saved it since `revision`; returns the new revision.

    Raises:
        NotFoundException: no such submission or field, or not visible to the user.
        InvalidInput: the application is closed for changes.
        StaleEdit: someone else saved this answer after the editor loaded it.
    """
    async with Submission._meta.db.transaction():
        facts = await editable_submission(user, submission_id, now)
        if user is None:  # editable_submission lets only members through; this tells the type checker
            raise NotFoundException
        if key == SUMMARY_KEY:
            new_revision = await save_summary(submission_id, str(value or ""), revision)
        else:
            new_revision = await save_field_answer(facts, user.id, key, value, revision, now)
        await Submission.update({Submission.updated_at: now}).where(Submission.id == submission_id).run()
    return new_revision


async def save_summary(submission_id: int, text: str, revision: int) -> int:
    """Compare-and-set the summary."""
    updated = await (
        Submission.update(
            {
                Submission.summary: text[:STORED_TEXT_MAX],
                Submission.summary_revision: Submission.summary_revision + 1,
            }
        )
        .where((Submission.id == submission_id) & (Submission.summary_revision == revision))
        .returning(Submission.summary_revision)
        .run()
    )
    if not updated:
        raise StaleEdit
    new_revision: int = updated[0]["summary_revision"]
    return new_revision


async def save_field_answer(
    facts: SubmissionFacts, user_id: int, key: str, value: Any, revision: int, now: datetime
) -> int:
    """Compare-and-set one field's answer (the first save of a field expects revision 0)."""
    field_id = int(key) if key.isdecimal() else -1
    field = await (
        FormField.select(FormField.id, FormField.kind)
        .where((FormField.id == field_id) & (FormField.challenge == facts.challenge.id))
        .first()
        .run()
    )
    if field is None or field["kind"] == "file":
        raise NotFoundException
    stored = json.dumps(bounded(value), ensure_ascii=False)
    existing = await (
        Answer.select(Answer.id, Answer.revision)
        .where((Answer.submission == facts.id) & (Answer.field == field_id))
        .first()
        .run()
    )
    if existing is None:
        if revision != 0:
            raise StaleEdit
        await Answer.insert(
            Answer(
                submission=facts.id,
                field=field_id,
                value=stored,
                revision=1,
                updated_by=user_id,
                updated_at=now,
            )
        ).run()
        return 1
    updated = await (
        Answer.update(
            {
                Answer.value: stored,
                Answer.revision: Answer.revision + 1,
                Answer.updated_by: user_id,
                Answer.updated_at: now,
            }
        )
        .where((Answer.id == existing["id"]) & (Answer.revision == revision))
        .returning(Answer.revision)
        .run()
    )
    if not updated:
        raise StaleEdit
    new_revision: int = updated[0]["revision"]
    return new_revision


def bounded(value: Any) -> Any:
    """Text cut at STORED_TEXT_MAX and lists of short strings: what a draft may hold."""
    if isinstance(value, list):
        return [str(item)[:100] for item in value[:200]]
    return str(value if value is not None else "")[:STORED_TEXT_MAX]


async def set_team(user: Viewer | None, submission_id: int, member_ids: list[int], *, now: datetime) -> None:
    """Keep exactly these members of the organization on the team (others are ignored).

    Raises:
        InvalidInput: closed for changes, or no member chosen.
    """
    async with Submission._meta.db.transaction():
        facts = await editable_submission(user, submission_id, now)
        members = await (
            Membership.select(Membership.user).where(Membership.organization == facts.organization_id).run()
        )
        wanted = {row["user"] for row in members} & set(member_ids)
        if not wanted:
            raise InvalidInput({"team": _("Choose at least one member of your organization for the team.")})
        await TeamMember.delete().where(TeamMember.submission == submission_id).run()
        await TeamMember.insert(
            *(TeamMember(submission=submission_id, user=member, added_at=now) for member in sorted(wanted))
        ).run()


async def set_consent(
    user: Viewer | None,
    submission_id: int,
    condition_index: int,
    confirmed: bool,
    *,
    client_address: str,
    now: datetime,
) -> None:
    """Record (or withdraw) the user's confirmation of one eligibility condition, exactly as it was shown."""
    async with Submission._meta.db.transaction():
        facts = await editable_submission(user, submission_id, now)
        if user is None:
            raise NotFoundException
        challenge = await (
            Challenge.select(Challenge.eligibility)
            .where(Challenge.id == facts.challenge.id)
            .first()
            .output(load_json=True)
            .run()
        )
        conditions = challenge["eligibility"] if challenge else []
        if not 0 <= condition_index < len(conditions):
            raise NotFoundException
        current = (Consent.submission == submission_id) & (Consent.condition_index == condition_index)
        await (
            Consent.update({Consent.withdrawn_at: now}).where(current & Consent.withdrawn_at.is_null()).run()
        )
        if confirmed:
            await Consent.insert(
                Consent(
                    submission=submission_id,
                    condition_index=condition_index,
                    condition_text=conditions[condition_index].get("ja", ""),
                    user=user.id,
                    confirmed_at=now,
                    client_address=client_address[:45],
                )
            ).run()


async def withdraw_submission(user: Viewer | None, submission_id: int, reason: str, *, now: datetime) -> None:
    """Withdraw before the deadline, with a reason; the organization may start a new application afterwards.

    Raises:
        NotFoundException: the user may not see it.
        PermissionDeniedException: the user may see it but is not of the applying organization.
        InvalidInput: no reason, or closed for changes.
    """
    async with Submission._meta.db.transaction():
        # Who asks is checked before what they wrote: the bureau is refused even with a reason.
        await editable_submission(user, submission_id, now)
        if not reason.strip():
            raise InvalidInput({"reason": _("Say why you withdraw (the bureau reads it).")})
        await (
            Submission.update(
                {
                    Submission.status: SubmissionStatus.WITHDRAWN.value,
                    Submission.active_slot: None,
                    Submission.withdrawn_at: now,
                    Submission.withdraw_reason: reason.strip()[:2000],
                    Submission.updated_at: now,
                }
            )
            .where(Submission.id == submission_id)
            .run()
        )
        await record_search_change("submission", submission_id, now=now)
