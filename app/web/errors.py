"""Error pages (403/404/405/413/429/500) in the reader's language; a fragment for HTMX swaps."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_401_UNAUTHORIZED, HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

from app.web import i18n
from app.web.htmx import VARY, wants_fragment

log = logging.getLogger(__name__)

KNOWN_PAGES = {400, 403, 404, 405, 413, 429, 500}


def wants_json(request: Request[Any, Any, Any]) -> bool:
    """API clients (and /healthz-style endpoints) get JSON errors instead of pages."""
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(
    request: Request[Any, Any, Any], status_code: int, headers: dict[str, str] | None
) -> Response[Any]:
    """The error page (or fragment) for `status_code`, rendered in the request's language."""
    # Unknown routes fail before any middleware runs, so the locale is chosen here as well.
    i18n.current_locale.set(i18n.locale_of_scope(request.scope))
    if wants_json(request):
        return Response(
            {"status_code": status_code},
            status_code=status_code,
            media_type=MediaType.JSON,
            headers=headers,
        )
    shown = status_code if status_code in KNOWN_PAGES else (500 if status_code >= 500 else 400)
    template = "errors/_error.html" if wants_fragment(request) else "errors/error.html"
    return Template(
        template_name=template,
        context={"status_code": shown},
        status_code=status_code,
        headers={**(headers or {}), "Vary": VARY},
    )


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Litestar's HTTP errors (404, 403 from CSRF, 405, 413, 429, ...) as pages; 401 goes to sign-in."""
    if exc.status_code == HTTP_401_UNAUTHORIZED and not wants_json(request):
        return sign_in_redirect(request)
    return error_response(request, exc.status_code, dict(exc.headers or {}))


def sign_in_redirect(request: Request[Any, Any, Any]) -> Response[Any]:
    """Send someone who must sign in to the sign-in page, returning here afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = "/signin?" + urlencode({"next": here})
    if wants_fragment(request):
        return ClientRedirect(redirect_to=target)
    return Redirect(path=target, status_code=HTTP_303_SEE_OTHER)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Anything unexpected: logged with its traceback, shown as a calm 500 page without details."""
    log.exception("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, HTTP_500_INTERNAL_SERVER_ERROR, None)


def undecodable_form_handler(request: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[Any]:
    """A form part that is not UTF-8 (Litestar's multipart parser lets that error escape): a client error."""
    return error_response(request, 400, None)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    HTTPException: http_exception_handler,
    UnicodeDecodeError: undecodable_form_handler,
    Exception: internal_error_handler,
}
