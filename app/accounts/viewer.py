"""Who is making this request: the signed-in user with their roles, loaded once per request."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from litestar.connection import ASGIConnection
from litestar.types import ASGIApp, Receive, Scope, Send

from app.accounts.tables import User

SESSION_USER_KEY = "user_id"


@dataclass(frozen=True)
class Viewer:
    """A signed-in user and everything policies need to know about their roles."""

    id: int
    email: str
    display_name: str
    locale: str
    is_admin: bool = False
    is_judge: bool = False
    official_bureau_ids: frozenset[int] = frozenset()
    # organization id -> "owner" | "member"
    memberships: Mapping[int, str] = field(default_factory=dict)

    @property
    def is_official(self) -> bool:
        """Whether the user is an official of at least one bureau."""
        return bool(self.official_bureau_ids)


# One round trip instead of three: every signed-in request runs this.
VIEWER_QUERY = """
SELECT 'user' AS kind, id AS ref, email AS a, display_name AS b, locale AS c
  FROM kyoso_user WHERE id = {} AND is_active = {}
UNION ALL
SELECT 'role', bureau, role, NULL, NULL FROM staff_role WHERE "user" = {}
UNION ALL
SELECT 'membership', organization, role, NULL, NULL FROM membership WHERE "user" = {}
"""


async def load_viewer(user_id: int) -> Viewer | None:
    """The active user with this id and their roles (one query), or None."""
    rows = await User.raw(VIEWER_QUERY, user_id, True, user_id, user_id).run()
    user = next((row for row in rows if row["kind"] == "user"), None)
    if user is None:
        return None
    roles = [row for row in rows if row["kind"] == "role"]
    return Viewer(
        id=user["ref"],
        email=user["a"],
        display_name=user["b"],
        locale=user["c"],
        is_admin=any(role["a"] == "admin" for role in roles),
        is_judge=any(role["a"] == "judge" for role in roles),
        official_bureau_ids=frozenset(role["ref"] for role in roles if role["a"] == "official"),
        memberships={row["ref"]: row["a"] for row in rows if row["kind"] == "membership"},
    )


def viewer_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Viewer | None:
    """The signed-in user of this request, if any (set by `ViewerMiddleware`)."""
    user: Viewer | None = connection.scope.get("user")
    return user


class ViewerMiddleware:
    """Put the signed-in `Viewer` (or None) in `scope["user"]`, after the session middleware has run."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session: Any = scope.get("session")
        user_id = session.get(SESSION_USER_KEY) if isinstance(session, dict) else None
        scope["user"] = await recent_viewer(user_id) if isinstance(user_id, int) else None
        await self.app(scope, receive, send)


# Loading the viewer was the largest cost of a signed-in page under load (a database round trip through a
# thread). Each worker keeps it for VIEWER_TTL_SECONDS; changes made in this worker forget it at once, so
# a role granted, revoked or a deactivation made through another worker applies within those seconds.
VIEWER_TTL_SECONDS = 2.0
MAX_REMEMBERED = 10_000
_recent: dict[int, tuple[float, Viewer | None]] = {}


async def recent_viewer(user_id: int) -> Viewer | None:
    """`load_viewer`, remembered for a moment."""
    now = time.monotonic()
    remembered = _recent.get(user_id)
    if remembered is not None and now - remembered[0] < VIEWER_TTL_SECONDS:
        return remembered[1]
    viewer = await load_viewer(user_id)
    if len(_recent) >= MAX_REMEMBERED:
        _recent.clear()
    _recent[user_id] = (now, viewer)
    return viewer


def forget_viewer(user_id: int | None = None) -> None:
    """Drop what this worker remembers of a user (all users when None) after their roles change."""
    if user_id is None:
        _recent.clear()
    else:
        _recent.pop(user_id, None)
