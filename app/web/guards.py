"""Route guards shared by every feature."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler


def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Let only signed-in users through; others are sent to the sign-in page (see errors.py)."""
    if connection.scope.get("user") is None:
        raise NotAuthorizedException
