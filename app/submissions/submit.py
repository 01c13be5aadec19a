"""Submitting: check every rule at once, freeze an immutable version, issue the 受付番号, send the receipt."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from litestar.exceptions import NotFoundException

from app.accounts.viewer import Viewer
from app.challenges.tables import Challenge
from app.notifications.outbox import notify_users
from app.payments.entry_fees import entry_fee_settled
from app.search.changes import record_search_change
from app.submissions import policies
from app.submissions.answers import answer_problem
from app.submissions.services import (
    SUMMARY_MAX_CHARS,
    closed_message,
    refuse_unless_applicant,
    visible_submission,
)
from app.submissions.state import SubmissionStatus, count_characters, receipt_number
from app.submissions.tables import (
    Answer,
    Consent,
    FormField,
    ReceiptCounter,
    Submission,
    SubmissionFile,
    SubmissionVersion,
    TeamMember,
)
from app.validation import InvalidInput
from app.web.i18n import gettext as _


async def snapshot(submission_id: int, challenge_id: int) -> tuple[dict[str, Any], dict[str, str]]:
    """The draft as it would be submitted, and every rule it breaks (keyed like the form's fields)."""
    submission = (
        await Submission.select(Submission.summary).where(Submission.id == submission_id).first().run()
    )
    fields = await (
        FormField.select()
        .where(FormField.challenge == challenge_id)
        .order_by(FormField.position)
        .output(load_json=True)
        .run()
    )
    answers = {
        row["field"]: row["value"]
        for row in await Answer.select(Answer.field, Answer.value)
        .where(Answer.submission == submission_id)
        .output(load_json=True)
        .run()
    }
    files = await (
        SubmissionFile.select(
            SubmissionFile.id,
            SubmissionFile.field,
            SubmissionFile.display_name,
            SubmissionFile.sha256,
            SubmissionFile.size_bytes,
            SubmissionFile.pages,
            SubmissionFile.stored_name,
        )
        .where((SubmissionFile.submission == submission_id) & SubmissionFile.removed_at.is_null())
        .order_by(SubmissionFile.id)
        .run()
    )
    team = await (
        TeamMember.select(TeamMember.user, TeamMember.user.display_name, TeamMember.user.email)
        .where(TeamMember.submission == submission_id)
        .order_by(TeamMember.user)
        .run()
    )
    consents = await (
        Consent.select(Consent.condition_index, Consent.condition_text, Consent.user, Consent.confirmed_at)
        .where((Consent.submission == submission_id) & Consent.withdrawn_at.is_null())
        .order_by(Consent.condition_index)
        .run()
    )
    challenge = await (
        Challenge.select(Challenge.eligibility)
        .where(Challenge.id == challenge_id)
        .first()
        .output(load_json=True)
        .run()
    )
    summary = submission["summary"] if submission else ""
    errors: dict[str, str] = {}
    if not summary.strip():
        errors["summary"] = _("Write a summary of your proposal.")
    elif count_characters(summary) > SUMMARY_MAX_CHARS:
        errors["summary"] = _("Use at most {limit} characters (now {length}).").format(
            limit=f"{SUMMARY_MAX_CHARS:,}", length=f"{count_characters(summary):,}"
        )
    with_file = {row["field"] for row in files}
    for field in fields:
        if problem := answer_problem(field, answers.get(field["id"]), field["id"] in with_file):
            errors[f"field-{field['id']}"] = problem
    if not team:
        errors["team"] = _("Choose at least one member of your organization for the team.")
    confirmed = {row["condition_index"] for row in consents}
    for index, _condition in enumerate(challenge["eligibility"] if challenge else []):
        if index not in confirmed:
            errors[f"consent-{index}"] = _("Confirm this condition to apply.")
    content = {
        "summary": summary,
        "answers": {
            str(field["id"]): {
                "label_ja": field["label_ja"],
                "kind": field["kind"],
                "value": answers.get(field["id"]),
            }
            for field in fields
        },
        "files": [{key: value for key, value in row.items() if key != "id"} for row in files],
        "team": [
            {"user": row["user"], "display_name": row["user.display_name"], "email": row["user.email"]}
            for row in team
        ],
        "consents": [
            {
                "index": row["condition_index"],
                "text": row["condition_text"],
                "user": row["user"],
                "confirmed_at": row["confirmed_at"].isoformat(),
            }
            for row in consents
        ],
    }
    return content, errors


async def next_receipt_sequence(challenge_id: int) -> int:
    """The next number of the challenge's receipt sequence (concurrent submits get different numbers)."""
    inserted = await (
        ReceiptCounter.insert(ReceiptCounter(challenge=challenge_id, last_number=1))
        .on_conflict(target=ReceiptCounter.challenge, action="DO NOTHING")
        .returning(ReceiptCounter.last_number)
        .run()
    )
    if inserted:
        return 1
    updated = await (
        ReceiptCounter.update({ReceiptCounter.last_number: ReceiptCounter.last_number + 1})
        .where(ReceiptCounter.challenge == challenge_id)
        .returning(ReceiptCounter.last_number)
        .run()
    )
    sequence: int = updated[0]["last_number"]
    return sequence


async def submit_submission(user: Viewer | None, submission_id: int, *, now: datetime) -> dict[str, Any]:
    """Freeze the draft as a new version (or return the latest if nothing changed: a double click).

    Returns the version row with the receipt number. The deadline is checked here, at the moment of the
    write, in UTC.

    Raises:
        NotFoundException: the user may not see the submission.
        PermissionDeniedException: the user may see it but is not of the applying organization.
        InvalidInput: past the deadline (nothing saved), or rules broken (every one listed).
    """
    async with Submission._meta.db.transaction():
        facts = await visible_submission(user, submission_id)
        refuse_unless_applicant(user, facts)
        if user is None or not policies.can_submit_submission(user, facts, now):
            raise InvalidInput({"form": closed_message(facts, now)})
        content, errors = await snapshot(submission_id, facts.challenge.id)
        if errors:
            raise InvalidInput(errors)
        latest = await (
            SubmissionVersion.select()
            .where(SubmissionVersion.submission == submission_id)
            .order_by(SubmissionVersion.number, ascending=False)
            .first()
            .output(load_json=True)
            .run()
        )
        issued = (
            await Submission.select(Submission.receipt_number)
            .where(Submission.id == submission_id)
            .first()
            .run()
        )
        receipt = issued["receipt_number"] if issued else None
        if latest is not None and latest["content"] == json.loads(json.dumps(content, default=str)):
            return {**latest, "receipt_number": receipt}
        if receipt is None:
            receipt = receipt_number(facts.challenge.id, await next_receipt_sequence(facts.challenge.id), now)
        number = (latest["number"] if latest else 0) + 1
        # With an unpaid entry fee the version is frozen but the application stays a draft until paid
        # (the after-deadline rule is in app/payments/entry_fees.py).
        fee_settled = await entry_fee_settled(submission_id, facts.challenge.id)
        status = SubmissionStatus.SUBMITTED if fee_settled else SubmissionStatus.DRAFT
        rows = await SubmissionVersion.insert(
            SubmissionVersion(
                submission=submission_id,
                number=number,
                content=json.dumps(content, ensure_ascii=False, default=str),
                submitted_by=user.id,
                submitted_at=now,
            )
        ).run()
        await (
            Submission.update(
                {
                    Submission.status: status.value,
                    Submission.receipt_number: receipt,
                    Submission.submitted_at: now,
                    Submission.updated_at: now,
                }
            )
            .where(Submission.id == submission_id)
            .run()
        )
        await record_search_change("submission", submission_id, now=now)
        await send_receipt(submission_id, facts.challenge.id, receipt, number, content, user.id, now)
    return {
        "id": rows[0]["id"],
        "number": number,
        "receipt_number": receipt,
        "submitted_at": now,
        "content": content,
    }


async def send_receipt(
    submission_id: int,
    challenge_id: int,
    receipt: str,
    number: int,
    content: dict[str, Any],
    submitter: int,
    now: datetime,
) -> None:
    """The receipt goes to the submitter and the team (a required message: it cannot be turned off)."""
    challenge = await (
        Challenge.select(Challenge.slug, Challenge.title_ja, Challenge.title_en)
        .where(Challenge.id == challenge_id)
        .first()
        .run()
    )
    if challenge is None:
        raise NotFoundException
    recipients = {submitter} | {member["user"] for member in content["team"]}
    await notify_users(
        "submission_received",
        recipients,
        {**challenge, "receipt_number": receipt, "version": number, "submitted_at": now.isoformat()},
        link=f"/submissions/{submission_id}/receipt",
        now=now,
    )
