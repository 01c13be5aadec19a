"""The one source of the current time, so services take `now` and tests can stand anywhere."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current instant in UTC (timezone-aware)."""
    return datetime.now(UTC)
