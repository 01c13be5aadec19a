"""The authoring form turned into checked values, with a message per field in the reader's language."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.challenges.lifecycle import PHASES
from app.web.i18n import gettext as _
from app.web.jst import format_jst_local, parse_jst_local

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$")
TEXT_FIELDS = (
    "title_ja", "title_en", "summary_ja", "summary_en", "body_ja", "body_en",
    "background_ja", "background_en",
    "problem_ja", "problem_en", "outcome_ja", "outcome_en", "contact",
)  # fmt: skip
# Addresses under /challenges/ that belong to pages, not to a challenge.
RESERVED_SLUGS = frozenset({"new", "preview"})
# The column is a 32-bit integer on PostgreSQL; no PoC budget comes near two billion yen.
MAX_BUDGET_JPY = 2_000_000_000
MAX_THEMES = 8


@dataclass
class ChallengeValues:
    """Checked values ready to store (times are UTC instants)."""

    slug: str
    bureau_id: int
    texts: dict[str, str]
    eligibility: list[dict[str, str]]
    poc_budget_jpy: int
    selection_count: int
    themes: list[str]
    times: dict[str, datetime | None] = field(default_factory=dict)

    def columns(self) -> dict[str, Any]:
        """Column name -> value for the challenge row (themes are stored apart)."""
        return {
            "slug": self.slug,
            "bureau": self.bureau_id,
            **self.texts,
            "eligibility": self.eligibility,
            "poc_budget_jpy": self.poc_budget_jpy,
            "selection_count": self.selection_count,
            **self.times,
        }


def parse_challenge_form(
    form: Mapping[str, str], allowed_bureau_ids: set[int]
) -> tuple[ChallengeValues, dict[str, str]]:
    """Check every field at once; the values are meaningful only when the errors are empty."""
    errors: dict[str, str] = {}
    slug = form.get("slug", "").strip().lower()
    if not SLUG_PATTERN.match(slug) or slug in RESERVED_SLUGS:
        errors["slug"] = _("Use 3–80 lower-case letters, digits and hyphens.")
    bureau_id = parse_int(form.get("bureau", ""))
    if bureau_id is None or bureau_id not in allowed_bureau_ids:
        errors["bureau"] = _("Choose a bureau you work for.")
    texts = {name: form.get(name, "").strip() for name in TEXT_FIELDS}
    if not texts["title_ja"]:
        errors["title_ja"] = _("Enter the Japanese title.")
    elif len(texts["title_ja"]) > 200 or len(texts["title_en"]) > 200:
        errors["title_ja"] = _("Use at most 200 characters.")
    budget = parse_int(form.get("poc_budget_jpy", "0").replace(",", "").replace("，", "") or "0")
    if budget is None or not 0 <= budget <= MAX_BUDGET_JPY:
        errors["poc_budget_jpy"] = _("Enter the budget in yen as a whole number, 0 or more (e.g. 10000000).")
    selection = parse_int(form.get("selection_count", "1") or "1")
    if selection is None or not 1 <= selection <= 100:
        errors["selection_count"] = _("Enter a whole number from 1 to 100.")
    themes = sorted(
        {theme.strip() for theme in re.split(r"[,、，\n]", form.get("themes", "")) if theme.strip()}
    )
    if len(themes) > MAX_THEMES or any(len(theme) > 40 for theme in themes):
        errors["themes"] = _("Use at most 8 themes of up to 40 characters each.")
    eligibility = pair_lines(form.get("eligibility_ja", ""), form.get("eligibility_en", ""))
    if any(not condition["ja"] for condition in eligibility):
        errors["eligibility_ja"] = _("Each English condition needs its Japanese line.")
    times: dict[str, datetime | None] = {}
    for phase in PHASES:
        text = form.get(phase, "").strip()
        try:
            times[phase] = parse_jst_local(text) if text else None
        except ValueError:
            errors[phase] = _("Enter a date and time such as 2026-12-01 17:00.")
    errors.update(timeline_errors(times))
    values = ChallengeValues(
        slug=slug,
        bureau_id=bureau_id or 0,
        texts=texts,
        eligibility=eligibility,
        poc_budget_jpy=budget or 0,
        selection_count=selection or 1,
        themes=themes,
        times=times,
    )
    return values, errors


BILINGUAL_FIELDS = ("title", "summary", "body", "background", "problem", "outcome")


def translation_status(row: Mapping[str, Any]) -> dict[str, str]:
    """Per bilingual field: "ja+en", "ja" (Japanese only), or "" when both are empty."""
    status = {}
    for name in BILINGUAL_FIELDS:
        japanese, english = (str(row.get(f"{name}_{lang}") or "").strip() for lang in ("ja", "en"))
        status[name] = "ja+en" if japanese and english else ("ja" if japanese else ("en" if english else ""))
    return status


def timeline_errors(times: Mapping[str, datetime | None]) -> dict[str, str]:
    """Each phase must come after the ones before it."""
    errors: dict[str, str] = {}
    previous: datetime | None = None
    for phase in PHASES:
        moment = times.get(phase)
        if moment is None:
            continue
        if previous is not None and moment <= previous and phase not in errors:
            errors[phase] = _("This must come after the previous step of the timeline.")
        previous = moment
    return errors


def parse_int(text: str) -> int | None:
    """An integer from ASCII or full-width digits, or None."""
    folded = unicodedata.normalize("NFKC", text).strip()
    if not re.fullmatch(r"-?\d+", folded):
        return None
    return int(folded)


def pair_lines(japanese: str, english: str) -> list[dict[str, str]]:
    """One eligibility condition per line, the English line matched to the Japanese one by position."""
    ja_lines = [line.strip() for line in japanese.splitlines() if line.strip()]
    en_lines = [line.strip() for line in english.splitlines() if line.strip()]
    count = max(len(ja_lines), len(en_lines))
    ja_lines += [""] * (count - len(ja_lines))
    en_lines += [""] * (count - len(en_lines))
    return [{"ja": ja, "en": en} for ja, en in zip(ja_lines, en_lines, strict=True)]


def form_from_row(row: Mapping[str, Any], themes: list[str]) -> dict[str, str]:
    """The authoring form's values for a stored challenge."""
    values = {name: str(row.get(name) or "") for name in TEXT_FIELDS}
    eligibility = row.get("eligibility") or []
    values.update(
        slug=row["slug"],
        bureau=str(row["bureau"]),
        poc_budget_jpy=str(row["poc_budget_jpy"]),
        selection_count=str(row["selection_count"]),
        themes=", ".join(themes),
        eligibility_ja="\n".join(condition["ja"] for condition in eligibility),
        eligibility_en="\n".join(condition["en"] for condition in eligibility),
    )
    values.update({phase: format_jst_local(row.get(phase)) for phase in PHASES})
    return values
