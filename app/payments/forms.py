"""Reading the numbers and JST dates of payment forms, with one message per bad field."""

from __future__ import annotations

from datetime import UTC, datetime

from app.web.i18n import gettext as _
from app.web.jst import TOKYO


def whole_number_field(
    values: dict[str, str], name: str, minimum: int, maximum: int, errors: dict[str, str]
) -> int:
    """A whole number within bounds (commas and a trailing 円 allowed), or an error for the field."""
    text = values.get(name, "").replace(",", "").removesuffix("円").strip()
    if not text.isdigit():
        errors[name] = _("Enter a whole number.")
        return 0
    number = int(text)
    if not minimum <= number <= maximum:
        errors[name] = _("Enter a number from {minimum} to {maximum}.").format(
            minimum=f"{minimum:,}", maximum=f"{maximum:,}"
        )
    return number


def jst_datetime_field(values: dict[str, str], name: str, errors: dict[str, str]) -> datetime | None:
    """A datetime-local value read as Japan time and returned in UTC, or an error for the field."""
    text = values.get(name, "")
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        errors[name] = _("Enter a date and time.")
        return None
    if local.tzinfo is None:
        local = local.replace(tzinfo=TOKYO)
    return local.astimezone(UTC)
