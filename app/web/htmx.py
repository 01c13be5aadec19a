"""Return a page, or just its fragment to an HTMX request, from the same URL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

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


def same_page(current_url: str, target: str) -> bool:
    """Whether `target` (a path, maybe with a query and a fragment) is the page at `current_url`."""
    current = urlsplit(current_url)
    wanted = urlsplit(target)
    return (current.path, current.query) == (wanted.path, wanted.query)


def redirect_after_post(request: Request[Any, Any, Any], url: str) -> Redirect | ClientRedirect:
    """Go to `url` after a successful POST: 303 for a plain form, HX-Redirect for HTMX.

    An XHR would follow a 303 silently and swap the next page into the form, so HTMX gets a header instead.
    When the target is the current page plus a #fragment, HX-Refresh is added: going there would only
    scroll, and the change just made (a new record, a flash message) would not show. (For any other target it
    must not be sent: the reload would cancel the navigation.)
    """
    if wants_fragment(request):
        redirect = ClientRedirect(redirect_to=url)
        if "#" in url and same_page(request.headers.get("HX-Current-URL", ""), url):
            redirect.headers["HX-Refresh"] = "true"
        return redirect
    return Redirect(path=url, status_code=HTTP_303_SEE_OTHER)
