"""Rules an answer must meet at submit time (pure: no I/O), so they can be tested by the thousands."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from app.submissions.state import FieldKind, count_characters
from app.web.i18n import gettext as _

NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
DEFAULT_SHORT_TEXT_MAX = 200


def normalized_number(text: str) -> str:
    """Full-width digits and separators as a Japanese keyboard types them, made plain (１，０００ → 1000)."""
    return unicodedata.normalize("NFKC", text).replace(",", "").replace(" ", "").strip()


def answer_problem(field: Mapping[str, Any], value: Any, has_file: bool) -> str | None:
    """What is wrong with `value` as the submitted answer to `field`, or None."""
    kind = FieldKind(field["kind"])
    if kind is FieldKind.FILE:
        return _("Upload the file.") if field["required"] and not has_file else None
    empty = value in (None, "", []) or (isinstance(value, str) and not value.strip())
    if empty:
        return _("This field is required.") if field["required"] else None
    if kind in (FieldKind.SHORT_TEXT, FieldKind.LONG_TEXT):
        limit = field.get("max_chars") or (DEFAULT_SHORT_TEXT_MAX if kind is FieldKind.SHORT_TEXT else None)
        length = count_characters(str(value))
        if limit and length > limit:
            return _("Use at most {limit} characters (now {length}).").format(
                limit=f"{limit:,}", length=f"{length:,}"
            )
        return None
    if kind is FieldKind.NUMBER:
        return None if NUMBER.match(normalized_number(str(value))) else _("Enter a number, such as 1200.")
    if kind is FieldKind.URL:
        parts = urlsplit(str(value).strip())
        ok = parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in str(value).strip()
        return None if ok else _("Enter a web address starting with https://.")
    choices = field.get("choices") or []
    picked = value if isinstance(value, list) else [value]
    valid = all(str(item).isdecimal() and int(str(item)) < len(choices) for item in picked)
    if not valid or (kind is FieldKind.SINGLE_CHOICE and len(picked) != 1):
        return _("Choose one of the options.")
    return None
