"""Every payment authorization rule, with who is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.accounts.viewer import Viewer
from app.payments import policies
from app.payments.policies import PaymentFacts, TicketTypeFacts

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
BUREAU = 7


def person(
    user_id: int, *, bureaus: frozenset[int] = frozenset(), admin: bool = False, org: int | None = None
) -> Viewer:
    """A viewer with the given roles."""
    return Viewer(
        id=user_id,
        email=f"u{user_id}@example.com",
        display_name=f"u{user_id}",
        locale="en",
        is_admin=admin,
        official_bureau_ids=bureaus,
        memberships={org: "member"} if org else {},
    )


PAYER = person(1)
OFFICIAL = person(2, bureaus=frozenset({BUREAU}))
OTHER_OFFICIAL = person(3, bureaus=frozenset({99}))
ADMIN = person(4, admin=True)
STRANGER = person(5)


def payment(status: str = "succeeded", purpose: str = "ticket", bureau: int | None = BUREAU) -> PaymentFacts:
    """A payment by PAYER."""
    return PaymentFacts(id=1, payer_id=PAYER.id, bureau_id=bureau, purpose=purpose, status=status)


@pytest.mark.parametrize("user", [None, STRANGER, OTHER_OFFICIAL, PAYER])
def test_bureau_only_rules_refuse_everyone_else(user: Viewer | None) -> None:
    assert not policies.can_manage_pitch_day(user, BUREAU)
    assert not policies.can_view_attendees(user, BUREAU)
    assert not policies.can_check_in(user, BUREAU)
    assert not policies.can_set_entry_fee(user, BUREAU)


@pytest.mark.parametrize("user", [OFFICIAL, ADMIN])
def test_the_bureau_and_admins_manage_pitch_days(user: Viewer) -> None:
    assert policies.can_manage_pitch_day(user, BUREAU)
    assert policies.can_check_in(user, BUREAU)


def test_tickets_are_sold_only_to_signed_in_people_inside_the_window() -> None:
    ticket = TicketTypeFacts(1, BUREAU, 1000, NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert policies.can_buy_ticket(STRANGER, ticket, NOW)
    assert not policies.can_buy_ticket(None, ticket, NOW)
    assert not policies.can_buy_ticket(STRANGER, ticket, NOW + timedelta(days=1))  # the end is exclusive
    assert not policies.can_buy_ticket(STRANGER, ticket, NOW - timedelta(days=2))


@pytest.mark.parametrize("status", ["created", "processing", "failed"])
def test_only_the_payer_pays_an_unpaid_payment(status: str) -> None:
    assert policies.can_pay(PAYER, payment(status))
    for user in (None, STRANGER, OFFICIAL, ADMIN):
        assert not policies.can_pay(user, payment(status))


@pytest.mark.parametrize("status", ["succeeded", "refunded", "canceled", "active"])
def test_a_paid_payment_cannot_be_paid_again(status: str) -> None:
    assert not policies.can_pay(PAYER, payment(status))


def test_payments_and_receipts_are_seen_by_the_payer_and_the_bureau_only() -> None:
    for user in (PAYER, OFFICIAL, ADMIN):
        assert policies.can_view_payment(user, payment())
        assert policies.can_view_receipt(user, payment())
    for user in (None, STRANGER, OTHER_OFFICIAL):
        assert not policies.can_view_payment(user, payment())
        assert not policies.can_view_receipt(user, payment())
    assert not policies.can_view_receipt(PAYER, payment("processing"))


def test_sponsorships_belong_to_no_bureau_so_only_admins_act_for_them() -> None:
    sponsorship = payment(purpose="sponsorship", bureau=None)
    assert policies.can_refund(ADMIN, sponsorship)
    assert not policies.can_refund(OFFICIAL, sponsorship)
    assert not policies.can_view_payment(OFFICIAL, sponsorship)


def test_refunds_by_the_bureau_of_paid_payments_never_by_the_payer() -> None:
    assert policies.can_refund(OFFICIAL, payment())
    assert policies.can_refund(OFFICIAL, payment("partially_refunded"))
    assert not policies.can_refund(OFFICIAL, payment("processing"))
    assert not policies.can_refund(OFFICIAL, payment("refunded"))
    assert not policies.can_refund(OTHER_OFFICIAL, payment())
    assert not policies.can_refund(None, payment())
    payer_official = person(PAYER.id, bureaus=frozenset({BUREAU}))
    assert not policies.can_refund(payer_official, payment())


def test_entry_fees_are_paid_by_members_before_the_deadline() -> None:
    member = person(8, org=42)
    assert policies.can_pay_entry_fee(member, 42, NOW + timedelta(hours=1), NOW)
    assert policies.can_pay_entry_fee(member, 42, None, NOW)
    assert not policies.can_pay_entry_fee(member, 42, NOW, NOW)
    assert not policies.can_pay_entry_fee(STRANGER, 42, NOW + timedelta(hours=1), NOW)
    assert not policies.can_pay_entry_fee(None, 42, None, NOW)
    # The bureau sees the fee but never pays it, deadline or not.
    assert not policies.can_pay_entry_fee(OFFICIAL, 42, None, NOW)
    assert not policies.pays_for_organization(OFFICIAL, 42)
    assert not policies.pays_for_organization(ADMIN, 42)
    assert policies.pays_for_organization(member, 42)


def test_the_payer_is_only_the_person_the_payment_is_for() -> None:
    assert policies.is_payer(PAYER, payment())
    for user in (None, STRANGER, OFFICIAL, ADMIN):
        assert not policies.is_payer(user, payment())


def test_an_entry_fee_is_seen_by_the_applicants_and_the_bureau_only() -> None:
    member = person(8, org=42)
    assert policies.can_view_entry_fee(member, 42, BUREAU)
    assert policies.can_view_entry_fee(OFFICIAL, 42, BUREAU)
    assert policies.can_view_entry_fee(ADMIN, 42, BUREAU)
    assert not policies.can_view_entry_fee(person(9, org=43), 42, BUREAU)
    assert not policies.can_view_entry_fee(OTHER_OFFICIAL, 42, BUREAU)
    assert not policies.can_view_entry_fee(STRANGER, 42, BUREAU)
    assert not policies.can_view_entry_fee(None, 42, BUREAU)


def test_sponsoring_and_cancelling() -> None:
    assert policies.can_sponsor(STRANGER)
    assert not policies.can_sponsor(None)
    running = payment("active", "sponsorship", None)
    assert policies.can_cancel_sponsorship(PAYER, running)
    assert policies.can_cancel_sponsorship(ADMIN, running)
    assert not policies.can_cancel_sponsorship(STRANGER, running)
    assert not policies.can_cancel_sponsorship(None, running)
    assert not policies.can_cancel_sponsorship(PAYER, payment("canceled", "sponsorship", None))
    assert not policies.can_cancel_sponsorship(PAYER, payment("active", "ticket"))
