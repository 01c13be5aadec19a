"""Tables of submissions: form fields, drafts and their answers, team, consents, files, frozen versions."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from app.accounts.tables import Organization, User
from app.challenges.tables import Challenge

# An application is business information someone entrusted to the city: nothing here cascades away.
KEEP = OnDelete.restrict


class FormField(Table):
    """One question of a challenge's application form, defined by the bureau's officials."""

    id = Serial(primary_key=True)
    challenge = ForeignKey(references=Challenge, on_delete=KEEP, null=False, index=True)
    position = Integer(default=0, help_text="Order on the form (ascending).")
    kind = Varchar(
        length=20, help_text="short_text, long_text, number, single_choice, multiple_choice, url or file."
    )
    label_ja = Varchar(length=200)
    label_en = Varchar(length=200)
    help_ja = Text(help_text="Guidance shown under the label.")
    help_en = Text()
    required = Boolean(default=False)
    max_chars = Integer(null=True, default=None, help_text="Character limit of a text answer.")
    choices = JSON(default="[]", help_text='Options of a choice field: [{"ja": ..., "en": ...}].')
    max_bytes = Integer(null=True, default=None, help_text="Size limit of a file field (default 20 MB).")
    created_at = Timestamptz()


class Submission(Table):
    """An organization's application to a challenge: a draft until submitted, then versions."""

    id = Serial(primary_key=True)
    challenge = ForeignKey(references=Challenge, on_delete=KEEP, null=False, index=True)
    organization = ForeignKey(references=Organization, on_delete=KEEP, null=False, index=True)
    status = Varchar(
        length=20, default="draft", index=True,
        help_text="draft, submitted, withdrawn, advanced, not_selected or winner.",
    )  # fmt: skip
    active_slot = Varchar(
        length=40, null=True, default=None, unique=True,
        help_text="challenge:organization while not withdrawn: one active application per pair.",
    )  # fmt: skip
    receipt_number = Varchar(length=40, null=True, default=None, unique=True, help_text="受付番号.")
    summary = Text(help_text="The fixed summary every application has.")
    summary_revision = Integer(default=0, help_text="Bumped by each save: a stale save is refused (409).")
    created_by = ForeignKey(references=User, on_delete=KEEP, null=False)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    submitted_at = Timestamptz(null=True, default=None, help_text="Latest submission.")
    withdrawn_at = Timestamptz(null=True, default=None)
    withdraw_reason = Text()


class Answer(Table):
    """The current draft answer to one form field; `revision` guards against silent overwrites."""

    id = Serial(primary_key=True)
    submission = ForeignKey(references=Submission, on_delete=KEEP, null=False, index=True)
    field = ForeignKey(references=FormField, on_delete=KEEP, null=False, index=True)
    value = JSON(default="null", help_text="Text, number, list of choice indexes, or URL.")
    revision = Integer(default=0)
    updated_by = ForeignKey(references=User, on_delete=KEEP, null=False)
    updated_at = Timestamptz()


class TeamMember(Table):
    """A member of the organization who takes part in this application."""

    id = Serial(primary_key=True)
    submission = ForeignKey(references=Submission, on_delete=KEEP, null=False, index=True)
    user = ForeignKey(references=User, on_delete=KEEP, null=False)
    added_at = Timestamptz()


class Consent(Table):
    """Electronic consent replacing a seal: who confirmed which eligibility condition, when, from where."""

    id = Serial(primary_key=True)
    submission = ForeignKey(references=Submission, on_delete=KEEP, null=False, index=True)
    condition_index = Integer(help_text="Position in the challenge's eligibility list.")
    condition_text = Text(
        help_text="The condition exactly as shown (Japanese), kept if the challenge changes."
    )
    user = ForeignKey(references=User, on_delete=KEEP, null=False)
    confirmed_at = Timestamptz()
    client_address = Varchar(length=45, help_text="IP address the confirmation came from.")
    withdrawn_at = Timestamptz(null=True, default=None, help_text="Set when the tick was removed.")


class SubmissionFile(Table):
    """A file uploaded for a file field; replacing or removing it marks it removed and keeps the row."""

    id = Serial(primary_key=True)
    submission = ForeignKey(references=Submission, on_delete=KEEP, null=False, index=True)
    field = ForeignKey(references=FormField, on_delete=KEEP, null=False)
    stored_name = Varchar(length=64, unique=True, help_text="Random name under DATA_DIR/uploads/submissions.")
    display_name = Varchar(length=200, help_text="The uploader's file name, sanitized.")
    kind = Varchar(length=10)
    size_bytes = Integer()
    pages = Integer(null=True, default=None)
    sha256 = Varchar(length=64)
    uploaded_by = ForeignKey(references=User, on_delete=KEEP, null=False)
    uploaded_at = Timestamptz()
    removed_at = Timestamptz(null=True, default=None)


class SubmissionVersion(Table):
    """An immutable snapshot taken at each submit: answers, file hashes, team and consents."""

    id = Serial(primary_key=True)
    submission = ForeignKey(references=Submission, on_delete=KEEP, null=False, index=True)
    number = Integer(help_text="1 for the first submit, then 2, 3, ...")
    content = JSON(help_text="summary, answers by field id, files, team, consents: as submitted.")
    submitted_by = ForeignKey(references=User, on_delete=KEEP, null=False)
    submitted_at = Timestamptz()


class ReceiptCounter(Table):
    """The last receipt sequence issued per challenge (incremented inside the submit transaction)."""

    id = Serial(primary_key=True)
    challenge = ForeignKey(references=Challenge, on_delete=KEEP, null=False, unique=True)
    last_number = Integer(default=0)
