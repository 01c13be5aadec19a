"""The receipt (領収書) a payer is sent by email when Stripe reports the payment succeeded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.notifications.outbox import notify_users
from app.payments.states import tax_included
from app.payments.tables import Payment
from app.web.jst import TOKYO

RECEIPT_KIND = "payment_receipt"


def receipt_number(payment_id: int) -> str:
    """The number printed on the receipt page and in the mail (KY-PAY-000042)."""
    return f"KY-PAY-{payment_id:06d}"


def amount_paid(payment: dict[str, Any]) -> int:
    """Yen received (every paid invoice of a subscription), else the amount asked."""
    return int(payment["collected_jpy"] or payment["amount_jpy"])


def receipt_path(payment_id: int) -> str:
    """Where the payer finds the printable receipt."""
    return f"/payments/{payment_id}/receipt"


def dedupe_key(payment_id: int) -> str:
    """One receipt mail per payment, however many events (or reconciliations) report its success."""
    return f"payment_receipt:{payment_id}"


async def queue_receipt(payment_id: int, now: datetime) -> int:
    """Queue the receipt mail to the payer in the caller's transaction; returns rows written (0 or 1)."""
    row = await (
        Payment.select(
            Payment.id,
            Payment.purpose,
            Payment.payer,
            Payment.amount_jpy,
            Payment.collected_jpy,
            Payment.monthly,
            Payment.succeeded_at,
            Payment.challenge.title_ja,
            Payment.challenge.title_en,
            Payment.output.name,
        )
        .where(Payment.id == payment_id)
        .first()
        .run()
    )
    if row is None:
        return 0
    paid = amount_paid(row)
    context: dict[str, Any] = {
        "purpose": row["purpose"],
        "monthly": bool(row["monthly"]),
        "receipt_number": receipt_number(payment_id),
        "amount_jpy": paid,
        "tax_jpy": tax_included(paid),
        # A language-neutral Japan date: the mail is rendered later, in the reader's language.
        "paid_on": (row["succeeded_at"] or now).astimezone(TOKYO).date().isoformat(),
        "output_name": row["output.name"] or "",
    }
    if row["challenge.title_ja"] is not None:
        context["title_ja"] = row["challenge.title_ja"]
        context["title_en"] = row["challenge.title_en"] or ""
    return await notify_users(
        RECEIPT_KIND,
        [row["payer"]],
        context,
        link=receipt_path(payment_id),
        now=now,
        dedupe_key=dedupe_key(payment_id),
    )
