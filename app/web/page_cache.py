"""A short-lived cache of public pages as anonymous visitors see them.

Only requests without a signed-in user are served from it or stored in it (requests without a session cookie
are answered before the rest of the app runs), the key includes the language and
the whole query string, and cached HTML carries no CSRF token (anonymous pages have no unsafe actions), so
one visitor's page or token can never reach another. Each worker keeps its own copy for `TTL_SECONDS`;
writes that change public pages clear the local copy at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from litestar import MediaType, Request, Response
from litestar.enums import ScopeType
from litestar.stores.memory import MemoryStore
from litestar.types import ASGIApp, Receive, Scope, Send
from markupsafe import Markup

from app.web import i18n
from app.web.htmx import VARY
from app.web.sessions import SESSION_COOKIE
from app.web.templating import ENVIRONMENT

TTL_SECONDS = 15
_store = MemoryStore()


def scope_key(scope: Scope, locale: str) -> str:
    """Language, page or HTMX fragment, path and sorted query: what decides the cached HTML."""
    raw_query = scope.get("query_string", b"").decode("latin-1")
    query = "&".join(sorted(raw_query.split("&"))) if raw_query else ""
    headers = {name: value for name, value in scope.get("headers", ()) if name.startswith(b"hx-")}
    fragment = (
        headers.get(b"hx-request") == b"true"
        and headers.get(b"hx-boosted") != b"true"
        and headers.get(b"hx-history-restore-request") != b"true"
    )
    return f"{locale}|{'fragment' if fragment else 'page'}|{scope['path']}?{query}"


def cache_key(request: Request[Any, Any, Any]) -> str | None:
    """The key for this request, or None when it must not be cached (a signed-in user)."""
    if request.scope.get("user") is not None or request.scope.get("session"):
        return None  # signed in, or a session holding flash messages: render for this visitor only
    return scope_key(request.scope, i18n.current_locale.get())


class AnonymousPageCacheMiddleware:
    """Answer cached public pages before sessions, CSRF and routing run, for requests without a session.

    A request without a session cookie cannot belong to a signed-in user, so this is safe to do first;
    pages are stored only by `render_and_cache` from the handlers, for anonymous visitors.
    """

    def __init__(
        self,
        app: ASGIApp,
        prefixes: tuple[str, ...] = ("/challenges", "/catalog"),
        exact: frozenset[str] = frozenset({"/", "/accessibility"}),
    ) -> None:
        self.app = app
        self.prefixes = prefixes
        self.exact = exact

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == ScopeType.HTTP
            and scope.get("method") == "GET"
            and (scope["path"] in self.exact or scope["path"].startswith(self.prefixes))
            and not has_session_cookie(scope)
        ):
            body = await _store.get(scope_key(scope, i18n.locale_of_scope(scope)))
            if body is not None:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [
                            (b"content-type", b"text/html; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                            (b"vary", VARY.encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
        await self.app(scope, receive, send)


def has_session_cookie(scope: Scope) -> bool:
    """Whether the request carries a session cookie (any value)."""
    marker = SESSION_COOKIE.encode() + b"="
    return any(name == b"cookie" and marker in value for name, value in scope.get("headers", ()))


async def cached_response(request: Request[Any, Any, Any]) -> Response[bytes] | None:
    """The cached page for an anonymous request, if any."""
    key = cache_key(request)
    if key is None:
        return None
    body = await _store.get(key)
    return html_response(body) if body is not None else None


async def render_and_cache(
    request: Request[Any, Any, Any], template_name: str, context: Mapping[str, Any], status_code: int = 200
) -> Response[bytes]:
    """Render a page; keep it when the visitor is anonymous and the status is 200."""
    body = ENVIRONMENT.get_template(template_name).render(request=request, **context).encode()
    key = cache_key(request)
    if key is not None and status_code == 200:
        await _store.set(key, body, expires_in=TTL_SECONDS)
    return html_response(body, status_code)


async def render_and_cache_html(request: Request[Any, Any, Any], html: str) -> Response[bytes]:
    """Answer with ready HTML, kept for anonymous visitors like a rendered page."""
    body = html.encode()
    key = cache_key(request)
    if key is not None:
        await _store.set(key, body, expires_in=TTL_SECONDS)
    return html_response(body)


def html_response(body: bytes, status_code: int = 200) -> Response[bytes]:
    """An HTML response that varies on the HTMX headers."""
    return Response(content=body, media_type=MediaType.HTML, status_code=status_code, headers={"Vary": VARY})


async def shared_fragment(
    request: Request[Any, Any, Any], template_name: str, context: Callable[[], Awaitable[Mapping[str, Any]]]
) -> Markup:
    """A fragment the same for every visitor (no user, no token): built once per TTL, language and query."""
    query = "&".join(sorted(request.url.query.split("&"))) if request.url.query else ""
    key = f"{i18n.current_locale.get()}|shared:{template_name}|{request.url.path}?{query}"
    body = await _store.get(key)
    if body is None:
        values = await context()
        body = ENVIRONMENT.get_template(template_name).render(request=request, **values).encode()
        await _store.set(key, body, expires_in=TTL_SECONDS)
    return Markup(body.decode())  # noqa: S704 (our own template's autoescaped output)


async def forget_public_pages() -> None:
    """Drop every cached page after a change the public can see."""
    await _store.delete_all()
