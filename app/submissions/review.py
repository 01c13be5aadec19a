"""What a bureau's officials see of their challenge's applications: counts, rows, versions, diffs, exports."""

from __future__ import annotations

import csv
import io
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Count

from app.submissions.diff import answer_text, choices_by_field
from app.submissions.state import FieldKind, SubmissionStatus
from app.submissions.tables import FormField, Submission, SubmissionFile, SubmissionVersion
from app.web.i18n import gettext as _
from app.web.jst import TOKYO

# Once submitted, an application stays in exports whatever the judging decides; drafts never submitted and
# withdrawn ones do not (they are listed in the table only).
EXPORTED_STATUSES = frozenset(SubmissionStatus) - {SubmissionStatus.DRAFT, SubmissionStatus.WITHDRAWN}
SEARCH_MAX_CHARS = 100
# Excel runs a cell starting like this as a formula: an applicant's text must never do that (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_CELL_MAX_CHARS = 32_767
UNSAFE_IN_ENTRY = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
# Piccolo selects the main table by its own name, so the subquery can refer to the outer row.
LATEST_VERSION_ONLY = WhereRaw(
    '"submission_version"."number" = (SELECT MAX(later."number") FROM "submission_version" later'
    ' WHERE later."submission" = "submission_version"."submission")'
)
# The escape character is named (SQLite has no default, PostgreSQL's is a backslash): % and _ stay literal.
LIKE_ESCAPE = "!"
ORGANIZATION_OR_RECEIPT_MATCHES = (
    "(submission.organization IN (SELECT id FROM organization"
    " WHERE lower(name_ja) LIKE {} ESCAPE '!' OR lower(name_en) LIKE {} ESCAPE '!')"
    " OR lower(submission.receipt_number) LIKE {} ESCAPE '!')"
)


@dataclass(frozen=True)
class ReviewFilters:
    """The table's filters, from the query string; unknown values are ignored (bookmarks age)."""

    status: SubmissionStatus | None = None
    search: str = ""

    @classmethod
    def from_query(cls, status: str | None, search: str | None) -> ReviewFilters:
        """Filters from `?status=...&q=...`."""
        known = {member.value for member in SubmissionStatus}
        return cls(
            status=SubmissionStatus(status) if status in known else None,
            search=(search or "").strip()[:SEARCH_MAX_CHARS],
        )


def like_pattern(text: str) -> str:
    """A case-insensitive LIKE pattern matching `text` anywhere, its wildcards taken literally."""
    escaped = "".join(f"{LIKE_ESCAPE}{char}" if char in "!%_" else char for char in text.lower())
    return f"%{escaped}%"


async def status_counts(challenge_id: int) -> dict[str, int]:
    """How many applications are in each status (every status listed, zeros included), and the total."""
    rows = await (
        Submission.select(Submission.status, Count())
        .where(Submission.challenge == challenge_id)
        .group_by(Submission.status)
        .run()
    )
    counts = {member.value: 0 for member in SubmissionStatus}
    counts.update({row["status"]: row["count"] for row in rows})
    counts["total"] = sum(row["count"] for row in rows)
    return counts


async def application_rows(challenge_id: int, filters: ReviewFilters) -> list[dict[str, Any]]:
    """The challenge's applications matching the filters, by receipt number (drafts last), two queries."""
    query = Submission.select(
        Submission.id,
        Submission.status,
        Submission.receipt_number,
        Submission.submitted_at,
        Submission.updated_at,
        Submission.organization.name_ja,
        Submission.organization.name_en,
    ).where(Submission.challenge == challenge_id)
    if filters.status is not None:
        query = query.where(Submission.status == filters.status.value)
    if filters.search:
        pattern = like_pattern(filters.search)
        query = query.where(WhereRaw(ORGANIZATION_OR_RECEIPT_MATCHES, pattern, pattern, pattern))
    rows: list[dict[str, Any]] = await query.run()
    versions = await (
        SubmissionVersion.select(SubmissionVersion.submission, Count())
        .where(SubmissionVersion.submission.challenge == challenge_id)
        .group_by(SubmissionVersion.submission)
        .run()
    )
    counts = {row["submission"]: row["count"] for row in versions}
    for row in rows:
        row["versions"] = counts.get(row["id"], 0)
    rows.sort(key=lambda row: (row["receipt_number"] is None, row["receipt_number"] or "", row["id"]))
    return rows


async def application_detail(challenge_id: int, submission_id: int) -> dict[str, Any] | None:
    """One application of the challenge with every version (oldest first), or None."""
    submission = await (
        Submission.select(
            *Submission.all_columns(exclude=[Submission.summary]),  # a draft's text is not the bureau's
            *(Submission.organization._.name_ja, Submission.organization._.name_en),
            Submission.organization._.corporate_number,
        )
        .where((Submission.id == submission_id) & (Submission.challenge == challenge_id))
        .first()
        .run()
    )
    if submission is None:
        return None
    versions = await (
        SubmissionVersion.select(
            SubmissionVersion.number,
            SubmissionVersion.content,
            SubmissionVersion.submitted_at,
            SubmissionVersion.submitted_by.display_name,
        )
        .where(SubmissionVersion.submission == submission_id)
        .order_by(SubmissionVersion.number)
        .output(load_json=True)
        .run()
    )
    # A version names its files by stored name; the download link needs the row id.
    file_ids = {
        row["stored_name"]: row["id"]
        for row in await SubmissionFile.select(SubmissionFile.id, SubmissionFile.stored_name)
        .where(SubmissionFile.submission == submission_id)
        .run()
    }
    fields = await form_fields(challenge_id)
    return {"submission": submission, "versions": versions, "file_ids": file_ids, "fields": fields}


async def form_fields(challenge_id: int) -> list[dict[str, Any]]:
    """The challenge's form fields in form order."""
    rows: list[dict[str, Any]] = await (
        FormField.select(FormField.id, FormField.kind, FormField.label_ja, FormField.choices)
        .where(FormField.challenge == challenge_id)
        .order_by(FormField.position)
        .order_by(FormField.id)
        .output(load_json=True)
        .run()
    )
    return rows


async def latest_versions(challenge_id: int) -> list[dict[str, Any]]:
    """The latest version of every exported application, by receipt number (one query)."""
    rows: list[dict[str, Any]] = await (
        SubmissionVersion.select(
            SubmissionVersion.submission,
            SubmissionVersion.content,
            SubmissionVersion.submitted_at,
            SubmissionVersion.submission.receipt_number,
            SubmissionVersion.submission.status,
            SubmissionVersion.submission._.organization._.name_ja,
        )
        .where(
            (SubmissionVersion.submission.challenge == challenge_id)
            & SubmissionVersion.submission.status.is_in(sorted(EXPORTED_STATUSES))
            & LATEST_VERSION_ONLY
        )
        .order_by(SubmissionVersion.submission.receipt_number)
        .output(load_json=True)
        .run()
    )
    return rows


def status_name(status: str) -> str:
    """A status as the pages name it (the same words as templates/submissions/_status_name.html)."""
    names = {
        "draft": _("Draft"),
        "submitted": _("Submitted"),
        "withdrawn": _("Withdrawn"),
        "advanced": _("Advanced"),
        "not_selected": _("Not selected"),
        "winner": _("Selected"),
    }
    return names.get(status, status)


async def export_table(challenge_id: int) -> list[list[str]]:
    """The header and one row per submitted application: its latest version's answers, one column each."""
    fields = await form_fields(challenge_id)
    choices = choices_by_field(fields)
    header = [_("Receipt number"), _("Organization"), _("Status"), _("Submitted at (JST)"), _("Summary")]
    table = [header + [field["label_ja"] for field in fields]]
    for version in await latest_versions(challenge_id):
        content = version["content"]
        answers = content.get("answers", {})
        cells = [
            version["submission.receipt_number"] or "",
            version["submission.organization.name_ja"] or "",
            status_name(version["submission.status"]),
            version["submitted_at"].astimezone(TOKYO).strftime("%Y-%m-%d %H:%M"),
            content.get("summary", ""),
        ]
        for field in fields:
            key = str(field["id"])
            if field["kind"] == FieldKind.FILE.value:
                names = [
                    file["display_name"] for file in content.get("files", []) if str(file["field"]) == key
                ]
                cells.append("、".join(names))
            else:
                cells.append(answer_text(answers.get(key), choices.get(key, ())))
        # Excel breaks lines inside a cell on LF; a CR would show as a stray character.
        table.append([cell.replace("\r\n", "\n").replace("\r", "\n") for cell in cells])
    return table


def csv_safe(text: str) -> str:
    """Text Excel shows as text: a leading formula character is quoted away."""
    return f"'{text}" if text.startswith(FORMULA_START) else text


def csv_bytes(table: Sequence[Sequence[str]]) -> bytes:
    """UTF-8 with a byte order mark (so Excel reads Japanese correctly), CRLF rows, formulas neutralized."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([csv_safe(cell) for cell in row] for row in table)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(table: Sequence[Sequence[str]], sheet_title: str) -> bytes:
    """One sheet with the same cells as the CSV, every cell stored as text (never as a formula)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(
        title=UNSAFE_IN_ENTRY.sub("", sheet_title).replace("[", "").replace("]", "")[:31]
    )
    for row in table:
        cells = []
        for text in row:
            cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", text)[:XLSX_CELL_MAX_CHARS])
            cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def entry_name(receipt: str, display_name: str, taken: set[str]) -> str:
    """`<receipt>/<display name>` safe inside a ZIP (no folders, no control characters), unique."""
    clean = (
        UNSAFE_IN_ENTRY.sub("_", unicodedata.normalize("NFC", display_name)).strip().lstrip(".") or "file.pdf"
    )
    stem, dot, suffix = clean.rpartition(".")
    name, counter = f"{receipt}/{clean}", 2
    while name in taken:
        name = f"{receipt}/{stem} ({counter}).{suffix}" if dot else f"{receipt}/{clean} ({counter})"
        counter += 1
    taken.add(name)
    return name


async def deck_entries(challenge_id: int, folder: Path) -> list[tuple[str, Path]]:
    """(entry name, stored file) of every file in the latest version of each submitted application."""
    entries: list[tuple[str, Path]] = []
    taken: set[str] = set()
    for version in await latest_versions(challenge_id):
        receipt = version["submission.receipt_number"] or str(version["submission"])
        for file in version["content"].get("files", []):
            # The stored name is ours (random hex); its last part alone keeps the path inside the folder.
            path = folder / Path(str(file["stored_name"])).name
            entries.append((entry_name(receipt, str(file["display_name"]), taken), path))
    return entries


def write_zip(entries: Sequence[tuple[str, Path]]) -> IO[bytes]:
    """The files in an anonymous temporary file (gone once closed), copied in chunks, not held in memory."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (the caller streams it, then closes it)
    try:
        # PDFs are compressed already: storing them saves the CPU for nothing lost.
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as archive:
            for name, path in entries:
                if path.is_file():
                    archive.write(path, arcname=name)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool
