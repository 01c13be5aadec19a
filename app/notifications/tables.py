"""Tables of notifications: one row per message to one person, and the optional messages they muted."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from app.accounts.tables import User

KEEP = OnDelete.restrict


class Notification(Table):
    """A message to one person: shown in the app, and (as the outbox row) delivered by email.

    The row is inserted in the same transaction as the change that causes it, so a rolled-back change
    sends nothing and a committed one is never forgotten; the worker moves `email_status` along.
    """

    id = Serial(primary_key=True)
    kind = Varchar(length=60, help_text="Which message (see messages.py).")
    user = ForeignKey(
        references=User, on_delete=KEEP, null=True, index=True, help_text="Recipient, if a user."
    )
    email_to = Varchar(length=254, help_text="Recipient address (a user's address is read at send time).")
    locale = Varchar(length=5, default="ja", help_text="Language for recipients who are not users.")
    context = JSON(default="{}", help_text="What the message templates need (ids, titles, links).")
    link = Varchar(length=500, help_text="Where the in-app message leads (a path).")
    dedupe_key = Varchar(
        length=200, null=True, default=None, unique=True, help_text="Set for messages that must go once."
    )
    created_at = Timestamptz()
    in_app = Boolean(default=True, help_text="Listed under the bell.")
    read_at = Timestamptz(null=True, default=None)
    email_status = Varchar(
        length=10, default="pending", index=True, help_text="none, pending, sending, sent, failed or skipped."
    )
    attempts = Integer(default=0, help_text="Delivery attempts so far.")
    next_attempt_at = Timestamptz(null=True, default=None, index=True, help_text="When to try again.")
    lease_until = Timestamptz(
        null=True, default=None, help_text="A claimed row returns to the queue after this (crashed worker)."
    )
    last_error = Text(help_text="The last delivery error, for admins.")
    sent_at = Timestamptz(null=True, default=None)


class MutedMessage(Table):
    """An optional message a user chose not to receive."""

    id = Serial(primary_key=True)
    user = ForeignKey(references=User, on_delete=KEEP, null=False, index=True)
    kind = Varchar(length=60)
    muted_at = Timestamptz()
