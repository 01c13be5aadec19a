"""Payment states as pure functions: a state only moves forward, so events may arrive in any order."""

from __future__ import annotations

from enum import StrEnum


class PaymentStatus(StrEnum):
    """created → processing → failed | succeeded → partially_refunded → refunded; active → canceled."""

    CREATED = "created"
    PROCESSING = "processing"
    FAILED = "failed"
    SUCCEEDED = "succeeded"
    ACTIVE = "active"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELED = "canceled"


# A failed attempt may be followed by a successful one (another card), never the reverse; a refund is
# final; a canceled subscription never becomes active again.
RANK = {
    PaymentStatus.CREATED: 0,
    PaymentStatus.PROCESSING: 1,
    PaymentStatus.FAILED: 2,
    PaymentStatus.SUCCEEDED: 3,
    PaymentStatus.ACTIVE: 3,
    PaymentStatus.PARTIALLY_REFUNDED: 4,
    PaymentStatus.REFUNDED: 5,
    PaymentStatus.CANCELED: 6,
}

PAID_STATUSES = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.ACTIVE, PaymentStatus.PARTIALLY_REFUNDED})
SETTLED_STATUSES = PAID_STATUSES | {PaymentStatus.REFUNDED, PaymentStatus.CANCELED}


def forward(current: PaymentStatus, proposed: PaymentStatus) -> PaymentStatus:
    """The later of the two states: an older event never undoes a newer one."""
    return proposed if RANK[proposed] > RANK[current] else current


def refund_status(amount_jpy: int, refunded_jpy: int) -> PaymentStatus | None:
    """The state a refunded amount implies (None when nothing was refunded)."""
    if refunded_jpy <= 0:
        return None
    return PaymentStatus.REFUNDED if refunded_jpy >= amount_jpy else PaymentStatus.PARTIALLY_REFUNDED


def from_intent_status(stripe_status: str) -> PaymentStatus:
    """A local state for a PaymentIntent status as Stripe reports it."""
    return {
        "succeeded": PaymentStatus.SUCCEEDED,
        "processing": PaymentStatus.PROCESSING,
        "requires_action": PaymentStatus.PROCESSING,
        "requires_capture": PaymentStatus.PROCESSING,
        "canceled": PaymentStatus.FAILED,
    }.get(stripe_status, PaymentStatus.CREATED)


def is_paid(status: str) -> bool:
    """Whether the money was received (and not fully returned)."""
    return status in PAID_STATUSES


def tax_included(amount_jpy: int, rate_percent: int = 10) -> int:
    """The consumption tax inside a tax-inclusive amount (rounded down, as receipts show it)."""
    return amount_jpy * rate_percent // (100 + rate_percent)
