"""Pages that write catalogue entries (new, import, edit, review) and the publiccode.yml export."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_422_UNPROCESSABLE_ENTITY

from app.accounts.viewer import Viewer, viewer_of
from app.catalog import outputs, policies
from app.catalog.facts import facts_of, output_by_slug
from app.catalog.output_forms import DEVELOPMENT_STATUSES, SOFTWARE_TYPES, form_from_row, parse_output_form
from app.catalog.publiccode import ImportResult, parse_publiccode
from app.catalog.safe_yaml import MAX_BYTES, Problem
from app.catalog.tables import Output
from app.challenges.tables import Challenge
from app.clock import utcnow
from app.validation import InvalidInput
from app.web.flash import flash
from app.web.forms import form_values
from app.web.guards import signed_in
from app.web.htmx import page_or_fragment, redirect_after_post
from app.web.i18n import current_locale
from app.web.i18n import gettext as _

Req = Request[Any, Any, Any]
NEW_ENTRY = {"development_status": "development", "software_type": "standalone/web", "platforms": "web"}


class OutputAuthoringController(Controller):
    """Officials and maintainer organizations write catalogue entries; another official approves them."""

    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/catalog/new", name="output_new")
    async def new(self, request: Req) -> Template:
        """An empty entry form."""
        user = writer(request)
        return await form_page(request, user, None, dict(NEW_ENTRY), {})

    @post("/catalog/new", status_code=HTTP_200_OK)
    async def create(self, request: Req) -> Template | Response[Any]:
        """Save a new draft."""
        user = writer(request)
        values = await form_values(request)
        parsed, errors = parse_output_form(values)
        try:
            if errors:
                raise InvalidInput(errors)
            await outputs.create_output(user, parsed, now=utcnow())
        except InvalidInput as invalid:
            return await form_page(request, user, None, values, invalid.errors)
        flash(request, _("The draft is saved. Send it for review when it is ready."), "success")
        return redirect_after_post(request, f"/catalog/{parsed.slug}")

    @get("/catalog/import", name="output_import")
    async def import_form(self, request: Req) -> Template:
        """Paste or upload a publiccode.yml."""
        writer(request)
        return Template("catalog/import.html", context={"text": "", "result": None})

    @post("/catalog/import", status_code=HTTP_200_OK)
    async def import_file(self, request: Req) -> Template | Response[Any]:
        """Read the file into a pre-filled form with its problems; saving that form creates the draft."""
        user = writer(request)
        form = await request.form()
        text, unreadable = await submitted_text(form.get("file"), form.get("publiccode"))
        if unreadable is not None:
            return import_page(text, ImportResult({}, [unreadable], {}))
        result = parse_publiccode(text)
        if form.get("save") != "1" or not result.readable:
            return await review_page(request, user, text, result, result.values, {})
        values = {
            name: value.strip()
            for name, value in form.items()
            if isinstance(value, str) and name not in {"_csrf_token", "publiccode", "save"}
        }
        try:
            output_id = await outputs.import_output(user, values, text, now=utcnow())
        except InvalidInput as invalid:
            return await review_page(request, user, text, result, values, invalid.errors)
        slug = await entry_slug(output_id)
        flash(
            request,
            _("The imported entry is saved as a draft. Send it for review when it is ready."),
            "success",
        )
        return redirect_after_post(request, f"/catalog/{slug}")

    @get("/catalog/{slug:str}/edit", name="output_edit")
    async def edit(self, request: Req, slug: FromPath[str]) -> Template:
        """The entry form filled with the entry."""
        user = viewer_of(request)
        row, facts = await output_by_slug(user, slug)
        if not policies.can_edit_output(user, facts):
            raise PermissionDeniedException
        values = form_from_row(row, await challenge_slug(row.get("source_challenge")))
        return await form_page(request, user, row, values, {})

    @post("/catalog/{slug:str}/edit", status_code=HTTP_200_OK)
    async def update(self, request: Req, slug: FromPath[str]) -> Template | Response[Any]:
        """Save the edits."""
        user = viewer_of(request)
        row, facts = await output_by_slug(user, slug)
        if not policies.can_edit_output(user, facts):
            raise PermissionDeniedException
        values = await form_values(request)
        parsed, errors = parse_output_form(values)
        try:
            if errors:
                raise InvalidInput(errors)
            await outputs.update_output(user, facts.id, parsed, now=utcnow())
        except InvalidInput as invalid:
            return await form_page(request, user, row, values, invalid.errors)
        flash(request, _("Your changes are saved."), "success")
        return redirect_after_post(request, f"/catalog/{parsed.slug}")

    @post("/catalog/{slug:str}/submit", status_code=HTTP_200_OK)
    async def submit(self, request: Req, slug: FromPath[str]) -> Response[Any]:
        """Send the draft for review by an official."""
        user = viewer_of(request)
        _row, facts = await output_by_slug(user, slug)
        try:
            await outputs.submit_output(user, facts.id, now=utcnow())
        except InvalidInput as invalid:
            flash(request, next(iter(invalid.errors.values())), "error")
            return redirect_after_post(request, f"/catalog/{slug}/edit")
        flash(request, _("Sent for review. An official other than the author must approve it."), "success")
        return redirect_after_post(request, f"/catalog/{slug}")

    @post("/catalog/{slug:str}/approve", status_code=HTTP_200_OK)
    async def approve(self, request: Req, slug: FromPath[str]) -> Response[Any]:
        """Publish the entry."""
        user = viewer_of(request)
        _row, facts = await output_by_slug(user, slug)
        await outputs.approve_output(user, facts.id, now=utcnow())
        flash(request, _("Approved and published."), "success")
        return redirect_after_post(request, f"/catalog/{slug}")


class PubliccodeController(Controller):
    """The machine-readable description of a catalogue entry."""

    @get("/catalog/{slug:str}/publiccode.yml", name="output_publiccode")
    async def publiccode(self, request: Req, slug: FromPath[str]) -> Response[str]:
        """publiccode.yml 0.4 with usedBy from confirmed adoptions; drafts only for their editors."""
        text = await outputs.publiccode_file(viewer_of(request), slug)
        return Response(
            content=text,
            media_type="text/yaml",  # Litestar appends "; charset=utf-8" to text types
            headers={"Content-Disposition": 'inline; filename="publiccode.yml"'},
        )


def writer(request: Req) -> Viewer:
    """The signed-in user if they may write catalogue entries; 404 otherwise."""
    user = viewer_of(request)
    if user is None or not policies.can_create_output(user):
        raise NotFoundException
    return user


async def submitted_text(upload: Any, pasted: Any) -> tuple[str, Problem | None]:
    """The file's text from the upload (if one was chosen) or the text area, or why it cannot be read."""
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(MAX_BYTES + 1)
        await upload.close()
        if len(data) > MAX_BYTES:
            return "", Problem(None, "", _("The file is larger than 256 KB."))
        try:
            return data.decode("utf-8-sig"), None
        except UnicodeDecodeError:
            return "", Problem(None, "", _("The file must be UTF-8 text."))
    text = pasted if isinstance(pasted, str) else ""
    if not text.strip():
        return text, Problem(None, "", _("Paste the contents of a publiccode.yml or choose the file."))
    if len(text.encode("utf-8")) > MAX_BYTES:
        return "", Problem(None, "", _("The file is larger than 256 KB."))
    return text, None


async def entry_slug(output_id: int) -> str:
    """The address of an entry."""
    row = await Output.select(Output.slug).where(Output.id == output_id).first().run()
    return str(row["slug"]) if row else ""


async def challenge_slug(challenge_id: int | None) -> str:
    """The address of the source challenge, or ""."""
    if challenge_id is None:
        return ""
    row = await Challenge.select(Challenge.slug).where(Challenge.id == challenge_id).first().run()
    return str(row["slug"]) if row else ""


def import_page(text: str, result: ImportResult) -> Template:
    """The paste/upload form again, with why the file could not be read."""
    return Template(
        "catalog/import.html",
        context={"text": text, "result": result},
        status_code=HTTP_422_UNPROCESSABLE_ENTITY,
    )


async def review_page(
    request: Req,
    user: Viewer,
    text: str,
    result: ImportResult,
    values: dict[str, str],
    errors: dict[str, str],
) -> Template:
    """What the file gave: its problems with line numbers, the kept keys, and the pre-filled form."""
    if not result.readable:
        return import_page(text, result)
    context = await form_context(user, None, values, errors)
    context.update(text=text, result=result, action="/catalog/import")
    status = HTTP_422_UNPROCESSABLE_ENTITY if errors else HTTP_200_OK
    return Template("catalog/import.html", context=context, status_code=status)


async def form_context(
    user: Viewer | None, output: dict[str, Any] | None, values: dict[str, str], errors: dict[str, str]
) -> dict[str, Any]:
    """What the entry form needs: values, errors and the choices of its selects."""
    english = current_locale.get() == "en"
    organizations = await outputs.maintainer_choices(user)
    current = output.get("maintainer_organization") if output else None
    options = [("", _("None (named below)"))] + [
        (str(org["id"]), str(org["name_en"] if english and org["name_en"] else org["name_ja"]))
        for org in organizations
    ]
    if current is not None and str(current) not in {value for value, _label in options}:
        options.append((str(current), _("The current maintainer")))
    return {
        "output": output,
        "values": values,
        "errors": errors,
        "maintainer_options": options,
        "status_options": [(status, status) for status in DEVELOPMENT_STATUSES],
        "type_options": [(kind, kind) for kind in SOFTWARE_TYPES],
        "action": f"/catalog/{output['slug']}/edit" if output else "/catalog/new",
    }


async def form_page(
    request: Req,
    user: Viewer | None,
    output: dict[str, Any] | None,
    values: dict[str, str],
    errors: dict[str, str],
) -> Template:
    """The entry form (new or edit) with what was typed, each field's error, and the review actions."""
    context = await form_context(user, output, values, errors)
    if output is not None:
        facts = facts_of(output)
        context.update(
            can_submit=policies.can_edit_output(user, facts) and facts.status == "draft",
            can_approve=policies.can_approve_output(user, facts),
        )
    status = HTTP_422_UNPROCESSABLE_ENTITY if errors else HTTP_200_OK
    return page_or_fragment(request, "catalog/output_form.html", "catalog/_output_form.html", context, status)


CONTROLLERS = [OutputAuthoringController, PubliccodeController]
