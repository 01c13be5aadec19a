"""Reading submitted forms as plain strings."""

from __future__ import annotations

from typing import Any

from litestar import Request


async def form_values(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The submitted form as {name: stripped text}, without the CSRF token."""
    form = await request.form()
    values: dict[str, str] = {}
    for name, value in form.items():
        if name == "_csrf_token" or not isinstance(value, str):
            continue
        values[name] = value.strip()
    return values


def safe_next_path(candidate: str | None, default: str = "/") -> str:
    """A local path to return to after an action; anything else (other hosts, schemes) becomes `default`."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
        return default
    return candidate
