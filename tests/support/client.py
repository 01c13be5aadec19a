"""A browser-like HTTP client for route tests: keeps cookies and sends the CSRF token like our pages do."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from litestar import Litestar

CSRF_COOKIE = "kyoso_csrf"
HTMX_HEADERS = {"HX-Request": "true", "HX-Current-URL": "http://testserver/"}


class WebClient:
    """One visitor: cookies persist between requests, forms carry the CSRF token."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    @classmethod
    @asynccontextmanager
    async def for_app(cls, app: Litestar) -> AsyncIterator[WebClient]:
        """A client talking to `app` in the test's own event loop."""
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield cls(http)

    async def get(
        self, url: str, *, htmx: bool = False, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """GET, optionally as an HTMX swap."""
        return await self.http.get(url, headers={**(HTMX_HEADERS if htmx else {}), **(headers or {})})

    async def csrf_token(self) -> str:
        """The CSRF token our pages embed (the signed cookie value), fetching a page first if needed."""
        if CSRF_COOKIE not in self.http.cookies:
            await self.http.get("/signin")
        return str(self.http.cookies[CSRF_COOKIE])

    async def post(
        self,
        url: str,
        data: Mapping[str, Any] | None = None,
        *,
        htmx: bool = False,
        csrf: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST a form as a browser would (CSRF token in the form; as a header too for HTMX)."""
        form = dict(data or {})
        extra = dict(HTMX_HEADERS if htmx else {})
        if csrf:
            token = await self.csrf_token()
            if htmx:
                extra["x-csrftoken"] = token
            else:
                form["_csrf_token"] = token
        return await self.http.post(url, data=form, headers={**extra, **(headers or {})})

    async def sign_in(self, email: str, password: str) -> httpx.Response:
        """Sign in through the real form; fails the test if it did not work."""
        response = await self.post("/signin", {"email": email, "password": password, "next": "/account"})
        assert response.status_code == 303, response.text
        return response

    async def sign_out(self) -> httpx.Response:
        """Sign out through the real form."""
        return await self.post("/signout")
