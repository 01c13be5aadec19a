"""Tables of payments: pitch-day events and tickets, payments, refunds, Stripe events, entry fees."""

from __future__ import annotations

from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from app.accounts.tables import User
from app.catalog.tables import Output
from app.challenges.tables import Challenge
from app.submissions.tables import Submission

# Money records are evidence: nothing here cascades away.
KEEP = OnDelete.restrict


class PitchEvent(Table):
    """The public pitch-day event of a challenge (one per challenge)."""

    id = Serial(primary_key=True)
    challenge = ForeignKey(references=Challenge, on_delete=KEEP, null=False, unique=True)
    starts_at = Timestamptz(help_text="When the pitch day begins (UTC).")
    venue = Varchar(length=200, help_text="Where it takes place (or 'online').")
    created_by = ForeignKey(references=User, on_delete=KEEP, null=False)
    created_at = Timestamptz()


class TicketType(Table):
    """A kind of ticket for a pitch day: free or paid, with a capacity and a sales window."""

    id = Serial(primary_key=True)
    event = ForeignKey(references=PitchEvent, on_delete=KEEP, null=False, index=True)
    name_ja = Varchar(length=100)
    name_en = Varchar(length=100)
    price_jpy = Integer(default=0, help_text="Tax-inclusive price in yen; 0 means free.")
    capacity = Integer(default=0, help_text="Seats; tickets beyond it are refused.")
    sales_open_at = Timestamptz(help_text="Sales start (UTC).")
    sales_close_at = Timestamptz(help_text="Sales end (UTC).")


class Payment(Table):
    """One payment (or a monthly subscription) to the platform's operator; its state comes from Stripe."""

    id = Serial(primary_key=True)
    purpose = Varchar(length=20, index=True, help_text="ticket, entry_fee or sponsorship.")
    payer = ForeignKey(references=User, on_delete=KEEP, null=False, index=True)
    amount_jpy = Integer(help_text="Tax-inclusive amount in yen (JPY is zero-decimal: ¥1,000 = 1000).")
    collected_jpy = Integer(default=0, help_text="Received so far (every paid invoice of a subscription).")
    refunded_jpy = Integer(default=0, help_text="Refunded so far (never decreases).")
    status = Varchar(length=20, default="created", index=True, help_text="See app/payments/states.py.")
    stripe_intent = Varchar(length=80, null=True, default=None, unique=True, help_text="pi_... id.")
    stripe_subscription = Varchar(length=80, null=True, default=None, unique=True, help_text="sub_... id.")
    stripe_customer = Varchar(length=80, help_text="cus_... id, once one exists.")
    monthly = Boolean(default=False, help_text="A monthly subscription instead of a one-off payment.")
    last_error = Text(help_text="Why the last attempt failed, as Stripe said it.")
    challenge = ForeignKey(references=Challenge, on_delete=KEEP, null=True, index=True)
    submission = ForeignKey(references=Submission, on_delete=KEEP, null=True, index=True)
    output = ForeignKey(references=Output, on_delete=KEEP, null=True, index=True)
    sponsor_name = Varchar(length=200, help_text="Shown on the output page for a sponsorship.")
    created_at = Timestamptz()
    updated_at = Timestamptz()
    succeeded_at = Timestamptz(null=True, default=None, help_text="When Stripe reported success.")


class Ticket(Table):
    """A seat at a pitch day: valid once free or paid, with a short code for check-in."""

    id = Serial(primary_key=True)
    ticket_type = ForeignKey(references=TicketType, on_delete=KEEP, null=False, index=True)
    holder = ForeignKey(references=User, on_delete=KEEP, null=False, index=True)
    code = Varchar(length=12, unique=True, help_text="Short code shown at the door.")
    status = Varchar(length=20, default="pending", index=True, help_text="pending, valid or cancelled.")
    payment = ForeignKey(references=Payment, on_delete=KEEP, null=True, unique=True)
    created_at = Timestamptz()
    checked_in_at = Timestamptz(null=True, default=None)
    checked_in_by = ForeignKey(references=User, on_delete=KEEP, null=True)


class Refund(Table):
    """A refund an official made from the attendee list."""

    id = Serial(primary_key=True)
    payment = ForeignKey(references=Payment, on_delete=KEEP, null=False, index=True)
    amount_jpy = Integer()
    stripe_refund = Varchar(length=80, null=True, default=None, unique=True, help_text="re_... id.")
    status = Varchar(length=20, default="requested", help_text="requested, succeeded or failed.")
    reason = Text()
    requested_by = ForeignKey(references=User, on_delete=KEEP, null=False)
    requested_at = Timestamptz()


class StripeEvent(Table):
    """A webhook event applied once: its id is UNIQUE and written in the transaction of its effect."""

    id = Serial(primary_key=True)
    event_id = Varchar(length=80, unique=True, help_text="evt_... id.")
    event_type = Varchar(length=60)
    payment = ForeignKey(references=Payment, on_delete=KEEP, null=True, index=True)
    outcome = Varchar(length=20, help_text="applied, ignored (unknown type) or unmatched.")
    received_at = Timestamptz()


class EntryFee(Table):
    """The entry fee of a challenge (none by default, as Tokyo's contests charge nothing)."""

    id = Serial(primary_key=True)
    challenge = ForeignKey(references=Challenge, on_delete=KEEP, null=False, unique=True)
    amount_jpy = Integer()
    set_by = ForeignKey(references=User, on_delete=KEEP, null=False)
    set_at = Timestamptz()


class FeeWaiver(Table):
    """A waiver code that lets one submission apply without paying the entry fee."""

    id = Serial(primary_key=True)
    challenge = ForeignKey(references=Challenge, on_delete=KEEP, null=False, index=True)
    code = Varchar(length=40, unique=True)
    used_by_submission = ForeignKey(references=Submission, on_delete=KEEP, null=True, unique=True)
    used_at = Timestamptz(null=True, default=None)
    created_by = ForeignKey(references=User, on_delete=KEEP, null=False)
    created_at = Timestamptz()
