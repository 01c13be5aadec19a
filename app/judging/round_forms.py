"""The round and criterion forms of the set-up pages, checked into values ready to store."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.validation import InvalidInput
from app.web.i18n import gettext as _
from app.web.jst import format_jst_local, parse_jst_local

KINDS = ("document", "pitch")
RULES = ("top_n", "threshold")
MAX_NAME_CHARS = 100  # the name columns are Varchar(100)
MAX_DESCRIPTION_CHARS = 2_000
MAX_JUDGES_PER_SUBMISSION = 20
MAX_WEIGHT = 100.0
SCALE_LIMIT = 100  # a level descriptor per point: wider scales would not be readable
LEVEL_LINE = re.compile(r"^\s*(-?\d+)\s*[:：]\s*(.+?)\s*$")


@dataclass(frozen=True)
class RoundValues:
    """A checked round form, ready to store."""

    kind: str
    name_ja: str
    name_en: str
    opens_at: datetime | None
    closes_at: datetime | None
    blind: bool
    comments_required: bool
    normalize: bool
    judges_per_submission: int
    advancement_rule: str
    advancement_value: float


@dataclass(frozen=True)
class CriterionValues:
    """A checked criterion form, ready to store; levels map "5" to {"ja": ..., "en": ...}."""

    name_ja: str
    name_en: str
    description_ja: str
    description_en: str
    weight: float
    scale_min: int
    scale_max: int
    levels: dict[str, dict[str, str]] = field(default_factory=dict)


def folded(text: str) -> str:
    """Full-width digits and signs as ASCII (people type ５ or ０．５)."""
    return unicodedata.normalize("NFKC", text).strip().replace(",", "")


def whole(text: str) -> int | None:
    """An integer (possibly negative), or None."""
    value = folded(text)
    return int(value) if re.fullmatch(r"-?\d{1,6}", value) else None


def decimal(text: str) -> float | None:
    """A decimal number, or None."""
    value = folded(text)
    return float(value) if re.fullmatch(r"-?\d{1,6}(\.\d{1,4})?", value) else None


def checked(form: Mapping[str, str], name: str) -> bool:
    """Whether a checkbox was ticked."""
    return form.get(name, "") in {"1", "on", "true"}


def names(form: Mapping[str, str], errors: dict[str, str]) -> tuple[str, str]:
    """The Japanese (required) and English names, each within the column's length."""
    name_ja, name_en = form.get("name_ja", "").strip(), form.get("name_en", "").strip()
    if not name_ja:
        errors["name_ja"] = _("Enter the name in Japanese.")
    for key, value in (("name_ja", name_ja), ("name_en", name_en)):
        if len(value) > MAX_NAME_CHARS:
            errors[key] = _("Use at most 100 characters.")
    return name_ja, name_en


def window(form: Mapping[str, str], errors: dict[str, str]) -> tuple[datetime | None, datetime | None]:
    """The scoring window typed in JST; either end may stay open, but it must close after it opens."""
    moments: dict[str, datetime | None] = {}
    for key in ("opens_at", "closes_at"):
        text = form.get(key, "").strip()
        try:
            moments[key] = parse_jst_local(text) if text else None
        except ValueError:
            moments[key] = None
            errors[key] = _("Enter a date and time such as 2026-12-01 17:00 (JST).")
    opens, closes = moments["opens_at"], moments["closes_at"]
    if opens and closes and closes <= opens:
        errors["closes_at"] = _("The scoring window must close after it opens.")
    return opens, closes


def parse_round_form(form: Mapping[str, str]) -> RoundValues:
    """Check the round form; every problem at once as InvalidInput, keyed by the form's field names."""
    errors: dict[str, str] = {}
    kind = form.get("kind", "")
    if kind not in KINDS:
        errors["kind"] = _("Choose document screening or pitch.")
    name_ja, name_en = names(form, errors)
    opens, closes = window(form, errors)
    per_submission = whole(form.get("judges_per_submission", ""))
    if per_submission is None or not 1 <= per_submission <= MAX_JUDGES_PER_SUBMISSION:
        errors["judges_per_submission"] = _("Enter a whole number of judges from 1 to 20.")
    rule = form.get("advancement_rule", "")
    value = decimal(form.get("advancement_value", ""))
    if rule not in RULES:
        errors["advancement_rule"] = _("Choose top N or a score threshold.")
    elif rule == "top_n" and (value is None or value != int(value) or value < 1):
        errors["advancement_value"] = _("For top N, enter a whole number of 1 or more.")
    elif rule == "threshold" and (value is None or not 0 <= value <= 100):
        errors["advancement_value"] = _("For a threshold, enter a score from 0 to 100.")
    if errors:
        raise InvalidInput(errors)
    return RoundValues(
        kind=kind,
        name_ja=name_ja,
        name_en=name_en,
        opens_at=opens,
        closes_at=closes,
        blind=checked(form, "blind"),
        comments_required=checked(form, "comments_required"),
        normalize=checked(form, "normalize"),
        judges_per_submission=per_submission or 1,
        advancement_rule=rule,
        advancement_value=float(value or 0),
    )


def parse_levels(text: str, scale: range | None, key: str, errors: dict[str, str]) -> dict[int, str]:
    """Descriptor lines such as "5: 非常に優れている", one level per line, each inside the scale."""
    levels: dict[int, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        match = LEVEL_LINE.match(unicodedata.normalize("NFKC", line))
        if match is None:
            errors[key] = _(
                "Write one level per line as the score, a colon and its description: 5: Excellent"
            )
            return {}
        level = int(match.group(1))
        if level in levels:
            errors[key] = _("Describe each level only once.")
            return {}
        if scale is not None and level not in scale:
            errors[key] = _("Each described level must lie within the scale.")
            return {}
        levels[level] = match.group(2)[: MAX_NAME_CHARS * 2]
    return levels


def parse_criterion_form(form: Mapping[str, str]) -> CriterionValues:
    """Check the criterion form; every problem at once as InvalidInput, keyed by the form's field names."""
    errors: dict[str, str] = {}
    name_ja, name_en = names(form, errors)
    descriptions = {key: form.get(key, "").strip() for key in ("description_ja", "description_en")}
    for key, value in descriptions.items():
        if len(value) > MAX_DESCRIPTION_CHARS:
            errors[key] = _("Use at most 2,000 characters.")
    weight = decimal(form.get("weight", ""))
    if weight is None or not 0 < weight <= MAX_WEIGHT:
        errors["weight"] = _("Enter a weight greater than 0 and at most 100.")
    low, high = whole(form.get("scale_min", "")), whole(form.get("scale_max", ""))
    if low is None or not 0 <= low <= SCALE_LIMIT:
        errors["scale_min"] = _("Enter a whole number from 0 to 100.")
    if high is None or not 0 <= high <= SCALE_LIMIT:
        errors["scale_max"] = _("Enter a whole number from 0 to 100.")
    elif low is not None and high <= low:
        errors["scale_max"] = _("The highest score must be greater than the lowest.")
    scale = range(low, high + 1) if low is not None and high is not None and low < high else None
    japanese = parse_levels(form.get("levels_ja", ""), scale, "levels_ja", errors)
    english = parse_levels(form.get("levels_en", ""), scale, "levels_en", errors)
    if set(english) - set(japanese):
        errors["levels_en"] = _("Describe in English only levels that have a Japanese description.")
    if errors or weight is None or low is None or high is None:
        raise InvalidInput(errors)
    levels = {
        str(level): {"ja": text, "en": english.get(level, "")}
        for level, text in sorted(japanese.items(), reverse=True)
    }
    return CriterionValues(
        name_ja,
        name_en,
        descriptions["description_ja"],
        descriptions["description_en"],
        weight,
        low,
        high,
        levels,
    )


def reason_texts() -> dict[str, str]:
    """Why the system flagged a conflict, as the official reads it."""
    return {
        "member_of_applicant": _("The judge is a member of the applicant organization."),
        "same_corporate_number": _("The judge belongs to a company with the applicant's corporate number."),
    }


def round_form_values(row: Mapping[str, Any]) -> dict[str, str]:
    """The round form filled with a stored round (times in JST)."""
    values = {name: str(row[name]) for name in ("kind", "name_ja", "name_en", "advancement_rule")}
    value = row["advancement_value"]
    values.update(
        opens_at=format_jst_local(row["opens_at"]),
        closes_at=format_jst_local(row["closes_at"]),
        judges_per_submission=str(row["judges_per_submission"]),
        advancement_value=str(int(value)) if value == int(value) else str(value),
    )
    values.update({name: "1" for name in ("blind", "comments_required", "normalize") if row[name]})
    return values


def criterion_form_values(row: Mapping[str, Any]) -> dict[str, str]:
    """The criterion form filled with a stored criterion, levels one per line."""
    names = ("name_ja", "name_en", "description_ja", "description_en", "scale_min", "scale_max")
    values = {name: str(row[name]) for name in names}
    weight = row["weight"]
    values["weight"] = str(int(weight)) if weight == int(weight) else str(weight)
    levels = row["levels"] or {}
    values["levels_ja"] = "\n".join(f"{level}: {text['ja']}" for level, text in levels.items())
    values["levels_en"] = "\n".join(f"{level}: {text['en']}" for level, text in levels.items() if text["en"])
    return values
