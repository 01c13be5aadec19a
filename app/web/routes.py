"""Site-wide routes: the home page, the accessibility policy, the language switch, health and readiness."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.datastructures import Cookie
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER, HTTP_503_SERVICE_UNAVAILABLE

from app.database.registry import current_engine, pending_migrations
from app.web.forms import safe_next_path
from app.web.i18n import LOCALE_COOKIE, LOCALES
from app.web.page_cache import cached_response, render_and_cache

ONE_YEAR = 60 * 60 * 24 * 365


ACCESSIBILITY_RESULTS = Path(__file__).parent / "data" / "accessibility-results.json"


@lru_cache(maxsize=1)
def accessibility_results() -> dict[str, Any] | None:
    """The totals the browser accessibility test recorded (tests/e2e/test_accessibility.py)."""
    try:
        results: dict[str, Any] = json.loads(ACCESSIBILITY_RESULTS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return results


class SiteController(Controller):
    """Pages that belong to no feature."""

    @get("/", name="home")
    async def home(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The home page (cached for anonymous visitors like the public challenge pages)."""
        if cached := await cached_response(request):
            return cached
        return await render_and_cache(request, "home.html", {})

    @get("/accessibility", name="accessibility")
    async def accessibility(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The アクセシビリティ方針: target level, scope, exceptions, and the last test's results."""
        if cached := await cached_response(request):
            return cached
        return await render_and_cache(request, "accessibility.html", {"results": accessibility_results()})

    @get("/locale/{code:str}", name="switch_locale")
    async def switch_locale(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        next_path: Annotated[str | None, QueryParameter(name="next")] = None,
    ) -> Redirect:
        """Remember the chosen language in a cookie and go back (a link, so it works without JavaScript)."""
        back = safe_next_path(next_path)
        if code not in LOCALES:
            return Redirect(path=back, status_code=HTTP_303_SEE_OTHER)
        secure = request.url.scheme == "https"
        cookie = Cookie(
            key=LOCALE_COOKIE, value=code, max_age=ONE_YEAR, samesite="lax", httponly=True, secure=secure
        )
        return Redirect(path=back, status_code=HTTP_303_SEE_OTHER, cookies=[cookie])


class HealthController(Controller):
    """Liveness and readiness for load balancers and orchestrators."""

    @get("/healthz", media_type=MediaType.JSON, opt={"exclude_from_csrf": True})
    async def healthz(self) -> dict[str, str]:
        """The process is up (touches nothing else)."""
        return {"status": "ok"}

    @get("/readyz", media_type=MediaType.JSON, opt={"exclude_from_csrf": True})
    async def readyz(self) -> Response[dict[str, Any]]:
        """The database answers and every migration has been applied."""
        try:
            await current_engine().run_ddl("SELECT 1")
            pending = sorted(f"{app}:{name}" for app, name in await pending_migrations())
        except Exception as error:  # noqa: BLE001 (any failure to reach the database means not ready)
            return Response(
                {"status": "unavailable", "database": "unreachable", "error": type(error).__name__},
                status_code=HTTP_503_SERVICE_UNAVAILABLE,
            )
        if pending:
            return Response(
                {"status": "unavailable", "database": "ok", "pending_migrations": pending},
                status_code=HTTP_503_SERVICE_UNAVAILABLE,
            )
        return Response({"status": "ok", "database": "ok", "migrations": "current"})


CONTROLLERS = [SiteController, HealthController]
