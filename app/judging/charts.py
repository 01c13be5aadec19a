"""Score distributions drawn as an accessible, server-rendered SVG box plot (no script, no external fonts).

Each group (a judge, a criterion) is one row: whiskers from the lowest to the highest value, a box from the
first to the third quartile, and the median. `<title>` and `<desc>` give screen readers the numbers.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence

CHART_WIDTH, CHART_LABEL_WIDTH, CHART_ROW_HEIGHT, CHART_TOP, CHART_AXIS_HEIGHT = 640, 170, 28, 12, 30
CHART_LABEL_UNITS = 24  # Half-width characters that fit left of the plot; the <desc> keeps labels whole.
_CHART_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
# XML 1.0 forbids these characters even escaped: a label containing one would make the page invalid.
_XML_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """Text safe inside an SVG element or attribute."""
    return html.escape(_XML_FORBIDDEN.sub("", text), quote=True)


def _cut(label: str) -> str:
    """The label, cut with an ellipsis to the label column (a full-width character counts double)."""
    units = 0
    for position, character in enumerate(label):
        units += 2 if unicodedata.east_asian_width(character) in "WF" else 1
        if units > CHART_LABEL_UNITS - 1 and position < len(label) - 1:
            return label[:position] + "…"
    return label


def _quantile(ordered: Sequence[float], p: float) -> float:
    """The p-quantile of sorted values, interpolated linearly between the closest ranks."""
    h = (len(ordered) - 1) * p
    below = math.floor(h)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (h - below) * (ordered[above] - ordered[below])


def distribution_svg(
    values_by_group: Mapping[str, Sequence[float]],
    *,
    title: str,
    scale: tuple[float, float] = (0.0, 100.0),
    chart_id: str = "score-distribution",
    summary: str | None = None,
) -> str:
    """An accessible SVG box plot (min, quartiles, median, max), one row per group: judge or criterion.

    The <title> is `title`; the <desc> is `summary` (pass a translated one) or an English per-group summary
    of n, min, Q1, median, Q3 and max. Presentation attributes only (no style attribute, script, event handler
    or external font), so it passes a strict Content-Security-Policy when inlined in a page; every label is
    escaped. `chart_id` prefixes the element ids, so give each chart on a page its own.
    """
    low, high = scale
    if not low < high:
        raise ValueError(f"the chart's scale {low}..{high} is empty")
    if not _CHART_ID.fullmatch(chart_id):
        raise ValueError(f"chart id {chart_id!r} must be a letter followed by letters, digits, '-' or '_'")
    left, right = CHART_LABEL_WIDTH, CHART_WIDTH - 20
    axis_y = CHART_TOP + CHART_ROW_HEIGHT * len(values_by_group)
    height = axis_y + CHART_AXIS_HEIGHT

    def x(value: float) -> str:
        return f"{left + (value - low) / (high - low) * (right - left):.1f}"

    def width(start: float, end: float) -> str:
        return f"{(end - start) / (high - low) * (right - left):.1f}"

    lines: list[str] = []
    described: list[str] = []
    for tick in range(5):
        value = low + (high - low) * tick / 4
        lines.append(
            f'<line x1="{x(value)}" x2="{x(value)}" y1="{CHART_TOP}" y2="{axis_y}" stroke="#d0d0d0"/>'
        )
        lines.append(f'<text x="{x(value)}" y="{axis_y + 18}" text-anchor="middle">{value:g}</text>')
    slack = (high - low) * 1e-9  # Float noise at either end of the scale is drawn at the end.
    for row, (label, values) in enumerate(values_by_group.items()):
        if any(not low - slack <= v <= high + slack for v in values):  # Positive test: NaN is refused too.
            raise ValueError(f"a value of group {label!r} is outside the chart's scale {low}..{high}")
        ordered = sorted(min(max(v, low), high) for v in values)
        middle = CHART_TOP + CHART_ROW_HEIGHT * row + CHART_ROW_HEIGHT // 2
        lines.append(
            f'<text x="{left - 8}" y="{middle + 4}" text-anchor="end">{_xml_text(_cut(label))}</text>'
        )
        if not ordered:
            described.append(f"{label}: no scores")
            continue
        q1, median, q3 = (_quantile(ordered, p) for p in (0.25, 0.5, 0.75))
        described.append(
            f"{label}: n={len(ordered)}, min {ordered[0]:.1f}, Q1 {q1:.1f}, median {median:.1f}, "
            f"Q3 {q3:.1f}, max {ordered[-1]:.1f}"
        )
        lines += [
            f'<line x1="{x(ordered[0])}" x2="{x(ordered[-1])}" y1="{middle}" y2="{middle}" '
            'stroke="currentColor"/>',
            f'<rect x="{x(q1)}" y="{middle - 7}" width="{width(q1, q3)}" height="14" '
            'fill="#9ecae1" stroke="currentColor"/>',
            f'<line x1="{x(median)}" x2="{x(median)}" y1="{middle - 9}" y2="{middle + 9}" '
            'stroke="currentColor" stroke-width="2"/>',
        ]
    description = summary if summary is not None else "; ".join(described)
    return "".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_WIDTH} {height}" '
            f'width="{CHART_WIDTH}" height="{height}" role="img" '
            f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
            f'<title id="{chart_id}-title">{_xml_text(title)}</title>',
            f'<desc id="{chart_id}-desc">{_xml_text(description)}</desc>',
            '<g font-family="system-ui, sans-serif" font-size="12" fill="currentColor">',
            *lines,
            "</g></svg>",
        ]
    )
