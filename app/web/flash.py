"""One-time messages shown on the next page (kept in the session only until read)."""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from litestar.connection import ASGIConnection

FLASH_KEY = "_flash"
CATEGORIES = ("success", "error", "info")


def flash(request: ASGIConnection[Any, Any, Any, Any], message: str, category: str = "info") -> None:
    """Show `message` on the next page this visitor sees."""
    request.session.setdefault(FLASH_KEY, []).append({"message": message, "category": category})


@pass_context
def flash_messages(context: Any) -> list[dict[str, str]]:
    """Pop the pending messages; none when the request never reached the session (an unknown route)."""
    scope = context["request"].scope
    session = scope.get("session")
    if not isinstance(session, dict):
        return []
    messages: list[dict[str, str]] = session.pop(FLASH_KEY, [])
    return messages
