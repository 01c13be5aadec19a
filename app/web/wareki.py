"""Japanese era dates (和暦) such as 令和8年11月28日, which Python and Babel cannot format."""

from __future__ import annotations

from datetime import date

# First day of each era; before 1873-01-01 Japan used a lunisolar calendar this table cannot convert.
ERAS: tuple[tuple[date, str], ...] = (
    (date(2019, 5, 1), "令和"),
    (date(1989, 1, 8), "平成"),
    (date(1926, 12, 25), "昭和"),
    (date(1912, 7, 30), "大正"),
    (date(1868, 1, 25), "明治"),
)
GREGORIAN_ADOPTED = date(1873, 1, 1)


def era_year(day: date) -> tuple[str, int]:
    """The era name and year of `day`, e.g. ("令和", 8)."""
    if day < GREGORIAN_ADOPTED:
        raise ValueError("Dates before 1873-01-01 follow the lunisolar calendar")
    for start, name in ERAS:
        if day >= start:
            return name, day.year - start.year + 1
    raise AssertionError("unreachable: every date after 1873 falls in an era")


def format_wareki(day: date) -> str:
    """`day` as a Japanese era date; the first year of an era is written 元年."""
    name, year = era_year(day)
    year_text = "元" if year == 1 else str(year)
    return f"{name}{year_text}年{day.month}月{day.day}日"
