"""Pages of applying: choose the organization, the autosaving draft, files, submit, receipt, withdraw."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import File, Template
from litestar.status_codes import HTTP_200_OK, HTTP_409_CONFLICT, HTTP_422_UNPROCESSABLE_ENTITY

from app.accounts.viewer import viewer_of
from app.challenges.routes import challenge_by_slug
from app.challenges.services import visible_facts
from app.clock import utcnow
from app.settings import Settings
from app.submissions import policies, queries, services
from app.submissions.files import (
    REQUEST_MAX_BODY_BYTES,
    file_to_serve,
    remove_submission_file,
    upload_submission_file,
)
from app.submissions.submit import submit_submission
from app.validation import InvalidInput
from app.web.flash import flash
from app.web.forms import form_values
from app.web.guards import signed_in
from app.web.htmx import redirect_after_post, wants_fragment
from app.web.i18n import gettext as _
from app.web.uploads import uploaded_file

Req = Request[Any, Any, Any]
PRIVATE = {"Cache-Control": "private, no-store"}


def client_address(request: Req) -> str:
    """The address a consent came from (the direct peer; a proxy in front would add its own header)."""
    return request.client.host if request.client else ""


def answer_value(form: FormMultiDict, key: str) -> Any:
    """What the form sent for one answer: a list for multiple choice (`answer-<key>[]`), else text."""
    if f"answer-{key}[]" in form or f"present-{key}[]" in form:
        return [value for value in form.getall(f"answer-{key}[]", []) if isinstance(value, str)]
    value = form.get(f"answer-{key}")
    return value if isinstance(value, str) else ""


def revision_of(form: FormMultiDict, key: str) -> int:
    """The revision the editor loaded (0 for an answer never saved)."""
    value = form.get(f"revision-{key}")
    return int(value) if isinstance(value, str) and value.isdecimal() else 0


async def draft_page(
    request: Req, submission_id: int, errors: dict[str, str], status_code: int = 200
) -> Template:
    """The draft (editable until the deadline) with its errors beside each field."""
    facts = await services.visible_submission(viewer_of(request), submission_id)
    view = await queries.draft_view(facts)
    now = utcnow()
    return Template(
        "submissions/draft.html",
        context={
            **view,
            "facts": facts,
            "errors": errors,
            "editable": policies.can_edit_submission(viewer_of(request), facts, now),
        },
        status_code=status_code,
        headers=PRIVATE,
    )


class ApplyController(Controller):
    """Start an application from a challenge page."""

    path = "/challenges/{slug:str}/apply"
    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/", name="apply")
    async def choose(self, request: Req, slug: FromPath[str]) -> Template:
        """Which organization applies (or how to register one)."""
        challenge = await challenge_by_slug(slug)
        facts = await visible_facts(viewer_of(request), challenge["id"])
        user = viewer_of(request)
        organizations = await queries.applicant_organizations(user) if user else []
        return Template(
            "submissions/apply.html",
            context={
                "challenge": challenge,
                "organizations": organizations,
                "open": policies.can_apply(user, facts, utcnow()),
                "errors": {},
            },
        )

    @post("/", status_code=HTTP_200_OK)
    async def start(self, request: Req, slug: FromPath[str]) -> Response[Any]:
        """Open the organization's draft (the existing one if it has one) and go to it."""
        challenge = await challenge_by_slug(slug)
        values = await form_values(request)
        organization = values.get("organization", "")
        try:
            submission_id = await services.start_submission(
                viewer_of(request),
                challenge["id"],
                int(organization) if organization.isdecimal() else -1,
                now=utcnow(),
            )
        except InvalidInput as invalid:
            user = viewer_of(request)
            return Template(
                "submissions/apply.html",
                context={
                    "challenge": challenge,
                    "organizations": await queries.applicant_organizations(user) if user else [],
                    "open": True,
                    "errors": invalid.errors,
                },
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return redirect_after_post(request, f"/submissions/{submission_id}")


class DraftController(Controller):
    """The application itself: autosave, files, submit, receipt, withdraw, print."""

    path = "/submissions/{submission_id:int}"
    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/", name="submission")
    async def page(self, request: Req, submission_id: FromPath[int]) -> Template:
        """The draft, or the submitted application read-only once closed."""
        return await draft_page(request, submission_id, {})

    @post("/", status_code=HTTP_200_OK)
    async def save_all(self, request: Req, submission_id: FromPath[int]) -> Response[Any]:
        """Save every answer of the form at once (the path without JavaScript); stale ones are reported."""
        form = await request.form()
        user = viewer_of(request)
        now = utcnow()
        facts = await services.visible_submission(user, submission_id)
        services.refuse_unless_applicant(user, facts)
        view = await queries.draft_view(facts)
        errors: dict[str, str] = {}
        keys = [services.SUMMARY_KEY] + [
            str(field["id"]) for field in view["fields"] if field["kind"] != "file"
        ]
        try:
            for key in keys:
                if f"answer-{key}" in form or f"present-{key}[]" in form:
                    try:
                        await services.save_answer(
                            user, submission_id, key, answer_value(form, key), revision_of(form, key), now=now
                        )
                    except services.StaleEdit:
                        errors["summary" if key == services.SUMMARY_KEY else f"field-{key}"] = stale_message()
            if "team-present" in form:
                chosen = [
                    int(value)
                    for value in form.getall("team", [])
                    if isinstance(value, str) and value.isdecimal()
                ]
                await services.set_team(user, submission_id, chosen, now=now)
            for index, _condition in enumerate(view["challenge"]["eligibility"]):
                ticked = f"consent-{index}" in form
                if ticked != (index in view["consents"]):
                    await services.set_consent(
                        user, submission_id, index, ticked, client_address=client_address(request), now=now
                    )
        except InvalidInput as invalid:
            errors.update(invalid.errors)
        if errors:
            # 409 when the only problem is that someone else saved first; 422 for what the editor must fix.
            only_stale = all(message == stale_message() for message in errors.values())
            status = HTTP_409_CONFLICT if only_stale else HTTP_422_UNPROCESSABLE_ENTITY
            return await draft_page(request, submission_id, errors, status)
        if form.get("then") == "submit":
            return await self._submit(request, submission_id)
        flash(request, _("Saved."), "success")
        return redirect_after_post(request, f"/submissions/{submission_id}")

    @post("/answers/{key:str}", status_code=HTTP_200_OK)
    async def autosave(self, request: Req, submission_id: FromPath[int], key: FromPath[str]) -> Template:
        """Save one answer as it is typed (HTMX); 409 with the unsaved text when someone else saved first."""
        form = await request.form()
        value = answer_value(form, key)
        try:
            revision = await services.save_answer(
                viewer_of(request), submission_id, key, value, revision_of(form, key), now=utcnow()
            )
        except services.StaleEdit:
            return Template(
                "submissions/_stale.html",
                context={"key": key, "value": value},
                status_code=HTTP_409_CONFLICT,
                headers=PRIVATE,
            )
        except InvalidInput as invalid:
            return Template(
                "submissions/_closed.html",
                context={"message": invalid.errors.get("form", "")},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return Template(
            "submissions/_saved.html",
            context={"key": key, "revision": revision, "saved_at": utcnow()},
            headers=PRIVATE,
        )

    @post("/team", status_code=HTTP_200_OK)
    async def team(self, request: Req, submission_id: FromPath[int]) -> Response[Any]:
        """Choose who takes part."""
        form = await request.form()
        chosen = [
            int(value) for value in form.getall("team", []) if isinstance(value, str) and value.isdecimal()
        ]
        try:
            await services.set_team(viewer_of(request), submission_id, chosen, now=utcnow())
        except InvalidInput as invalid:
            return await draft_page(request, submission_id, invalid.errors, HTTP_422_UNPROCESSABLE_ENTITY)
        if wants_fragment(request):
            return Template(
                "submissions/_saved.html", context={"key": "team", "revision": None, "saved_at": utcnow()}
            )
        return redirect_after_post(request, f"/submissions/{submission_id}#team")

    @post("/consents/{index:int}", status_code=HTTP_200_OK)
    async def consent(
        self, request: Req, submission_id: FromPath[int], index: FromPath[int]
    ) -> Response[Any]:
        """Confirm (or un-confirm) one eligibility condition: the electronic replacement of a seal."""
        form = await request.form()
        try:
            await services.set_consent(
                viewer_of(request), submission_id, index, f"consent-{index}" in form,
                client_address=client_address(request), now=utcnow(),
            )  # fmt: skip
        except InvalidInput as invalid:
            return await draft_page(request, submission_id, invalid.errors, HTTP_422_UNPROCESSABLE_ENTITY)
        if wants_fragment(request):
            return Template(
                "submissions/_saved.html",
                context={"key": f"consent-{index}", "revision": None, "saved_at": utcnow()},
            )
        return redirect_after_post(request, f"/submissions/{submission_id}#eligibility")

    @post("/files/{field_id:int}", status_code=HTTP_200_OK, request_max_body_size=REQUEST_MAX_BODY_BYTES)
    async def upload(
        self,
        request: Req,
        submission_id: FromPath[int],
        field_id: FromPath[int],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        """Store the PDF sent as `file` (streamed to disk by the form parser, checked, then recorded)."""
        started_at = utcnow()
        form = await request.form()  # already parsed (and spooled to disk) by the CSRF check
        upload = uploaded_file(form, "file")
        try:
            await upload_submission_file(
                viewer_of(request), submission_id, field_id, upload, settings=settings, started_at=started_at
            )
        except InvalidInput as invalid:
            return await draft_page(request, submission_id, invalid.errors, HTTP_422_UNPROCESSABLE_ENTITY)
        finally:
            if upload is not None:
                await upload.close()
        flash(request, _("The file is uploaded."), "success")
        # A different address than the page's own: a redirect to the same URL plus a #fragment only scrolls.
        return redirect_after_post(
            request, f"/submissions/{submission_id}?uploaded={field_id}#field-{field_id}"
        )

    @post("/files/{file_id:int}/remove", status_code=HTTP_200_OK)
    async def remove_file(
        self, request: Req, submission_id: FromPath[int], file_id: FromPath[int]
    ) -> Response[Any]:
        """Take a file off the draft."""
        try:
            await remove_submission_file(viewer_of(request), submission_id, file_id, now=utcnow())
        except InvalidInput as invalid:
            # Someone who may see but not change it (the bureau, or after the deadline) was refused: a 422
            # page like the other draft actions, not a server error (the authorization matrix found the 500).
            return await draft_page(request, submission_id, invalid.errors, HTTP_422_UNPROCESSABLE_ENTITY)
        return redirect_after_post(request, f"/submissions/{submission_id}")

    @get("/files/{file_id:int}/{filename:str}", name="submission_file")
    async def download(
        self, request: Req, submission_id: FromPath[int], file_id: FromPath[int], filename: FromPath[str],
        settings: NamedDependency[Settings],
    ) -> File:  # fmt: skip
        """The file, as a download, for those who may see the application (never stored by shared caches)."""
        path, row = await file_to_serve(viewer_of(request), submission_id, file_id, settings)
        return File(
            path=path, filename=row["display_name"], media_type="application/pdf",
            content_disposition_type="attachment", headers={**PRIVATE, "X-Content-Type-Options": "nosniff"},
        )  # fmt: skip

    @post("/submit", status_code=HTTP_200_OK)
    async def submit(self, request: Req, submission_id: FromPath[int]) -> Response[Any]:
        """Check every rule, freeze a version and issue the receipt number."""
        return await self._submit(request, submission_id)

    async def _submit(self, request: Req, submission_id: int) -> Response[Any]:
        try:
            await submit_submission(viewer_of(request), submission_id, now=utcnow())
        except InvalidInput as invalid:
            return await draft_page(request, submission_id, invalid.errors, HTTP_422_UNPROCESSABLE_ENTITY)
        return redirect_after_post(request, f"/submissions/{submission_id}/receipt")

    @get("/receipt", name="submission_receipt")
    async def receipt(self, request: Req, submission_id: FromPath[int]) -> Template:
        """The receipt number and what was submitted."""
        return await version_page(request, submission_id, "submissions/receipt.html")

    @get("/print", name="submission_print")
    async def printable(self, request: Req, submission_id: FromPath[int]) -> Template:
        """A printable copy of the submitted version."""
        return await version_page(request, submission_id, "submissions/print.html")

    @post("/withdraw", status_code=HTTP_200_OK)
    async def withdraw(self, request: Req, submission_id: FromPath[int]) -> Response[Any]:
        """Withdraw, with a reason."""
        values = await form_values(request)
        try:
            await services.withdraw_submission(
                viewer_of(request), submission_id, values.get("reason", ""), now=utcnow()
            )
        except InvalidInput as invalid:
            return await draft_page(request, submission_id, invalid.errors, HTTP_422_UNPROCESSABLE_ENTITY)
        flash(request, _("Your application was withdrawn."), "success")
        return redirect_after_post(request, "/my/applications")


def stale_message() -> str:
    """What an editor reads when someone else saved first."""
    return _(
        "Someone else saved this answer after you opened the page. Reload to see it; your text is kept below."
    )


async def version_page(request: Req, submission_id: int, template: str) -> Template:
    """A page about the latest submitted version (404 before the first submit)."""
    facts = await services.visible_submission(viewer_of(request), submission_id)
    view = await queries.draft_view(facts)
    if view["latest"] is None:
        return await draft_page(request, submission_id, {})
    return Template(template, context={**view, "facts": facts}, headers=PRIVATE)


class MyApplicationsController(Controller):
    """A startup member's applications across challenges."""

    @get("/my/applications", guards=[signed_in], name="my_applications")
    async def index(self, request: Req) -> Template:
        """Status and next step of each application."""
        user = viewer_of(request)
        rows = await queries.my_applications(user) if user else []
        return Template(
            "submissions/mine.html", context={"applications": rows, "now": utcnow()}, headers=PRIVATE
        )


CONTROLLERS = [ApplyController, DraftController, MyApplicationsController]
