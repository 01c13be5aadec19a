"""Who is making this request: the signed-in user with their roles, loaded once per request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from litestar.types import ASGIApp, Receive, Scope, Send

from app.accounts.tables import Membership, StaffRole, User

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


async def load_viewer(user_id: int) -> Viewer | None:
    """The active user with this id and their roles (three small queries), or None."""
    user = (
        await User.select(User.id, User.email, User.display_name, User.locale)
        .where((User.id == user_id) & (User.is_active == True))  # noqa: E712 (Piccolo builds SQL from ==)
        .first()
        .run()
    )
    if user is None:
        return None
    roles = await StaffRole.select(StaffRole.role, StaffRole.bureau).where(StaffRole.user == user_id).run()
    memberships = (
        await Membership.select(Membership.organization, Membership.role)
        .where(Membership.user == user_id)
        .run()
    )
    return Viewer(
        id=user["id"],
        email=user["email"],
        display_name=user["display_name"],
        locale=user["locale"],
        is_admin=any(role["role"] == "admin" for role in roles),
        is_judge=any(role["role"] == "judge" for role in roles),
        official_bureau_ids=frozenset(role["bureau"] for role in roles if role["role"] == "official"),
        memberships={row["organization"]: row["role"] for row in memberships},
    )


class ViewerMiddleware:
    """Put the signed-in `Viewer` (or None) in `scope["user"]`, after the session middleware has run."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session: Any = scope.get("session")
        user_id = session.get(SESSION_USER_KEY) if isinstance(session, dict) else None
        scope["user"] = await load_viewer(user_id) if isinstance(user_id, int) else None
        await self.app(scope, receive, send)
