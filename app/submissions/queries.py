"""What the application pages show: the draft with its form, the receipt, and a startup's applications."""

from __future__ import annotations

from typing import Any

from app.accounts.tables import Membership, Organization
from app.accounts.viewer import Viewer
from app.challenges.tables import Challenge
from app.submissions.state import SubmissionFacts
from app.submissions.tables import (
    Answer,
    Consent,
    FormField,
    Submission,
    SubmissionFile,
    SubmissionVersion,
    TeamMember,
)


async def draft_view(facts: SubmissionFacts) -> dict[str, Any]:
    """Everything the draft page needs, in a fixed number of queries whatever the form's size."""
    submission = await Submission.select().where(Submission.id == facts.id).first().run()
    challenge = await (
        Challenge.select(
            Challenge.id,
            Challenge.slug,
            Challenge.title_ja,
            Challenge.title_en,
            Challenge.eligibility,
            Challenge.applications_close_at,
            Challenge.status,
        )
        .where(Challenge.id == facts.challenge.id)
        .first()
        .output(load_json=True)
        .run()
    )
    fields = await (
        FormField.select()
        .where(FormField.challenge == facts.challenge.id)
        .order_by(FormField.position)
        .order_by(FormField.id)
        .output(load_json=True)
        .run()
    )
    answers = {
        row["field"]: row
        for row in await Answer.select(Answer.field, Answer.value, Answer.revision)
        .where(Answer.submission == facts.id)
        .output(load_json=True)
        .run()
    }
    files = await (
        SubmissionFile.select(
            SubmissionFile.id,
            SubmissionFile.field,
            SubmissionFile.display_name,
            SubmissionFile.size_bytes,
            SubmissionFile.pages,
            SubmissionFile.uploaded_at,
        )
        .where((SubmissionFile.submission == facts.id) & SubmissionFile.removed_at.is_null())
        .run()
    )
    members = await (
        Membership.select(Membership.user, Membership.user.display_name)
        .where(Membership.organization == facts.organization_id)
        .order_by(Membership.user)
        .run()
    )
    team = {
        row["user"]
        for row in await TeamMember.select(TeamMember.user).where(TeamMember.submission == facts.id).run()
    }
    consents = {
        row["condition_index"]: row
        for row in await Consent.select(
            Consent.condition_index, Consent.confirmed_at, Consent.user.display_name
        )
        .where((Consent.submission == facts.id) & Consent.withdrawn_at.is_null())
        .run()
    }
    organization = await (
        Organization.select(Organization.name_ja, Organization.name_en)
        .where(Organization.id == facts.organization_id)
        .first()
        .run()
    )
    latest = await latest_version(facts.id)
    return {
        "submission": submission,
        "challenge": challenge,
        "fields": fields,
        "answers": answers,
        "files": {row["field"]: row for row in files},
        "members": members,
        "team": team,
        "consents": consents,
        "organization": organization,
        "latest": latest,
    }


async def latest_version(submission_id: int) -> dict[str, Any] | None:
    """The last submitted version (the one judged), or None."""
    row: dict[str, Any] | None = await (
        SubmissionVersion.select()
        .where(SubmissionVersion.submission == submission_id)
        .order_by(SubmissionVersion.number, ascending=False)
        .first()
        .output(load_json=True)
        .run()
    )
    return row


async def my_applications(user: Viewer) -> list[dict[str, Any]]:
    """Every application of the user's organizations, newest first, with its challenge and deadline."""
    if not user.memberships:
        return []
    rows: list[dict[str, Any]] = await (
        Submission.select(
            Submission.id,
            Submission.status,
            Submission.receipt_number,
            Submission.submitted_at,
            Submission.updated_at,
            Submission.organization.name_ja,
            Submission.challenge.slug,
            Submission.challenge.title_ja,
            Submission.challenge.title_en,
            Submission.challenge.applications_close_at,
        )
        .where(Submission.organization.is_in(list(user.memberships)))
        .order_by(Submission.updated_at, ascending=False)
        .run()
    )
    return rows


async def applicant_organizations(user: Viewer) -> list[dict[str, Any]]:
    """The organizations the user may apply for."""
    if not user.memberships:
        return []
    rows: list[dict[str, Any]] = await (
        Organization.select(Organization.id, Organization.name_ja, Organization.name_en)
        .where(Organization.id.is_in(list(user.memberships)))
        .order_by(Organization.name_ja)
        .run()
    )
    return rows
