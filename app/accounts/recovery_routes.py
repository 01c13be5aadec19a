"""Pages of email verification and password reset (the links arrive by email)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_400_BAD_REQUEST, HTTP_422_UNPROCESSABLE_ENTITY

from app.accounts import recovery
from app.accounts.routes import signed_in_viewer, start_session
from app.accounts.tables import User
from app.clock import utcnow
from app.settings import Settings
from app.validation import InvalidInput
from app.web.flash import flash
from app.web.forms import form_values
from app.web.guards import signed_in
from app.web.htmx import redirect_after_post
from app.web.i18n import gettext as _
from app.web.ratelimit import RateLimit

RESET_LIMIT = RateLimit(action="password-reset", attempts=5, window_seconds=3600)
RESEND_LIMIT = RateLimit(action="resend-verification", attempts=5, window_seconds=3600)
Req = Request[Any, Any, Any]


def unusable_link() -> Template:
    """The page for a forged, expired or used link (400: nothing to retry with this link)."""
    return Template("accounts/link_unusable.html", context={}, status_code=HTTP_400_BAD_REQUEST)


class EmailVerificationController(Controller):
    """Confirm an address from the emailed link; ask for another link."""

    @get("/account/verify/{token:str}", name="verify_email")
    async def verify(
        self, request: Req, token: FromPath[str], settings: NamedDependency[Settings]
    ) -> Template:
        """Mark the address verified and say so."""
        try:
            await recovery.verify_email(token, secret_key=settings.secret_key, now=utcnow())
        except recovery.LinkUnusable:
            return unusable_link()
        return Template("accounts/email_verified.html", context={})

    @post("/account/verify", guards=[signed_in], status_code=HTTP_200_OK)
    async def resend(self, request: Req, settings: NamedDependency[Settings]) -> Response[Any]:
        """Send a new confirmation link to the signed-in user's address."""
        await RESEND_LIMIT.check(request.app.stores.get("rate_limit"), request)
        user = signed_in_viewer(request)
        async with User._meta.db.transaction():
            await recovery.queue_verification(
                user.id, user.email, secret_key=settings.secret_key, now=utcnow()
            )
        flash(request, _("We sent a new confirmation link to {email}.").format(email=user.email), "success")
        return redirect_after_post(request, "/account")


class PasswordResetController(Controller):
    """Forgotten password: ask for a link, then choose a new password."""

    @get("/password/forgot", name="password_forgot")
    async def forgot_page(self, request: Req) -> Template:
        """The form asking for the account's address."""
        return Template("accounts/password_forgot.html", context={"values": {}, "errors": {}, "sent": False})

    @post("/password/forgot", status_code=HTTP_200_OK)
    async def forgot(self, request: Req, settings: NamedDependency[Settings]) -> Template:
        """Send a link if the account exists; the answer is the same either way."""
        await RESET_LIMIT.check(request.app.stores.get("rate_limit"), request)
        values = await form_values(request)
        email = values.get("email", "").strip()
        if "@" not in email:
            errors = {"email": _("Enter an email address such as name@example.jp.")}
            return Template(
                "accounts/password_forgot.html",
                context={"values": values, "errors": errors, "sent": False},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )
        await recovery.request_password_reset(email, secret_key=settings.secret_key, now=utcnow())
        return Template(
            "accounts/password_forgot.html", context={"values": values, "errors": {}, "sent": True}
        )

    @get("/password/reset/{token:str}", name="password_reset")
    async def reset_page(
        self, request: Req, token: FromPath[str], settings: NamedDependency[Settings]
    ) -> Template:
        """The new-password form, if the link still works."""
        try:
            user = await recovery.reset_user(token, secret_key=settings.secret_key)
        except recovery.LinkUnusable:
            return unusable_link()
        return Template(
            "accounts/password_reset.html", context={"token": token, "email": user["email"], "errors": {}}
        )

    @post("/password/reset/{token:str}", status_code=HTTP_200_OK)
    async def reset(
        self, request: Req, token: FromPath[str], settings: NamedDependency[Settings]
    ) -> Template | Redirect | ClientRedirect:
        """Set the new password and sign in."""
        values = await form_values(request)
        try:
            user_id = await recovery.reset_password(
                token, values.get("password", ""), secret_key=settings.secret_key, now=utcnow()
            )
        except recovery.LinkUnusable:
            return unusable_link()
        except InvalidInput as invalid:
            user = await recovery.reset_user(token, secret_key=settings.secret_key)
            return Template(
                "accounts/password_reset.html",
                context={"token": token, "email": user["email"], "errors": invalid.errors},
                status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            )
        start_session(request, user_id)
        flash(request, _("Your password was changed. You are signed in."), "success")
        return redirect_after_post(request, "/account")


CONTROLLERS = [EmailVerificationController, PasswordResetController]
