"""Pages of the application form builder: the list of questions, the add and edit forms, move and remove."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_422_UNPROCESSABLE_ENTITY

from app.accounts.viewer import viewer_of
from app.challenges import policies as challenge_policies
from app.challenges.lifecycle import ChallengeFacts
from app.challenges.services import FACT_COLUMNS
from app.challenges.tables import Challenge
from app.clock import utcnow
from app.submissions import form_builder, policies
from app.submissions.state import FieldKind
from app.validation import InvalidInput
from app.web.flash import flash
from app.web.forms import form_values
from app.web.guards import signed_in
from app.web.htmx import page_or_fragment, redirect_after_post, wants_fragment
from app.web.i18n import gettext as _
from app.web.uploads import MIB

Req = Request[Any, Any, Any]
PAGE = "submissions/form_builder.html"
FRAGMENT = "submissions/_form_fields.html"
NEW_FIELD = {"kind": FieldKind.SHORT_TEXT.value, "max_mb": str(form_builder.DEFAULT_FILE_MB)}


def kind_names() -> dict[str, str]:
    """Each kind of question as the official reads it."""
    return {
        FieldKind.SHORT_TEXT: _("Short text"),
        FieldKind.LONG_TEXT: _("Long text"),
        FieldKind.NUMBER: _("Number"),
        FieldKind.SINGLE_CHOICE: _("Single choice"),
        FieldKind.MULTIPLE_CHOICE: _("Multiple choice"),
        FieldKind.URL: _("URL (e.g. a pitch video)"),
        FieldKind.FILE: _("File (PDF)"),
    }


def form_values_of(row: Mapping[str, Any]) -> dict[str, str]:
    """The builder form filled with a stored question (for its edit page)."""
    choices = row.get("choices") or []
    values = {
        name: str(row.get(name) or "") for name in ("kind", "label_ja", "label_en", "help_ja", "help_en")
    }
    values.update(
        max_chars=str(row["max_chars"]) if row.get("max_chars") else "",
        max_mb=str(row["max_bytes"] // MIB) if row.get("max_bytes") else str(form_builder.DEFAULT_FILE_MB),
        choices_ja="\n".join(choice["ja"] for choice in choices),
        choices_en="\n".join(choice["en"] for choice in choices if choice["en"]),
    )
    if row.get("required"):
        values["required"] = "1"
    return values


async def managed_challenge(request: Req, slug: str) -> dict[str, Any]:
    """The challenge whose form the user may define: 404 if they may not see it, 403 if only that."""
    row = (
        await Challenge.select(*FACT_COLUMNS, Challenge.slug, Challenge.title_ja, Challenge.title_en)
        .where(Challenge.slug == slug)
        .first()
        .run()
    )
    if row is None:
        raise NotFoundException
    user = viewer_of(request)
    facts = ChallengeFacts.from_row(row)
    if not challenge_policies.can_view_challenge(user, facts):
        raise NotFoundException
    if not policies.can_manage_form(user, facts):
        raise PermissionDeniedException
    return dict(row)


async def builder_page(
    request: Req,
    challenge: dict[str, Any],
    *,
    editing: dict[str, Any] | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    announcement: str = "",
) -> Template:
    """The builder page (or, to an HTMX swap, just the list of questions) with what was typed and errors."""
    errors = errors or {}
    context = {
        "challenge": challenge,
        "fields": await form_builder.fields_of(challenge["id"]),
        "locked": await form_builder.form_is_locked(challenge["id"]),
        "kind_names": kind_names(),
        "editing": editing,
        "values": values if values is not None else dict(NEW_FIELD),
        "errors": errors,
        "announcement": announcement,
        "swapped": wants_fragment(request),
    }
    status = HTTP_422_UNPROCESSABLE_ENTITY if errors else HTTP_200_OK
    return page_or_fragment(request, PAGE, FRAGMENT, context, status)


class FormBuilderController(Controller):
    """Officials define the questions applicants answer."""

    path = "/challenges/{slug:str}/form"
    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/", name="form_builder")
    async def show(self, request: Req, slug: FromPath[str]) -> Template:
        """The questions in order, with the form to add one."""
        return await builder_page(request, await managed_challenge(request, slug))

    @post("/fields", status_code=HTTP_200_OK)
    async def add(self, request: Req, slug: FromPath[str]) -> Template | Response[Any]:
        """Append a question."""
        challenge = await managed_challenge(request, slug)
        values = await form_values(request)
        try:
            parsed = form_builder.parse_field_form(values)
            await form_builder.add_field(viewer_of(request), challenge["id"], parsed, now=utcnow())
        except InvalidInput as invalid:
            return await builder_page(request, challenge, values=values, errors=invalid.errors)
        flash(request, _("The question was added."), "success")
        return redirect_after_post(request, f"/challenges/{slug}/form#form-fields")

    @get("/fields/{field_id:int}", name="form_field_edit")
    async def edit(self, request: Req, slug: FromPath[str], field_id: FromPath[int]) -> Template:
        """The builder with one question's edit form."""
        challenge = await managed_challenge(request, slug)
        editing = await stored_field(challenge["id"], field_id)
        return await builder_page(request, challenge, editing=editing, values=form_values_of(editing))

    @post("/fields/{field_id:int}", status_code=HTTP_200_OK)
    async def update(
        self, request: Req, slug: FromPath[str], field_id: FromPath[int]
    ) -> Template | Response[Any]:
        """Save a changed question."""
        challenge = await managed_challenge(request, slug)
        editing = await stored_field(challenge["id"], field_id)
        values = await form_values(request)
        try:
            parsed = form_builder.parse_field_form(values)
            await form_builder.update_field(viewer_of(request), challenge["id"], field_id, parsed)
        except InvalidInput as invalid:
            return await builder_page(
                request, challenge, editing=editing, values=values, errors=invalid.errors
            )
        flash(request, _("The question was saved."), "success")
        return redirect_after_post(request, f"/challenges/{slug}/form#form-field-{field_id}")

    @post("/fields/{field_id:int}/move/{direction:str}", status_code=HTTP_200_OK)
    async def move(
        self, request: Req, slug: FromPath[str], field_id: FromPath[int], direction: FromPath[str]
    ) -> Template | Response[Any]:
        """Move a question up or down: the list is swapped in place for HTMX, the page reloads otherwise."""
        if direction not in {"up", "down"}:
            raise NotFoundException
        challenge = await managed_challenge(request, slug)
        try:
            await form_builder.move_field(
                viewer_of(request), challenge["id"], field_id, "up" if direction == "up" else "down"
            )
        except InvalidInput as invalid:
            return await builder_page(request, challenge, errors={"list": invalid.errors.get("form", "")})
        done = _("The question was moved up.") if direction == "up" else _("The question was moved down.")
        return await after_list_change(request, challenge, done, f"#form-field-{field_id}")

    @post("/fields/{field_id:int}/remove", status_code=HTTP_200_OK)
    async def remove(
        self, request: Req, slug: FromPath[str], field_id: FromPath[int]
    ) -> Template | Response[Any]:
        """Remove a question nobody has answered."""
        challenge = await managed_challenge(request, slug)
        try:
            await form_builder.remove_field(viewer_of(request), challenge["id"], field_id)
        except InvalidInput as invalid:
            return await builder_page(request, challenge, errors={"list": invalid.errors.get("form", "")})
        return await after_list_change(request, challenge, _("The question was removed."), "#form-fields")


async def stored_field(challenge_id: int, field_id: int) -> dict[str, Any]:
    """One question of this challenge, or 404."""
    for row in await form_builder.fields_of(challenge_id):
        if row["id"] == field_id:
            return row
    raise NotFoundException


async def after_list_change(
    request: Req, challenge: dict[str, Any], announcement: str, anchor: str
) -> Template | Response[Any]:
    """The new list with an announcement for HTMX; for a plain form, back to the page with a message."""
    if wants_fragment(request):
        return await builder_page(request, challenge, announcement=announcement)
    flash(request, announcement, "success")
    return redirect_after_post(request, f"/challenges/{challenge['slug']}/form{anchor}")


CONTROLLERS = [FormBuilderController]
