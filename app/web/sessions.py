"""Server-side sessions that are stored only when they hold something, rotated at sign-in, and purged."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.types import Empty, Message, Scope, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items

log = logging.getLogger(__name__)

SESSION_COOKIE = "kyoso_session"
SESSION_MAX_AGE = 60 * 60 * 12
ROTATE_FLAG = "rotate_session"
LOADED_KEY = "session_as_loaded"
PURGE_INTERVAL_SECONDS = 600


def rotate_session_id(scope: Scope) -> None:
    """Ask for a new session id on this response (at sign-in, against session fixation)."""
    scope.setdefault("state", {})[ROTATE_FLAG] = True


class LeanSessionBackend(ServerSideSessionBackend):
    """Litestar's backend writes an empty session and a cookie on every response; this one does not."""

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        """Store a non-empty session; delete a session that became empty; touch nothing otherwise."""
        incoming_id = connection.cookies.get(self.config.key)
        if incoming_id == "null":
            incoming_id = None
        if not incoming_id and (scope_session is Empty or not scope_session):
            return  # the common anonymous case: nothing to store, nothing to expire
        store = self.config.get_store_from_app(connection.scope["app"])
        headers = MutableScopeHeaders.from_message(message)
        cookie_params = dict(
            extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys())
        )

        if scope_session is Empty or not scope_session:
            if incoming_id:
                await self.delete(incoming_id, store=store)
                # Max-Age wins over Expires: with the configured max_age a browser would keep an empty cookie.
                gone = {**cookie_params, "max_age": 0, "expires": 0}
                expired = Cookie(value="", key=self.config.key, **gone)
                headers.add("Set-Cookie", expired.to_header(header=""))
            return

        data = self.serialize_data(scope_session)
        rotate = connection.scope.get("state", {}).get(ROTATE_FLAG)
        if incoming_id and not rotate and data == connection.scope.get("state", {}).get(LOADED_KEY):
            return  # unchanged: no write, no cookie (the session lasts SESSION_MAX_AGE from its last change)
        session_id = incoming_id
        if session_id is None or rotate:
            if session_id is not None:
                await self.delete(session_id, store=store)
            session_id = self.generate_session_id()
        await self.set(session_id=session_id, data=data, store=store)
        headers.add(
            "Set-Cookie", Cookie(value=session_id, key=self.config.key, **cookie_params).to_header(header="")
        )

    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
        """Load the session and remember its stored form, to skip rewriting it when nothing changed."""
        session = await super().load_from_connection(connection)
        if session:
            connection.scope.setdefault("state", {})[LOADED_KEY] = self.serialize_data(session)
        return session


class LeanSessionConfig(ServerSideSessionConfig):
    """Session config using `LeanSessionBackend`."""

    _backend_class = LeanSessionBackend


def session_config(secure: bool) -> LeanSessionConfig:
    """HttpOnly, SameSite=Lax, Secure under https, kept in the `sessions` store."""
    return LeanSessionConfig(
        key=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        secure=secure,
        httponly=True,
        samesite="lax",
        store="sessions",
        # Renewing rewrote the session file on every request; a session now lasts 12 h from its last change.
        renew_on_access=False,
        # Probes and static files never need a session: skip loading it (and the store) entirely.
        exclude=["^/healthz$", "^/readyz$", "^/static/"],
    )


async def purge_expired_sessions_forever(store: Store) -> None:
    """Delete expired sessions from a file store now and then (FileStore never does it by itself)."""
    if not isinstance(store, FileStore):
        return  # Redis and memory stores expire keys on their own.
    while True:
        with contextlib.suppress(OSError):
            await store.delete_expired()
        await asyncio.sleep(PURGE_INTERVAL_SECONDS)
