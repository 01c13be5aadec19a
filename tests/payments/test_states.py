"""Forward-only payment states and amounts (pure functions)."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from app.payments.states import RANK, PaymentStatus, forward, refund_status, tax_included


@given(st.lists(st.sampled_from(list(PaymentStatus)), min_size=1, max_size=8))
def test_any_delivery_order_reaches_the_same_state(statuses: list[PaymentStatus]) -> None:
    finals = set()
    for order in itertools.islice(itertools.permutations(statuses), 50):
        state = PaymentStatus.CREATED
        for proposed in order:
            state = forward(state, proposed)
        finals.add(RANK[state])
    assert len(finals) == 1


def test_a_failure_never_undoes_a_success_but_a_success_follows_a_failure() -> None:
    assert forward(PaymentStatus.SUCCEEDED, PaymentStatus.FAILED) is PaymentStatus.SUCCEEDED
    assert forward(PaymentStatus.FAILED, PaymentStatus.SUCCEEDED) is PaymentStatus.SUCCEEDED
    assert forward(PaymentStatus.REFUNDED, PaymentStatus.SUCCEEDED) is PaymentStatus.REFUNDED


def test_refund_status_and_tax() -> None:
    assert refund_status(1000, 0) is None
    assert refund_status(1000, 300) is PaymentStatus.PARTIALLY_REFUNDED
    assert refund_status(1000, 1000) is PaymentStatus.REFUNDED
    assert tax_included(1000) == 90
    assert tax_included(1100) == 100
    assert tax_included(0) == 0
