"""What judges see: their dashboard, and the one place a submission is assembled for a judge (blind-safe)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from app.accounts.tables import Organization
from app.accounts.viewer import Viewer
from app.judging.policies import can_read_as_judge, can_score
from app.judging.scorecards import JudgeContext, judge_context, scorecard_row
from app.judging.tables import Assignment, ConflictDeclaration, Criterion, CurrentScore, Scorecard
from app.submissions.tables import FormField, Submission, SubmissionFile, SubmissionVersion

REDACTED = "■■■"
# Shorter identifying strings (a two-letter display name) would blank out ordinary words in the answers.
MIN_REDACTED_CHARS = 3


# Built once: Piccolo's foreign-key column chains cost a few milliseconds to construct on every call.
DASHBOARD_COLUMNS = (
    Assignment.id,
    Assignment.round,
    Assignment.submission,
    Assignment.submission.receipt_number.as_alias("receipt_number"),
    Assignment.submission.organization.as_alias("organization"),
    Assignment.submission._.organization._.corporate_number.as_alias("corporate_number"),
    Assignment.round.position.as_alias("round_position"),
    Assignment.round.name_ja.as_alias("round_name_ja"),
    Assignment.round.name_en.as_alias("round_name_en"),
    Assignment.round.opens_at.as_alias("opens_at"),
    Assignment.round.closes_at.as_alias("closes_at"),
    Assignment.round._.challenge._.title_ja.as_alias("challenge_title_ja"),
    Assignment.round._.challenge._.title_en.as_alias("challenge_title_en"),
)


async def judge_dashboard(user: Viewer) -> list[dict[str, Any]]:
    """Each round the judge is assigned in, with progress and its submissions, pending first (3–4 queries)."""
    assignments = await (
        Assignment.select(*DASHBOARD_COLUMNS)
        .where((Assignment.judge == user.id) & Assignment.removed_at.is_null())
        .order_by(Assignment.round)
        .order_by(Assignment.id)
        .run()
    )  # fmt: skip
    if not assignments:
        return []
    cards = {
        (row["round"], row["submission"]): row["state"]
        for row in await Scorecard.select(Scorecard.round, Scorecard.submission, Scorecard.state)
        .where(Scorecard.judge == user.id)
        .run()
    }
    declarations: dict[int, bool] = {}
    for row in await (
        ConflictDeclaration.select(ConflictDeclaration.submission, ConflictDeclaration.conflicted)
        .where(ConflictDeclaration.judge == user.id)
        .run()
    ):
        declarations[row["submission"]] = declarations.get(row["submission"], False) or row["conflicted"]
    # facts.automatic_conflict applied in bulk for display; it is recorded when the judge first opens one.
    own_numbers: set[str] = set()
    if user.memberships:
        own_numbers = {
            row["corporate_number"]
            for row in await Organization.select(Organization.corporate_number)
            .where(Organization.id.is_in(list(user.memberships)))
            .run()
        }
    rounds: dict[int, dict[str, Any]] = {}
    for row in assignments:
        entry = rounds.setdefault(
            row["round"], {**row, "id": row["round"], "items": [], "done": 0, "conflicts": 0}
        )
        auto = row["organization"] in user.memberships or row["corporate_number"] in own_numbers
        if declarations.get(row["submission"]) or auto:
            state = "conflict"
            entry["conflicts"] += 1
        elif row["submission"] not in declarations:
            state = "declare"
        else:
            state = cards.get((row["round"], row["submission"]), "open")
        entry["done"] += state == "final"
        entry["items"].append(
            {"submission": row["submission"], "receipt_number": row["receipt_number"], "state": state}
        )
    order = {"declare": 0, "open": 0, "final": 1, "conflict": 2}
    for entry in rounds.values():
        entry["items"].sort(key=lambda item: order[item["state"]])
        entry["total"] = len(entry["items"]) - entry["conflicts"]
    return sorted(rounds.values(), key=lambda entry: (entry["closes_at"] is None, entry["closes_at"] or 0))


def redactor(secrets: list[str]) -> Any:
    """A function that replaces every identifying string (longest first) in a text."""
    words = sorted({s for s in secrets if s and len(s) >= MIN_REDACTED_CHARS}, key=len, reverse=True)

    def redact(text: str) -> str:
        for word in words:
            text = text.replace(word, REDACTED)
        return text

    return redact


def shown_answer(field: dict[str, Any] | None, kind: str, value: Any, locale: str) -> str:
    """An answer as text: the chosen options' labels for a choice field, the value otherwise."""
    if value is None or value == "" or value == []:
        return ""
    choices = (field or {}).get("choices") or []
    if kind in ("single_choice", "multiple_choice"):
        picked = value if isinstance(value, list) else [value]
        labels = []
        for index in picked:
            position = int(index) if str(index).isdecimal() else -1
            choice = choices[position] if 0 <= position < len(choices) else {"ja": str(index)}
            labels.append(choice.get(locale) or choice.get("ja") or "")
        return ", ".join(labels)
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


async def judge_view(
    user: Viewer | None, round_id: int, submission_id: int, *, now: datetime, locale: str = "ja"
) -> dict[str, Any]:
    """Everything a judge may see of one submission; the only place judge-facing submission data is built.

    Before the conflict question is answered: the receipt number and the organization (none when blind).
    After "no conflict": the latest submitted version's answers and files beside the rubric and the judge's
    own scores. Blind rounds drop the organization, team and hidden fields, scrub identifying strings from
    the answers, and name files neutrally. Raises NotFoundException as `judge_context` does.
    """
    context: JudgeContext = await judge_context(user, round_id, submission_id, now)
    round_row = context.round
    blind = bool(round_row["blind"])
    submission = await (
        Submission.select(
            Submission.id, Submission.receipt_number,
            Submission.organization.name_ja.as_alias("organization_ja"),
            Submission.organization.name_en.as_alias("organization_en"),
        )
        .where(Submission.id == submission_id)
        .first()
        .run()
    )  # fmt: skip
    view: dict[str, Any] = {
        "round": round_row,
        "access": context.access,
        "blind": blind,
        "submission_id": submission_id,
        "receipt_number": submission["receipt_number"] if submission else None,
        "organization": None if blind or submission is None else
        {"name_ja": submission["organization_ja"], "name_en": submission["organization_en"]},
        "stage": "question",
    }  # fmt: skip
    if not can_read_as_judge(user, context.access):
        return view
    assert user is not None  # noqa: S101 (can_read_as_judge is false without a user)
    version = await (
        SubmissionVersion.select(SubmissionVersion.content)
        .where(SubmissionVersion.submission == submission_id)
        .order_by(SubmissionVersion.number, ascending=False)
        .first()
        .output(load_json=True)
        .run()
    )
    content: dict[str, Any] = version["content"] if version else {}
    if isinstance(content, str):
        content = json.loads(content)
    hidden = {str(field_id) for field_id in (round_row.get("hidden_field_ids") or [])} if blind else set()
    fields = {
        str(row["id"]): row
        for row in await FormField.select(
            FormField.id, FormField.kind, FormField.label_ja, FormField.label_en, FormField.choices
        )
        .where(FormField.challenge == round_row["challenge"])
        .output(load_json=True)
        .run()
    }
    team = content.get("team") or []
    secrets = [
        *(str(submission[key] or "") for key in ("organization_ja", "organization_en") if submission),
        *(str(member.get(key) or "") for member in team for key in ("display_name", "email")),
    ]
    redact = redactor(secrets) if blind else (lambda text: text)
    answers = []
    for key, answer in (content.get("answers") or {}).items():
        field = fields.get(key)
        if key in hidden or answer.get("kind") == "file":
            continue
        label = (
            (field or {}).get(f"label_{locale}")
            or (field or {}).get("label_ja")
            or answer.get("label_ja", "")
        )
        answers.append(
            {
                "label": label,
                "text": redact(shown_answer(field, answer.get("kind", ""), answer.get("value"), locale)),
            }
        )
    stored = [item for item in content.get("files") or [] if str(item.get("field")) not in hidden]
    ids = {}
    if stored:
        ids = {
            row["stored_name"]: row["id"]
            for row in await SubmissionFile.select(SubmissionFile.id, SubmissionFile.stored_name)
            .where(
                (SubmissionFile.submission == submission_id)
                & SubmissionFile.stored_name.is_in([f["stored_name"] for f in stored])
            )
            .run()
        }
    assignment = await (
        Assignment.select(Assignment.id)
        .where(
            (Assignment.round == round_id)
            & (Assignment.submission == submission_id)
            & (Assignment.judge == user.id)
        )
        .first()
        .run()
    )
    assignment_id = assignment["id"] if assignment else 0
    files = [
        {
            "id": ids[item["stored_name"]],
            "field": item["field"],
            "label": (fields.get(str(item["field"])) or {}).get(f"label_{locale}")
            or (fields.get(str(item["field"])) or {}).get("label_ja", ""),
            "name": f"submission-{assignment_id}-{item['field']}.pdf" if blind else item["display_name"],
            "stored_name": item["stored_name"],
            "pages": item.get("pages"),
        }
        for item in stored
        if item["stored_name"] in ids
    ]
    criteria = await (
        Criterion.select()
        .where(Criterion.round == round_id)
        .order_by(Criterion.position)
        .order_by(Criterion.id)
        .output(load_json=True)
        .run()
    )
    card = await scorecard_row(round_id, submission_id, user.id)
    scores: dict[int, float | None] = {}
    if card is not None:
        scores = {
            row["criterion"]: row["value"]
            for row in await CurrentScore.select(CurrentScore.criterion, CurrentScore.value)
            .where(CurrentScore.scorecard == card["id"])
            .run()
        }
    view.update(
        stage="scorecard",
        summary=redact(str(content.get("summary") or "")),
        answers=answers,
        files=files,
        team=[] if blind else [member.get("display_name", "") for member in team],
        criteria=criteria,
        scores={key: int(value) for key, value in scores.items() if value is not None},
        scorecard=card or {"version": 0, "state": "open", "comment": "", "comment_shareable": False},
        can_score=can_score(user, context.access, now),
    )
    return view
