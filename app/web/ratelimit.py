"""A fixed-window limit on attempts per client, kept in a shared store (login, sign-up)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.exceptions import TooManyRequestsException
from litestar.stores.base import Store

from app.clock import utcnow


@dataclass(frozen=True)
class RateLimit:
    """At most `attempts` per `window_seconds` for one action and client address."""

    action: str
    attempts: int
    window_seconds: int

    async def check(self, store: Store, request: Request[Any, Any, Any]) -> None:
        """Count this attempt; raise 429 once the window's budget is spent.

        The store has no atomic increment, so concurrent attempts may slip a few over the limit: fine for
        slowing guessing down, which is all this is for.
        """
        client = request.client.host if request.client else "unknown"
        window = int(utcnow().timestamp()) // self.window_seconds
        key = hashlib.sha256(f"{self.action}:{client}:{window}".encode()).hexdigest()
        raw = await store.get(key)
        count = int(raw or 0) + 1
        if count > self.attempts:
            raise TooManyRequestsException(headers={"Retry-After": str(self.window_seconds)})
        await store.set(key, str(count), expires_in=self.window_seconds)
