"""A short-lived cache of public pages as anonymous visitors see them.

Only requests without a signed-in user are served from it or stored in it, the key includes the language and
the whole query string, and cached HTML carries no CSRF token (anonymous pages have no unsafe actions), so
one visitor's page or token can never reach another. Each worker keeps its own copy for `TTL_SECONDS`;
writes that change public pages clear the local copy at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from litestar import MediaType, Request, Response
from litestar.stores.memory import MemoryStore
from markupsafe import Markup

from app.web import i18n
from app.web.htmx import VARY, wants_fragment
from app.web.templating import ENVIRONMENT

TTL_SECONDS = 15
_store = MemoryStore()


def cache_key(request: Request[Any, Any, Any]) -> str | None:
    """The key for this request, or None when it must not be cached (a signed-in user)."""
    if request.scope.get("user") is not None or request.scope.get("session"):
        return None  # signed in, or a session holding flash messages: render for this visitor only
    query = "&".join(sorted(request.url.query.split("&"))) if request.url.query else ""
    kind = "fragment" if wants_fragment(request) else "page"
    return f"{i18n.current_locale.get()}|{kind}|{request.url.path}?{query}"


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
