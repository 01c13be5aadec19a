"""The admin page of municipalities: import the national list from a CSV file, grant officials."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_422_UNPROCESSABLE_ENTITY

from app.accounts.viewer import viewer_of
from app.catalog import municipalities, policies
from app.catalog.catalogue_queries import forget_catalogue_options
from app.clock import utcnow
from app.validation import InvalidInput
from app.web.guards import signed_in
from app.web.i18n import gettext as _

Req = Request[Any, Any, Any]
# The national list is ~100 kB; the limit leaves room for a Shift_JIS export with extra columns.
MAX_BODY_BYTES = municipalities.MAX_IMPORT_BYTES + 100_000


def require_admin(request: Req) -> None:
    """Only admins manage municipalities; everyone else is told the page does not exist."""
    if not policies.can_manage_municipalities(viewer_of(request)):
        raise NotFoundException


class MunicipalityAdminController(Controller):
    """/admin/municipalities: the import form with its report, and official grants."""

    path = "/admin/municipalities"
    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/", name="admin_municipalities")
    async def page(self, request: Req) -> Template:
        """How many municipalities are known, the import and grant forms, the latest grants."""
        require_admin(request)
        return await admin_page({})

    @post("/import", status_code=HTTP_200_OK, request_max_body_size=MAX_BODY_BYTES)
    async def import_list(self, request: Req) -> Template:
        """Import a CSV file in the official list's format; report rows added, updated and refused."""
        require_admin(request)
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await admin_page({"import_errors": {"file": _("Choose a CSV file to import.")}}, 422)
        raw = await upload.read()
        try:
            report = await municipalities.import_municipalities(viewer_of(request), raw)
        except InvalidInput as invalid:
            return await admin_page({"import_errors": invalid.errors}, HTTP_422_UNPROCESSABLE_ENTITY)
        forget_catalogue_options()
        return await admin_page(
            {
                "report": report,
                "refusals": municipalities.refusals_for_display(report.refused),
                "file_name": upload.filename,
            }
        )

    @post("/grants", status_code=HTTP_200_OK)
    async def grant(self, request: Req) -> Template:
        """Make a user (by email) an official of a municipality (by code)."""
        require_admin(request)
        form = await request.form()
        values = {name: str(form.get(name, "")).strip() for name in ("email", "code")}
        try:
            email, name = await municipalities.grant_official(
                viewer_of(request), values["email"], values["code"], now=utcnow()
            )
        except InvalidInput as invalid:
            return await admin_page(
                {"grant_values": values, "grant_errors": invalid.errors}, HTTP_422_UNPROCESSABLE_ENTITY
            )
        granted = _("%(email)s is now an official of %(municipality)s.") % {
            "email": email,
            "municipality": name,
        }
        return await admin_page({"granted": granted})


async def admin_page(extra: dict[str, Any], status_code: int = 200) -> Template:
    """The admin page with whatever the last action produced."""
    context = {
        "count": await municipalities.municipality_count(),
        "grants": await municipalities.recent_grants(),
        "report": None,
        "refusals": [],
        "import_errors": {},
        "grant_values": {},
        "grant_errors": {},
        "granted": "",
        **extra,
    }
    return Template("catalog/municipalities.html", context=context, status_code=status_code)


CONTROLLERS = [MunicipalityAdminController]
