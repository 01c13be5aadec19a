"""Japan time for forms: `<input type="datetime-local">` values are JST; the database holds UTC instants."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")


def parse_jst_local(text: str) -> datetime:
    """'2026-12-01T17:00' typed in Japan time -> the UTC instant (raises ValueError when malformed)."""
    local = datetime.fromisoformat(text.strip())
    if local.tzinfo is not None:
        raise ValueError("expected a local date and time without an offset")
    return local.replace(tzinfo=TOKYO).astimezone(UTC)


def format_jst_local(moment: datetime | None) -> str:
    """The UTC instant as the value of a datetime-local input, in Japan time."""
    if moment is None:
        return ""
    return moment.astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M")
