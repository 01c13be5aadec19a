"""The application form builder: officials add, edit, reorder and remove the questions of a challenge.

Once an application has been submitted the questions it answered are frozen: only new optional questions
may be added, so nobody's submitted answers silently stop matching what they were asked.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from litestar.exceptions import NotFoundException, PermissionDeniedException

from app.accounts.viewer import Viewer
from app.challenges.lifecycle import ChallengeFacts
from app.challenges.services import visible_facts
from app.submissions import policies
from app.submissions.state import FieldKind
from app.submissions.tables import Answer, FormField, Submission, SubmissionFile
from app.validation import InvalidInput
from app.web.i18n import gettext as _
from app.web.uploads import MIB

Direction = Literal["up", "down"]

TEXT_KINDS = frozenset({FieldKind.SHORT_TEXT, FieldKind.LONG_TEXT})
CHOICE_KINDS = frozenset({FieldKind.SINGLE_CHOICE, FieldKind.MULTIPLE_CHOICE})
KIND_VALUES = frozenset(kind.value for kind in FieldKind)
MAX_LABEL_CHARS = 200  # the label columns are Varchar(200)
MAX_HELP_CHARS = 2_000
MAX_CHARS_LIMIT = 100_000
MAX_CHOICES = 50
MAX_CHOICE_CHARS = 200
MAX_FILE_MB = 50
DEFAULT_FILE_MB = 20


@dataclass(frozen=True)
class FieldValues:
    """A checked question, ready to store; limits that do not apply to its kind are None."""

    kind: FieldKind
    label_ja: str
    label_en: str = ""
    help_ja: str = ""
    help_en: str = ""
    required: bool = False
    max_chars: int | None = None
    max_bytes: int | None = None
    choices: list[dict[str, str]] = field(default_factory=list)

    def columns(self) -> dict[str, Any]:
        """Column name -> value for the FormField row."""
        return {
            "kind": self.kind.value,
            "label_ja": self.label_ja,
            "label_en": self.label_en,
            "help_ja": self.help_ja,
            "help_en": self.help_en,
            "required": self.required,
            "max_chars": self.max_chars,
            "max_bytes": self.max_bytes,
            "choices": self.choices,
        }


def parse_field_form(form: Mapping[str, str]) -> FieldValues:
    """Check the builder form; every problem at once as InvalidInput, keyed by the form's field names."""
    errors: dict[str, str] = {}
    kind_text = form.get("kind", "").strip()
    kind = FieldKind(kind_text) if kind_text in KIND_VALUES else None
    if kind is None:
        errors["kind"] = _("Choose a type of question from the list.")
    texts = {name: form.get(name, "").strip() for name in ("label_ja", "label_en", "help_ja", "help_en")}
    if not texts["label_ja"]:
        errors["label_ja"] = _("Enter the question in Japanese.")
    for name in ("label_ja", "label_en"):
        if len(texts[name]) > MAX_LABEL_CHARS:
            errors[name] = _("Use at most 200 characters.")
    for name in ("help_ja", "help_en"):
        if len(texts[name]) > MAX_HELP_CHARS:
            errors[name] = _("Use at most 2,000 characters.")
    max_chars = max_bytes = None
    # Limits and choices of other kinds are ignored (the form shows every box when JavaScript is off).
    if kind in TEXT_KINDS and form.get("max_chars", "").strip():
        max_chars = whole_number(form["max_chars"])
        if max_chars is None or not 1 <= max_chars <= MAX_CHARS_LIMIT:
            errors["max_chars"] = _(
                "Enter a whole number of characters from 1 to 100,000, or leave it empty."
            )
    if kind is FieldKind.FILE:
        megabytes = whole_number(form.get("max_mb", "").strip() or str(DEFAULT_FILE_MB))
        if megabytes is None or not 1 <= megabytes <= MAX_FILE_MB:
            errors["max_mb"] = _("Enter a size in MB from 1 to 50.")
        else:
            max_bytes = megabytes * MIB
    choices: list[dict[str, str]] = []
    if kind in CHOICE_KINDS:
        choices, choice_errors = parse_choices(form.get("choices_ja", ""), form.get("choices_en", ""))
        errors.update(choice_errors)
    if errors or kind is None:
        raise InvalidInput(errors)
    return FieldValues(
        kind=kind,
        **texts,
        required=form.get("required", "") in {"1", "on", "true"},
        max_chars=max_chars,
        max_bytes=max_bytes,
        choices=choices,
    )


def parse_choices(japanese: str, english: str) -> tuple[list[dict[str, str]], dict[str, str]]:
    """One option per line; the English line matches the Japanese one by position (English is optional)."""
    ja_lines = [line.strip() for line in japanese.splitlines() if line.strip()]
    en_lines = [line.strip() for line in english.splitlines() if line.strip()]
    errors: dict[str, str] = {}
    if not ja_lines:
        errors["choices_ja"] = _("Enter the options in Japanese, one per line.")
    elif len(ja_lines) > MAX_CHOICES:
        errors["choices_ja"] = _("Use at most 50 options.")
    elif len(set(ja_lines)) != len(ja_lines):
        errors["choices_ja"] = _("Each option must be different.")
    elif any(len(line) > MAX_CHOICE_CHARS for line in ja_lines + en_lines):
        errors["choices_ja"] = _("Keep each option within 200 characters.")
    if en_lines and len(en_lines) != len(ja_lines):
        errors["choices_en"] = _(
            "Give one English line for each Japanese option, in the same order, or leave English empty."
        )
    if errors:
        return [], errors
    en_lines = en_lines or [""] * len(ja_lines)
    return [{"ja": ja, "en": en} for ja, en in zip(ja_lines, en_lines, strict=True)], {}


def whole_number(text: str) -> int | None:
    """A non-negative integer from ASCII or full-width digits (commas allowed), or None."""
    folded = unicodedata.normalize("NFKC", text).strip().replace(",", "")
    return int(folded) if re.fullmatch(r"\d{1,9}", folded) else None


async def fields_of(challenge_id: int) -> list[dict[str, Any]]:
    """The questions of a challenge in form order, choices loaded as lists of {"ja", "en"}."""
    rows: list[dict[str, Any]] = (
        await FormField.select(*FormField.all_columns())
        .where(FormField.challenge == challenge_id)
        .order_by(FormField.position, FormField.id)
        .output(load_json=True)
        .run()
    )
    return rows


async def form_is_locked(challenge_id: int) -> bool:
    """Whether someone has submitted an application: from then on existing questions are frozen."""
    locked: bool = (
        await Submission.exists()
        .where((Submission.challenge == challenge_id) & Submission.submitted_at.is_not_null())
        .run()
    )
    return locked


async def manageable_facts(user: Viewer | None, challenge_id: int) -> ChallengeFacts:
    """The challenge's facts when the user may define its form: 404 if they may not see it, else 403."""
    facts = await visible_facts(user, challenge_id)
    if not policies.can_manage_form(user, facts):
        raise PermissionDeniedException
    return facts


def locked_message() -> str:
    """Why an existing question cannot change any more."""
    return _(
        "Applications have already been submitted, so the existing questions can no longer be changed, "
        "moved or removed. You can still add optional questions."
    )


async def add_field(user: Viewer | None, challenge_id: int, values: FieldValues, *, now: datetime) -> int:
    """Append a question to the form; returns its id.

    Raises:
        NotFoundException / PermissionDeniedException: the user may not see the challenge / manage its form.
        InvalidInput: a required question asked after the first submission.
    """
    async with FormField._meta.db.transaction():
        await manageable_facts(user, challenge_id)
        if values.required and await form_is_locked(challenge_id):
            why = _("Applications have already been submitted, so a new question must be optional.")
            raise InvalidInput({"required": why})
        last = (
            await FormField.select(FormField.position)
            .where(FormField.challenge == challenge_id)
            .order_by(FormField.position, ascending=False)
            .first()
            .run()
        )
        rows = await FormField.insert(
            FormField(
                challenge=challenge_id,
                position=last["position"] + 1 if last else 0,
                created_at=now,
                **values.columns(),
            )
        ).run()
    field_id: int = rows[0]["id"]
    return field_id


async def editable_field(user: Viewer | None, challenge_id: int, field_id: int) -> dict[str, Any]:
    """The question to change, inside the caller's transaction, after every permission and lock check."""
    await manageable_facts(user, challenge_id)
    row: dict[str, Any] | None = (
        await FormField.select(FormField.id, FormField.kind, FormField.choices)
        .where((FormField.id == field_id) & (FormField.challenge == challenge_id))
        .first()
        .output(load_json=True)
        .run()
    )
    if row is None:
        raise NotFoundException
    if await form_is_locked(challenge_id):
        raise InvalidInput({"form": locked_message()})
    return row


async def has_draft_answers(field_id: int) -> bool:
    """Whether an applicant has already answered the question in a draft (text or file)."""
    answered: bool = await Answer.exists().where(Answer.field == field_id).run()
    return answered or bool(await SubmissionFile.exists().where(SubmissionFile.field == field_id).run())


async def update_field(user: Viewer | None, challenge_id: int, field_id: int, values: FieldValues) -> None:
    """Change a question (only before the first submission).

    Raises:
        NotFoundException / PermissionDeniedException: as for `add_field`, or no such question.
        InvalidInput: the form is locked, or draft answers would no longer fit (new kind, fewer options).
    """
    async with FormField._meta.db.transaction():
        row = await editable_field(user, challenge_id, field_id)
        answered = await has_draft_answers(field_id)
        # Draft answers are stored in the shape of their kind: a text answer cannot become a choice.
        if answered and row["kind"] != values.kind.value:
            why = _("Applicants have started answering this question, so its type cannot change.")
            raise InvalidInput({"kind": why})
        # Choice answers are option indexes: removing an option would point them at another one.
        if answered and len(values.choices) < len(row["choices"] or []):
            why = _("Applicants have started answering this question: options can be added, not removed.")
            raise InvalidInput({"choices_ja": why})
        columns = values.columns()
        await (
            FormField.update({getattr(FormField, name): value for name, value in columns.items()})
            .where(FormField.id == field_id)
            .run()
        )


async def move_field(user: Viewer | None, challenge_id: int, field_id: int, direction: Direction) -> None:
    """Swap a question with its neighbour above or below (nothing happens at either end).

    Raises:
        NotFoundException / PermissionDeniedException / InvalidInput: as for `update_field`.
    """
    async with FormField._meta.db.transaction():
        await editable_field(user, challenge_id, field_id)
        rows = (
            await FormField.select(FormField.id, FormField.position)
            .where(FormField.challenge == challenge_id)
            .order_by(FormField.position, FormField.id)
            .run()
        )
        order = [row["id"] for row in rows]
        here = order.index(field_id)
        there = here - 1 if direction == "up" else here + 1
        if not 0 <= there < len(order):
            return
        order[here], order[there] = order[there], order[here]
        # Renumber rather than swap two positions: equal positions (or gaps) would make a swap a no-op.
        stored = {row["id"]: row["position"] for row in rows}
        for position, moved_id in enumerate(order):
            if stored[moved_id] != position:
                await FormField.update({FormField.position: position}).where(FormField.id == moved_id).run()


async def remove_field(user: Viewer | None, challenge_id: int, field_id: int) -> None:
    """Delete a question nobody has answered yet (only before the first submission).

    Raises:
        NotFoundException / PermissionDeniedException: as for `update_field`.
        InvalidInput: the form is locked, or applicants have answered it in their drafts.
    """
    async with FormField._meta.db.transaction():
        await editable_field(user, challenge_id, field_id)
        # Answers keep their question (RESTRICT): deleting it would throw away what applicants wrote.
        if await has_draft_answers(field_id):
            why = _(
                "Applicants have started answering this question, so it cannot be removed. Edit it instead."
            )
            raise InvalidInput({"form": why})
        await FormField.delete().where(FormField.id == field_id).run()
