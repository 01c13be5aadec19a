"""Municipalities: the seed of prefectures and Tokyo, the admin's import of the national list, and grants."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from piccolo.columns import Column

from app.accounts.tables import User
from app.accounts.viewer import Viewer
from app.catalog import policies
from app.catalog.codes import CodeProblem, code_problem, normalize_code
from app.catalog.tables import Municipality, MunicipalityMember
from app.validation import InvalidInput
from app.web.i18n import gettext as _

BUNDLED_CSV = Path(__file__).with_name("data") / "local-government-codes.csv"
TOKYO_PREFIX = "13"
PREFECTURE_NUMBERS = range(1, 48)
CHUNK = 200
MAX_IMPORT_BYTES = 2_000_000  # the national list is ~100 kB; anything far larger is not that list


@dataclass(frozen=True)
class MunicipalityRecord:
    """One local government as read from a list (kana already full-width)."""

    code: str
    prefecture: str
    name: str
    prefecture_kana: str
    name_kana: str

    def columns(self) -> dict[str, Any]:
        """The record as Municipality column values."""
        return {
            "code": self.code,
            "prefecture": self.prefecture,
            "name": self.name,
            "prefecture_kana": self.prefecture_kana,
            "name_kana": self.name_kana,
        }


@dataclass(frozen=True)
class Refusal:
    """A line of an imported file that was not taken, and why (a reason code; see `refusal_message`)."""

    line: int
    code: str
    reason: str


@dataclass
class ImportReport:
    """What an import did: rows added, updated, unchanged, and refused with their line numbers."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[Refusal] = field(default_factory=list)


def full_width(text: str) -> str:
    """Half-width katakana (ﾄｳｷｮｳﾄ) as full-width (トウキョウト); other text unchanged apart from spaces."""
    return unicodedata.normalize("NFKC", text).strip()


def decode_upload(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else Shift_JIS (cp932), the encoding Excel exports in Japan."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp932", errors="replace")


def parse_rows(text: str) -> tuple[list[MunicipalityRecord], list[Refusal]]:
    """Records of a list in the official format, and the lines refused (pure: no database).

    Columns: code, prefecture, name, then either one kana column (the row's own reading) or two
    (prefecture kana, name kana) as in the bundled file. A first line whose code is not a number is a header.
    """
    records: list[MunicipalityRecord] = []
    refused: list[Refusal] = []
    seen: set[str] = set()
    for line, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [cell.strip() for cell in cells]
        if not any(cells):
            continue
        if line == 1 and not any(ch.isascii() and ch.isdecimal() for ch in normalize_code(cells[0])):
            continue  # a header: its first cell holds no digit
        raw_code = cells[0]
        if len(cells) not in (4, 5):
            refused.append(Refusal(line, raw_code, "column_count"))
            continue
        problem = code_problem(raw_code)
        if problem is not None:
            refused.append(Refusal(line, raw_code, problem.value))
            continue
        code = normalize_code(raw_code)
        if int(code[:2]) not in PREFECTURE_NUMBERS:
            refused.append(Refusal(line, code, "unknown_prefecture_number"))
            continue
        prefecture, name = full_width(cells[1]), full_width(cells[2])
        if not prefecture:
            refused.append(Refusal(line, code, "missing_prefecture"))
            continue
        if code in seen:
            refused.append(Refusal(line, code, "duplicate_code"))
            continue
        if len(cells) == 5:
            prefecture_kana, name_kana = full_width(cells[3]), full_width(cells[4])
        else:
            # One kana column reads the row itself: the prefecture's on its own row, the city's otherwise.
            prefecture_kana, name_kana = (
                (full_width(cells[3]), "") if not name else ("", full_width(cells[3]))
            )
        seen.add(code)
        records.append(MunicipalityRecord(code, prefecture, name, prefecture_kana, name_kana))
    return records, refused


def refusal_message(reason: str) -> str:
    """Why a line was refused, in the reader's language."""
    messages = {
        CodeProblem.NOT_SIX_DIGITS.value: _("The code is not six digits."),
        CodeProblem.WRONG_CHECK_DIGIT.value: _("The check digit (the sixth digit) is wrong."),
        "column_count": _("A line needs 4 or 5 columns: code, prefecture, name, kana."),
        "unknown_prefecture_number": _("The first two digits are not a prefecture number (01–47)."),
        "missing_prefecture": _("The prefecture is missing."),
        "duplicate_code": _("This code appears earlier in the file."),
    }
    return messages.get(reason, reason)


async def apply_records(records: Sequence[MunicipalityRecord], *, keep_kana: bool = False) -> ImportReport:
    """Insert new codes and update changed ones, in one transaction (all or nothing).

    `keep_kana` keeps readings already stored when the incoming ones are empty (a list without kana).
    """
    report = ImportReport()
    async with Municipality._meta.db.transaction():
        existing = {
            row["code"]: row
            for row in await Municipality.select(*Municipality.all_columns())
            .where(Municipality.code.is_in([record.code for record in records] or [""]))
            .run()
        }
        new: list[Municipality] = []
        for record in records:
            stored = existing.get(record.code)
            if stored is None:
                new.append(Municipality(**record.columns()))
                continue
            values = record.columns()
            if keep_kana:
                for kana in ("prefecture_kana", "name_kana"):
                    values[kana] = values[kana] or stored[kana]
            changes: dict[Column | str, Any] = {
                key: value for key, value in values.items() if stored[key] != value
            }
            if not changes:
                report.unchanged += 1
                continue
            await Municipality.update(changes).where(Municipality.id == stored["id"]).run()
            report.updated += 1
        for start in range(0, len(new), CHUNK):
            await Municipality.insert(*new[start : start + CHUNK]).run()
        report.added = len(new)
    return report


async def import_municipalities(user: Viewer | None, raw: bytes) -> ImportReport:
    """An admin's import of a list file: valid rows saved, invalid ones reported with their lines."""
    if not policies.can_manage_municipalities(user):
        raise InvalidInput({"file": _("Only administrators import municipalities.")})
    if len(raw) > MAX_IMPORT_BYTES:
        raise InvalidInput({"file": _("The file is too large for a list of municipalities.")})
    records, refused = parse_rows(decode_upload(raw))
    if not records and not refused:
        raise InvalidInput({"file": _("The file has no rows.")})
    report = await apply_records(records, keep_kana=True)
    report.refused = refused
    return report


def bundled_seed_records() -> list[MunicipalityRecord]:
    """The 47 prefectures and Tokyo's municipalities from the bundled national list."""
    records, _refused = parse_rows(BUNDLED_CSV.read_text(encoding="utf-8"))
    return [record for record in records if not record.name or record.code.startswith(TOKYO_PREFIX)]


async def seed_municipalities() -> ImportReport:
    """Load the prefectures and Tokyo's 区市町村; running it again changes nothing (idempotent)."""
    return await apply_records(bundled_seed_records())


async def grant_official(admin: Viewer | None, email: str, code: str, *, now: datetime) -> tuple[str, str]:
    """Make the user with `email` an official of the municipality `code`; returns (email, municipality name).

    Raises:
        InvalidInput: not an admin, no such user or municipality, a bad code, or already granted.
    """
    if admin is None or not policies.can_manage_municipalities(admin):
        raise InvalidInput({"form": _("Only administrators grant municipality officials.")})
    errors: dict[str, str] = {}
    problem = code_problem(code)
    if problem is CodeProblem.WRONG_CHECK_DIGIT:
        errors["code"] = _("The check digit (the sixth digit) is wrong.")
    elif problem is not None:
        errors["code"] = _("Enter the six-digit local government code.")
    address = email.strip().lower()
    if not address:
        errors["email"] = _("Enter the user's email address.")
    if errors:
        raise InvalidInput(errors)
    async with MunicipalityMember._meta.db.transaction():
        user = await User.select(User.id).where(User.email == address).first().run()
        municipality = await municipality_by_code(code)
        if user is None:
            errors["email"] = _("No user has this email address.")
        if municipality is None:
            errors["code"] = _("No municipality has this code. Import the national list first.")
        if errors or user is None or municipality is None:
            raise InvalidInput(errors)
        already = await MunicipalityMember.exists().where(
            (MunicipalityMember.user == user["id"]) & (MunicipalityMember.municipality == municipality["id"])
        )
        if already:
            raise InvalidInput({"email": _("This user is already an official of this municipality.")})
        await MunicipalityMember.insert(
            MunicipalityMember(
                municipality=municipality["id"], user=user["id"], granted_by=admin.id, granted_at=now
            )
        ).run()
    return address, display_name(municipality)


async def municipality_by_code(code: str) -> dict[str, Any] | None:
    """The municipality with this code (typed in any width), or None."""
    row: dict[str, Any] | None = (
        await Municipality.select(*Municipality.all_columns())
        .where(Municipality.code == normalize_code(code))
        .first()
        .run()
    )
    return row


def display_name(municipality: dict[str, Any]) -> str:
    """東京都 for a prefecture's own row, 東京都 千代田区 for a municipality."""
    return " ".join(part for part in (municipality["prefecture"], municipality["name"]) if part)


async def recent_grants(limit: int = 50) -> list[dict[str, Any]]:
    """The latest officials granted, newest first (the admin page's list)."""
    rows: list[dict[str, Any]] = (
        await MunicipalityMember.select(
            MunicipalityMember.granted_at,
            MunicipalityMember.user.email.as_alias("email"),
            MunicipalityMember.municipality.code.as_alias("code"),
            MunicipalityMember.municipality.prefecture.as_alias("prefecture"),
            MunicipalityMember.municipality.name.as_alias("name"),
        )
        .order_by(MunicipalityMember.id, ascending=False)
        .limit(limit)
        .run()
    )
    return rows


async def municipality_count() -> int:
    """How many local governments are known."""
    return int(await Municipality.count().run())


def refusals_for_display(refused: Iterable[Refusal]) -> list[dict[str, Any]]:
    """Refused lines with their messages, for the report table."""
    return [
        {"line": item.line, "code": item.code, "reason": refusal_message(item.reason)} for item in refused
    ]


async def municipalities_of(ids: Iterable[int]) -> list[dict[str, Any]]:
    """The municipalities a user acts for (ids from facts.member_municipalities), for a form's choice."""
    wanted = list(ids)
    if not wanted:
        return []
    rows: list[dict[str, Any]] = (
        await Municipality.select(
            Municipality.id, Municipality.code, Municipality.prefecture, Municipality.name
        )
        .where(Municipality.id.is_in(wanted))
        .order_by(Municipality.code)
        .run()
    )
    return rows
