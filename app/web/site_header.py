"""The site header, rendered once per visitor, language, path and CSRF token and then reused.

The header (navigation, sign-out form, search box, language links) was most of the rendering time of a
signed-in page. It depends only on what the key holds: the language, the viewer's identity and roles (every
policy the header asks is a function of them), the page's path and the CSRF token in its sign-out form.
"""

from __future__ import annotations

from jinja2 import pass_context
from jinja2.runtime import Context
from litestar.template.base import csrf_token
from markupsafe import Markup

from app.accounts.viewer import Viewer
from app.web import i18n

TEMPLATE = "_site_header.html"
MAX_REMEMBERED = 5_000
_rendered: dict[tuple[object, ...], Markup] = {}


def viewer_key(user: Viewer | None) -> tuple[object, ...]:
    """Everything about the viewer the header may show or ask a policy about."""
    if user is None:
        return ()
    return (
        user.id,
        user.is_admin,
        user.is_judge,
        user.official_bureau_ids,
        tuple(sorted(user.memberships.items())),
    )


@pass_context
def site_header(context: Context) -> Markup:
    """The rendered header for this request, from memory when this visitor has seen it on this path."""
    request = context["request"]
    user: Viewer | None = request.scope.get("user")
    key = (i18n.current_locale.get(), viewer_key(user), csrf_token(context.get_all()), request.scope["path"])
    header = _rendered.get(key)
    if header is None:
        rendered = context.environment.get_template(TEMPLATE).render(context.get_all())
        header = Markup(rendered)  # noqa: S704 (our own template's autoescaped output)
        if len(_rendered) >= MAX_REMEMBERED:
            _rendered.clear()
        _rendered[key] = header
    return header
