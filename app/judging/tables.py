"""Tables of judging: rounds, rubrics, judges, assignments, conflicts, score events, results, audit trail."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, Float, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from app.accounts.tables import User
from app.challenges.tables import Challenge
from app.submissions.tables import Submission

# Scores and the trail of who decided what are evidence: nothing here is ever deleted by cascade.
KEEP = OnDelete.restrict


class Round(Table):
    """A round of a challenge: 書類審査 (document) or ピッチ審査 (pitch), its scoring window and rules."""

    id = Serial(primary_key=True)
    challenge = ForeignKey(references=Challenge, on_delete=KEEP, null=False, index=True)
    position = Integer(help_text="1 for the first round, then 2, ...")
    kind = Varchar(length=10, help_text="document or pitch.")
    name_ja = Varchar(length=100)
    name_en = Varchar(length=100)
    opens_at = Timestamptz(null=True, default=None, help_text="Scoring window start (UTC, entered in JST).")
    closes_at = Timestamptz(null=True, default=None, help_text="Scoring window end.")
    blind = Boolean(default=False, help_text="Judges see no organization, team or identifying answer.")
    comments_required = Boolean(default=False, help_text="A scorecard is final only with a comment.")
    judges_per_submission = Integer(default=3, help_text="k for the balanced assignment.")
    advancement_rule = Varchar(
        length=10, default="top_n", help_text="top_n or threshold (an official confirms)."
    )
    advancement_value = Float(default=5.0, help_text="N, or the minimum mean score (0..100).")
    normalize = Boolean(default=False, help_text="Rank by per-judge z-scores instead of raw means.")
    hidden_field_ids = JSON(
        default="[]", help_text="Form fields an official marked identifying (blind review)."
    )
    rubric_locked_at = Timestamptz(null=True, default=None, help_text="Set when the first score is recorded.")
    advanced_at = Timestamptz(null=True, default=None, help_text="When the official confirmed who advances.")
    created_at = Timestamptz()


class Criterion(Table):
    """One criterion of a round's rubric, with its weight, scale and a descriptor per level."""

    id = Serial(primary_key=True)
    round = ForeignKey(references=Round, on_delete=KEEP, null=False, index=True)
    position = Integer(default=0)
    name_ja = Varchar(length=100)
    name_en = Varchar(length=100)
    description_ja = Text()
    description_en = Text()
    weight = Float(default=1.0, help_text="Relative weight (normalized to sum 1 when aggregating).")
    scale_min = Integer(default=1)
    scale_max = Integer(default=5)
    levels = JSON(
        default="{}", help_text='Descriptor per level: {"5": {"ja": "非常に優れている", "en": ...}}.'
    )


class RoundJudge(Table):
    """A judge invited to a round: an existing user, or an email address until the invitation is accepted."""

    id = Serial(primary_key=True)
    round = ForeignKey(references=Round, on_delete=KEEP, null=False, index=True)
    user = ForeignKey(references=User, on_delete=KEEP, null=True, index=True)
    email = Varchar(length=254, help_text="Where the invitation went (lower-cased).")
    invited_by = ForeignKey(references=User, on_delete=KEEP, null=False)
    invited_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
    removed_at = Timestamptz(
        null=True, default=None, help_text="Dropped out: their assignments are rebalanced."
    )


class Assignment(Table):
    """A judge assigned to score a submission in a round."""

    id = Serial(primary_key=True)
    round = ForeignKey(references=Round, on_delete=KEEP, null=False, index=True)
    submission = ForeignKey(references=Submission, on_delete=KEEP, null=False, index=True)
    judge = ForeignKey(references=User, on_delete=KEEP, null=False, index=True)
    assigned_by = ForeignKey(references=User, on_delete=KEEP, null=True)
    assigned_at = Timestamptz()
    removed_at = Timestamptz(null=True, default=None)


class ConflictDeclaration(Table):
    """A judge's answer about a conflict of interest with a submission, or the system's automatic flag."""

    id = Serial(primary_key=True)
    submission = ForeignKey(references=Submission, on_delete=KEEP, null=False, index=True)
    judge = ForeignKey(references=User, on_delete=KEEP, null=False, index=True)
    conflicted = Boolean()
    reason = Text()
    source = Varchar(length=10, help_text="declared or auto.")
    declared_at = Timestamptz()


class Scorecard(Table):
    """One judge's scorecard for one submission in one round: open until finalized."""

    id = Serial(primary_key=True)
    round = ForeignKey(references=Round, on_delete=KEEP, null=False, index=True)
    submission = ForeignKey(references=Submission, on_delete=KEEP, null=False, index=True)
    judge = ForeignKey(references=User, on_delete=KEEP, null=False, index=True)
    version = Integer(default=0, help_text="Bumped by every score event: a stale save is refused (409).")
    state = Varchar(length=10, default="open", help_text="open or final.")
    comment = Text(help_text="The judge's overall comment.")
    comment_shareable = Boolean(default=False, help_text="The applicant may read the comment.")
    finalized_at = Timestamptz(null=True, default=None)
    unlocked_by = ForeignKey(references=User, on_delete=KEEP, null=True)
    unlocked_at = Timestamptz(null=True, default=None)


class ScoreEvent(Table):
    """An append-only change of one criterion's score (old → new): current scores are derived from these."""

    id = Serial(primary_key=True)
    scorecard = ForeignKey(references=Scorecard, on_delete=KEEP, null=False, index=True)
    criterion = ForeignKey(references=Criterion, on_delete=KEEP, null=False)
    old_value = Float(null=True, default=None)
    new_value = Float(null=True, default=None)
    version = Integer(help_text="The scorecard's version after this event.")
    judge = ForeignKey(references=User, on_delete=KEEP, null=False)
    happened_at = Timestamptz()


class CurrentScore(Table):
    """The current value of a criterion on a scorecard: a cache of the last ScoreEvent (tests replay it)."""

    id = Serial(primary_key=True)
    scorecard = ForeignKey(references=Scorecard, on_delete=KEEP, null=False, index=True)
    criterion = ForeignKey(references=Criterion, on_delete=KEEP, null=False)
    value = Float(null=True, default=None)
    updated_at = Timestamptz()


class PitchSlot(Table):
    """A finalist's time slot on pitch day: a place or an online meeting."""

    id = Serial(primary_key=True)
    round = ForeignKey(references=Round, on_delete=KEEP, null=False, index=True)
    submission = ForeignKey(references=Submission, on_delete=KEEP, null=False)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    place = Varchar(length=200)
    meeting_url = Varchar(length=500)


class ResultProposal(Table):
    """Winners proposed by an official; public only after a second official or an admin approves."""

    id = Serial(primary_key=True)
    challenge = ForeignKey(references=Challenge, on_delete=KEEP, null=False, index=True)
    decisions = JSON(help_text='{"<submission id>": "winner" | "advanced" | "not_selected"}.')
    show_finalists = Boolean(default=False)
    note = Text()
    proposed_by = ForeignKey(references=User, on_delete=KEEP, null=False)
    proposed_at = Timestamptz()
    approved_by = ForeignKey(references=User, on_delete=KEEP, null=True)
    approved_at = Timestamptz(null=True, default=None)
    published_at = Timestamptz(null=True, default=None)
    withdrawn_at = Timestamptz(null=True, default=None)


class AuditEvent(Table):
    """An append-only, hash-chained record of a judging or publishing action (see audit.py)."""

    id = Serial(primary_key=True)
    sequence = Integer(unique=True, help_text="1, 2, 3, ... with no gaps: a deleted row breaks the chain.")
    challenge = ForeignKey(references=Challenge, on_delete=KEEP, null=True, index=True)
    actor = ForeignKey(references=User, on_delete=KEEP, null=True)
    action = Varchar(length=60)
    subject = Varchar(length=100, help_text="What it is about, e.g. scorecard:12.")
    payload = Text(help_text="Canonical JSON of the details.")
    happened_at = Timestamptz()
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64, unique=True, help_text="sha256(prev_hash + canonical event).")
