"""Tables of challenges: timeline, themes, lifecycle events, revisions, Q&A and follows."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from app.accounts.tables import Bureau, User

# A challenge and everything said about it stays: no cascade anywhere.
KEEP = OnDelete.restrict


class Challenge(Table):
    """A problem a bureau asks startups to solve, with its timeline and conditions."""

    id = Serial(primary_key=True)
    slug = Varchar(
        length=80, unique=True, help_text="Address of the challenge, e.g. nishi-shinjuku-smart-city."
    )
    bureau = ForeignKey(references=Bureau, on_delete=KEEP, null=False, index=True)
    status = Varchar(length=20, default="draft", index=True, help_text="Lifecycle state (see lifecycle.py).")
    title_ja = Varchar(length=200)
    title_en = Varchar(length=200)
    summary_ja = Text(help_text="One paragraph shown in lists.")
    summary_en = Text()
    body_ja = Text(help_text="Markdown; rendered through markdown-it-py and nh3.")
    body_en = Text()
    background_ja = Text(help_text="Markdown.")
    background_en = Text()
    problem_ja = Text(help_text="Markdown.")
    problem_en = Text()
    outcome_ja = Text(help_text="Expected outcome; Markdown.")
    outcome_en = Text()
    eligibility = JSON(default="[]", help_text='Conditions applicants confirm: [{"ja": ..., "en": ...}].')
    poc_budget_jpy = Integer(default=0, help_text="Budget for the proof of concept, in yen.")
    selection_count = Integer(default=1, help_text="How many startups will be selected.")
    contact = Text(help_text="Who to contact (a department, an address).")
    applications_open_at = Timestamptz(null=True, default=None)
    questions_close_at = Timestamptz(null=True, default=None)
    applications_close_at = Timestamptz(null=True, default=None, index=True)
    screening_at = Timestamptz(null=True, default=None, help_text="Document screening (書類審査).")
    pitch_at = Timestamptz(null=True, default=None, help_text="Pitch event.")
    results_at = Timestamptz(null=True, default=None)
    author = ForeignKey(references=User, on_delete=KEEP, null=False)
    approved_by = ForeignKey(references=User, on_delete=KEEP, null=True)
    created_at = Timestamptz()
    updated_at = Timestamptz(index=True)
    published_at = Timestamptz(null=True, default=None, index=True)
    material_change_at = Timestamptz(
        null=True, default=None, help_text="Last deadline/eligibility change after publication."
    )
    material_change_note = Text(help_text="What the public 更新 notice says.")


class ChallengeTheme(Table):
    """A theme tag of a challenge (防災, モビリティ, ...)."""

    id = Serial(primary_key=True)
    challenge = ForeignKey(references=Challenge, on_delete=KEEP, null=False, index=True)
    theme = Varchar(length=40, index=True)


class ChallengeEvent(Table):
    """A lifecycle step: who moved the challenge from which state to which, when, and why."""

    id = Serial(primary_key=True)
    challenge = ForeignKey(references=Challenge, on_delete=KEEP, null=False, index=True)
    actor = ForeignKey(
        references=User, on_delete=KEEP, null=True, help_text="Empty when the deadline closed it."
    )
    from_status = Varchar(length=20)
    to_status = Varchar(length=20)
    comment = Text()
    happened_at = Timestamptz()


class ChallengeRevision(Table):
    """An edit of a published challenge: which fields changed from what to what, by whom."""

    id = Serial(primary_key=True)
    challenge = ForeignKey(references=Challenge, on_delete=KEEP, null=False, index=True)
    editor = ForeignKey(references=User, on_delete=KEEP, null=False)
    changes = JSON(help_text='{"field": [old, new], ...}')
    material = Boolean(default=False, help_text="Deadline or eligibility changed: shown as a public notice.")
    edited_at = Timestamptz()


class Question(Table):
    """A question about a challenge; published (without the asker) once an official answers it."""

    id = Serial(primary_key=True)
    challenge = ForeignKey(references=Challenge, on_delete=KEEP, null=False, index=True)
    asker = ForeignKey(references=User, on_delete=KEEP, null=False)
    body = Text()
    asked_at = Timestamptz()
    answer = Text()
    answered_by = ForeignKey(references=User, on_delete=KEEP, null=True)
    answered_at = Timestamptz(null=True, default=None, index=True)


class Follow(Table):
    """A signed-in user follows a challenge (notifications use it)."""

    id = Serial(primary_key=True)
    user = ForeignKey(references=User, on_delete=KEEP, null=False, index=True)
    challenge = ForeignKey(references=Challenge, on_delete=KEEP, null=False, index=True)
    created_at = Timestamptz()


class ChallengeAttachment(Table):
    """A file (PDF, PNG, JPEG) attached to a challenge; removing one marks it removed and keeps the row."""

    id = Serial(primary_key=True)
    challenge = ForeignKey(references=Challenge, on_delete=KEEP, null=False, index=True)
    stored_name = Varchar(
        length=64, unique=True, help_text="Random file name under DATA_DIR/uploads/challenges."
    )
    display_name = Varchar(length=200, help_text="The uploader's file name, sanitized; shown and downloaded.")
    kind = Varchar(length=10, help_text="pdf, png or jpeg, as found in the file's content.")
    size_bytes = Integer()
    pages = Integer(null=True, default=None, help_text="Page count of a PDF.")
    sha256 = Varchar(length=64, help_text="Hex digest of the stored bytes.")
    uploaded_by = ForeignKey(references=User, on_delete=KEEP, null=False)
    uploaded_at = Timestamptz()
    removed_at = Timestamptz(null=True, default=None, help_text="Hidden from the page since then.")
