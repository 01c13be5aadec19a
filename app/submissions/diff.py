"""Comparing versions of an application, and answers as text: pure functions, no I/O."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from app.submissions.state import FieldKind

CHOICE_KINDS = frozenset({FieldKind.SINGLE_CHOICE.value, FieldKind.MULTIPLE_CHOICE.value})


def choices_by_field(fields: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, str]]]:
    """Each choice field's options, keyed like a version's answers (field id as text)."""
    return {
        str(field["id"]): list(field["choices"] or []) for field in fields if field["kind"] in CHOICE_KINDS
    }


def answer_text(answer: Mapping[str, Any] | None, choices: Sequence[Mapping[str, str]] = ()) -> str:
    """A frozen answer as one text: choices by their Japanese label, lists joined, nothing as ''."""
    value = answer.get("value") if answer else None
    if value is None:
        return ""
    picked = value if isinstance(value, list) else [value]
    if answer and answer.get("kind") in CHOICE_KINDS:
        labels = []
        for item in picked:
            index = int(str(item)) if str(item).isdecimal() else -1
            labels.append(choices[index].get("ja", str(item)) if 0 <= index < len(choices) else str(item))
        return "、".join(labels)
    return "、".join(str(item) for item in picked)


@dataclass(frozen=True)
class DiffLine:
    """One line of a diff: kept, added by the newer version, or removed from the older."""

    kind: Literal["same", "added", "removed"]
    text: str


@dataclass(frozen=True)
class DiffSection:
    """What changed in one part of an application; `label` is the question's Japanese label for answers."""

    part: Literal["summary", "answer", "files", "team"]
    label: str
    lines: tuple[DiffLine, ...]


NDIFF_KINDS: dict[str, Literal["same", "added", "removed"]] = {"  ": "same", "+ ": "added", "- ": "removed"}


def line_diff(old: str, new: str) -> tuple[DiffLine, ...]:
    """Line by line, as difflib sees it (its '?' hint lines dropped: the page marks whole lines)."""
    return tuple(
        DiffLine(NDIFF_KINDS[line[:2]], line[2:])
        for line in difflib.ndiff(old.splitlines(), new.splitlines())
        if line[:2] in NDIFF_KINDS
    )


def version_diff(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    choices: Mapping[str, Sequence[Mapping[str, str]]] | None = None,
) -> list[DiffSection]:
    """The parts that differ between two versions' content (summary, each answer, files, team), in order."""
    choices = choices or {}
    sections: list[DiffSection] = []
    if old.get("summary", "") != new.get("summary", ""):
        sections.append(DiffSection("summary", "", line_diff(old.get("summary", ""), new.get("summary", ""))))
    old_answers, new_answers = old.get("answers", {}), new.get("answers", {})
    # A question added after the older version counts as unanswered there; a removed one stays visible.
    for key in [*new_answers, *(key for key in old_answers if key not in new_answers)]:
        field_choices = choices.get(key, ())
        before = answer_text(old_answers.get(key), field_choices)
        after = answer_text(new_answers.get(key), field_choices)
        if before != after:
            label = (new_answers.get(key) or old_answers.get(key) or {}).get("label_ja", key)
            sections.append(DiffSection("answer", label, line_diff(before, after)))
    labels = {key: answer.get("label_ja", key) for key, answer in {**old_answers, **new_answers}.items()}
    files = files_diff(old.get("files", []), new.get("files", []), labels)
    if any(line.kind != "same" for line in files):
        sections.append(DiffSection("files", "", files))
    if team_text(old) != team_text(new):
        sections.append(DiffSection("team", "", line_diff(team_text(old), team_text(new))))
    return sections


def files_diff(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]], labels: Mapping[str, str]
) -> tuple[DiffLine, ...]:
    """Files compared by content (SHA-256): a renamed identical file is kept, a re-upload is a change."""
    new_hashes = {file["sha256"] for file in new}
    old_hashes = {file["sha256"] for file in old}
    lines = [DiffLine("removed", file_line(file, labels)) for file in old if file["sha256"] not in new_hashes]
    lines += [
        DiffLine("same" if file["sha256"] in old_hashes else "added", file_line(file, labels)) for file in new
    ]
    return tuple(lines)


def file_line(file: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    """A file as a diff line: its question, name, pages and the start of its hash."""
    label = labels.get(str(file.get("field")), "")
    return f"{label}: {file['display_name']} ({file.get('pages') or '?'}p, SHA-256 {file['sha256'][:16]})"


def team_text(content: Mapping[str, Any]) -> str:
    """The team, one member a line."""
    return "\n".join(f"{member['display_name']} <{member['email']}>" for member in content.get("team", []))
