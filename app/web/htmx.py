"""Return a page, or just its fragment to an HTMX request, from the same URL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_303_SEE_OTHER

VARY = "HX-Request, HX-Boosted, HX-History-Restore-Request"


def wants_fragment(request: Request[Any, Any, Any]) -> bool:
    """An HTMX swap (not a boosted navigation, not a history restore, which need the whole page)."""
    if not isinstance(request, HTMXRequest) or not request.htmx:
        return False
    return not request.htmx.boosted and not request.htmx.history_restore_request


def page_or_fragment(
    request: Request[Any, Any, Any],
    page: str,
    fragment: str,
    context: Mapping[str, Any],
    status_code: int = HTTP_200_OK,
) -> Template:
    """Render `fragment` for an HTMX swap and `page` (which includes the fragment) otherwise."""
    name = fragment if wants_fragment(request) else page
    return Template(
        template_name=name, context=dict(context), status_code=status_code, headers={"Vary": VARY}
    )


def redirect_after_post(request: Request[Any, Any, Any], url: str) -> Redirect | ClientRedirect:
    """Go to `url` after a successful POST: 303 for a plain form, HX-Redirect for HTMX.

    An XHR would follow a 303 silently and swap the next page into the form, so HTMX gets a header instead.
    """
    if wants_fragment(request):
        return ClientRedirect(redirect_to=url)
    return Redirect(path=url, status_code=HTTP_303_SEE_OTHER)
