"""Entry fees of a challenge, waiver codes, and when a submission with a fee counts as submitted.

The after-deadline rule: pressing Submit freezes the version and issues the 受付番号 as always; while the
fee is unpaid the submission stays a draft. It counts as submitted as soon as Stripe reports the payment
succeeded (or a waiver code is used), even if that happens after the deadline, provided Submit was pressed
before the deadline. A payment cannot be started after the deadline.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from litestar.exceptions import NotFoundException, PermissionDeniedException

from app.accounts.viewer import Viewer
from app.challenges.tables import Challenge
from app.payments import policies
from app.payments.forms import whole_number_field
from app.payments.gateway import PaymentGateway
from app.payments.intents import start_intent
from app.payments.states import PAID_STATUSES
from app.payments.tables import EntryFee, FeeWaiver, Payment
from app.submissions.state import SubmissionStatus
from app.submissions.tables import Submission, SubmissionVersion
from app.validation import InvalidInput
from app.web.i18n import gettext as _

MAX_FEE_JPY = 1_000_000


async def entry_fee_settled(submission_id: int, challenge_id: int) -> bool:
    """No fee, a waiver used by this submission, or a paid entry-fee payment for it."""
    fee = await EntryFee.select(EntryFee.amount_jpy).where(EntryFee.challenge == challenge_id).first().run()
    if fee is None or fee["amount_jpy"] <= 0:
        return True
    if await FeeWaiver.exists().where(FeeWaiver.used_by_submission == submission_id).run():
        return True
    return bool(
        await Payment.exists()
        .where(
            (Payment.submission == submission_id)
            & (Payment.purpose == "entry_fee")
            & Payment.status.is_in([status.value for status in PAID_STATUSES])
        )
        .run()
    )


async def count_as_submitted(submission_id: int, now: datetime) -> bool:
    """Apply the rule above: a draft frozen before the deadline becomes submitted; returns whether it did."""
    row = await (
        Submission.select(Submission.status, Submission.challenge.applications_close_at)
        .where(Submission.id == submission_id)
        .first()
        .run()
    )
    if row is None or row["status"] != SubmissionStatus.DRAFT.value:
        return False
    version = await (
        SubmissionVersion.select(SubmissionVersion.submitted_at)
        .where(SubmissionVersion.submission == submission_id)
        .order_by(SubmissionVersion.number, ascending=False)
        .first()
        .run()
    )
    deadline = row["challenge.applications_close_at"]
    if version is None or (deadline is not None and version["submitted_at"] >= deadline):
        return False
    await (
        Submission.update(
            {
                Submission.status: SubmissionStatus.SUBMITTED.value,
                Submission.submitted_at: version["submitted_at"],
                Submission.updated_at: now,
            }
        )
        .where((Submission.id == submission_id) & (Submission.status == SubmissionStatus.DRAFT.value))
        .run()
    )
    return True


async def entry_fee_paid(payment: dict[str, Any], now: datetime) -> None:
    """Called by the webhook effect in its transaction once an entry fee payment succeeded."""
    await count_as_submitted(int(payment["submission"]), now)


async def fee_context(user: Viewer | None, submission_id: int) -> dict[str, Any]:
    """The submission, its challenge's fee and deadline, and its entry-fee payments (404 for outsiders)."""
    submission = await (
        Submission.select(
            Submission.id, Submission.organization, Submission.status, Submission.challenge,
            Submission.challenge.applications_close_at, Submission.challenge.bureau,
            Submission.challenge.slug, Submission.challenge.title_ja, Submission.challenge.title_en,
        )
        .where(Submission.id == submission_id)
        .first()
        .run()
    )  # fmt: skip
    if submission is None:
        raise NotFoundException
    if not policies.can_view_entry_fee(user, submission["organization"], submission["challenge.bureau"]):
        raise NotFoundException
    fee = await EntryFee.select().where(EntryFee.challenge == submission["challenge"]).first().run()
    payments = await (
        Payment.select(Payment.id, Payment.status, Payment.amount_jpy, Payment.created_at)
        .where((Payment.submission == submission_id) & (Payment.purpose == "entry_fee"))
        .order_by(Payment.id)
        .run()
    )
    settled = await entry_fee_settled(submission_id, submission["challenge"])
    return {"submission": submission, "fee": fee, "payments": payments, "settled": settled}


def refuse_unless_member(user: Viewer | None, organization_id: int) -> None:
    """403 for someone who may see the fee (the bureau, an admin) but does not pay it."""
    if not policies.pays_for_organization(user, organization_id):
        raise PermissionDeniedException(_("Only the applying organization's members pay its entry fee."))


async def start_entry_fee_payment(
    user: Viewer | None, submission_id: int, gateway: PaymentGateway | None, *, now: datetime
) -> int:
    """Create the entry-fee payment and its PaymentIntent; returns the payment id.

    Raises:
        NotFoundException: the user may not see the submission.
        PermissionDeniedException: the user is not of the applying organization.
        InvalidInput: no fee, already settled, past the deadline, or payments unavailable.
    """
    context = await fee_context(user, submission_id)
    submission, fee = context["submission"], context["fee"]
    deadline = submission["challenge.applications_close_at"]
    refuse_unless_member(user, submission["organization"])
    if user is None or not policies.can_pay_entry_fee(user, submission["organization"], deadline, now):
        raise InvalidInput({"payment": _("The entry fee can no longer be paid: the deadline has passed.")})
    if fee is None or context["settled"]:
        raise InvalidInput({"payment": _("Nothing is due for this application.")})
    if gateway is None:
        raise InvalidInput({"payment": _("Card payments are unavailable at the moment.")})
    rows = await Payment.insert(
        Payment(
            purpose="entry_fee",
            payer=user.id,
            amount_jpy=fee["amount_jpy"],
            challenge=submission["challenge"],
            submission=submission_id,
            created_at=now,
            updated_at=now,
        )
    ).run()
    payment_id = int(rows[0]["id"])
    await start_intent(payment_id, fee["amount_jpy"], {"kyoso_submission": str(submission_id)}, gateway, now)
    return payment_id


async def use_waiver(user: Viewer | None, submission_id: int, code: str, *, now: datetime) -> None:
    """Apply a waiver code of this challenge to the submission (each code once).

    Raises:
        NotFoundException: the user may not see the submission.
        PermissionDeniedException: the user is not of the applying organization.
        InvalidInput: unknown, used or another challenge's code, or past the deadline.
    """
    context = await fee_context(user, submission_id)
    submission = context["submission"]
    deadline = submission["challenge.applications_close_at"]
    refuse_unless_member(user, submission["organization"])
    if user is None or not policies.can_pay_entry_fee(user, submission["organization"], deadline, now):
        raise InvalidInput({"code": _("The entry fee can no longer be paid: the deadline has passed.")})
    async with FeeWaiver._meta.db.transaction():
        updated = await (
            FeeWaiver.update({FeeWaiver.used_by_submission: submission_id, FeeWaiver.used_at: now})
            .where(
                (FeeWaiver.code == code.strip().upper())
                & (FeeWaiver.challenge == submission["challenge"])
                & FeeWaiver.used_by_submission.is_null()
            )
            .returning(FeeWaiver.id)
            .run()
        )
        if not updated:
            raise InvalidInput(
                {"code": _("This waiver code is not valid for this challenge or was already used.")}
            )
        await count_as_submitted(submission_id, now)


async def set_entry_fee(user: Viewer | None, slug: str, values: dict[str, str], *, now: datetime) -> int:
    """Set (or with 0, remove) the challenge's entry fee and optionally issue waiver codes; returns how many.

    Raises:
        NotFoundException: no such challenge or the user does not act for its bureau.
        InvalidInput: the amount or the number of codes is out of range (nothing saved).
    """
    challenge = (
        await Challenge.select(Challenge.id, Challenge.bureau).where(Challenge.slug == slug).first().run()
    )
    if challenge is None or user is None or not policies.can_set_entry_fee(user, challenge["bureau"]):
        raise NotFoundException
    errors: dict[str, str] = {}
    amount = whole_number_field(values, "amount_jpy", 0, MAX_FEE_JPY, errors)
    codes = whole_number_field({"n": values.get("waiver_codes") or "0"}, "n", 0, 100, errors)
    if "n" in errors:
        errors["waiver_codes"] = errors.pop("n")
    if errors:
        raise InvalidInput(errors)
    async with EntryFee._meta.db.transaction():
        await EntryFee.delete().where(EntryFee.challenge == challenge["id"]).run()
        if amount > 0:
            await EntryFee.insert(
                EntryFee(challenge=challenge["id"], amount_jpy=amount, set_by=user.id, set_at=now)
            ).run()
        for _index in range(codes):
            await FeeWaiver.insert(
                FeeWaiver(
                    challenge=challenge["id"],
                    code=secrets.token_hex(5).upper(),
                    created_by=user.id,
                    created_at=now,
                )
            ).run()
    return codes
