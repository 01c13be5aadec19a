"""Markdown written by officials, rendered to HTML that cannot run script: markdown-it-py, then nh3."""

from __future__ import annotations

import html
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h2", "h3", "h4", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}

# Raw HTML is off: officials write Markdown; nh3 removes anything that slips through anyway.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


@lru_cache(maxsize=2048)
def render_markdown(source: str) -> Markup:
    """Safe HTML for `source`: no script, no event handlers, only http(s)/mailto links, which open safely."""
    cleaned = nh3.clean(
        _markdown.render(source or ""),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(cleaned)  # noqa: S704 (sanitized by nh3 on the line above)


def plain_text(source: str) -> str:
    """The text of rendered Markdown without tags (feeds, CSV, search snippets)."""
    return html.unescape(nh3.clean(_markdown.render(source or ""), tags=set())).strip()
