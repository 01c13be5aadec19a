"""Pages of notifications: the bell, the list, message settings, unsubscribe links, and the admins' outbox."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_400_BAD_REQUEST

from app.accounts.viewer import Viewer, viewer_of
from app.clock import utcnow
from app.notifications import policies, services
from app.notifications.delivery import retry_failed
from app.notifications.messages import KINDS
from app.notifications.outbox_view import outbox_message, outbox_summary
from app.notifications.unsubscribe import read_unsubscribe_token
from app.settings import Settings
from app.web.flash import flash
from app.web.guards import signed_in
from app.web.htmx import page_or_fragment, redirect_after_post
from app.web.i18n import current_locale
from app.web.i18n import gettext as _

Req = Request[Any, Any, Any]
NO_STORE = {"Cache-Control": "no-store"}


def reader(request: Req) -> Viewer:
    """The signed-in user (the guard has checked)."""
    user = viewer_of(request)
    if user is None:
        raise NotAuthorizedException
    return user


class NotificationController(Controller):
    """The signed-in user's own notifications."""

    path = "/notifications"
    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/", name="notifications")
    async def index(
        self, request: Req, before: Annotated[int | None, QueryParameter(required=False)] = None
    ) -> Template:
        """Newest first, unread marked; older ones a page at a time."""
        user = reader(request)
        rows = await services.recent_notifications(user, current_locale.get(), before)
        more = len(rows) > services.PAGE_SIZE
        rows = rows[: services.PAGE_SIZE]
        return page_or_fragment(
            request,
            "notifications/list.html",
            "notifications/_items.html",
            {"notifications": rows, "older": rows[-1]["id"] if more else None},
        )

    @get("/bell", name="notification_bell")
    async def bell(self, request: Req) -> Template:
        """The unread count next to the menu link (polled by HTMX)."""
        count = await services.unread_count(reader(request))
        return Template("notifications/_bell.html", context={"unread": count}, headers=NO_STORE)

    @get("/{notification_id:int}", name="notification_open")
    async def open(self, request: Req, notification_id: FromPath[int]) -> Redirect:
        """Mark it read and go where it leads."""
        link = await services.open_notification(viewer_of(request), notification_id, now=utcnow())
        return Redirect(path=link)

    @post("/read", status_code=HTTP_200_OK)
    async def read_all(self, request: Req) -> Response[Any]:
        """Mark everything read."""
        await services.mark_all_read(reader(request), now=utcnow())
        return redirect_after_post(request, "/notifications")


class MessageSettingsController(Controller):
    """Which optional messages the user receives."""

    path = "/account/notifications"
    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/", name="message_settings")
    async def page(self, request: Req) -> Template:
        """Every message with a switch; required ones shown switched on and locked."""
        muted = await services.muted_kinds(reader(request).id)
        return Template(
            "notifications/settings.html",
            context={"kinds": list(KINDS.values()), "muted": muted},
        )

    @post("/", status_code=HTTP_200_OK)
    async def save(self, request: Req) -> Response[Any]:
        """Keep the ticked ones on."""
        form = await request.form()
        wanted = (
            {value for value in form.getall("kind") if isinstance(value, str)} if "kind" in form else set()
        )
        await services.choose_messages(reader(request).id, wanted, now=utcnow())
        flash(request, _("Your message settings are saved."), "success")
        return redirect_after_post(request, "/account/notifications")


class UnsubscribeController(Controller):
    """One-click unsubscribe from an email, without signing in (the signed token is the authority)."""

    path = "/notifications/unsubscribe"

    @get("/{token:str}", name="unsubscribe")
    async def confirm(
        self, request: Req, token: FromPath[str], settings: NamedDependency[Settings]
    ) -> Template:
        """Ask before muting (link checkers open every link in a message)."""
        found = read_unsubscribe_token(settings.secret_key, token)
        if found is None or found[1] not in KINDS:
            return Template(
                "notifications/unsubscribe_invalid.html", context={}, status_code=HTTP_400_BAD_REQUEST
            )
        return Template(
            "notifications/unsubscribe.html", context={"token": token, "kind": KINDS[found[1]], "done": False}
        )

    @post("/{token:str}", status_code=HTTP_200_OK)
    async def unsubscribe(
        self, request: Req, token: FromPath[str], settings: NamedDependency[Settings]
    ) -> Template:
        """Mute the message named in the token (RFC 8058 one-click POSTs land here too)."""
        found = read_unsubscribe_token(settings.secret_key, token)
        if found is None or not await services.mute(found[0], found[1], now=utcnow()):
            return Template(
                "notifications/unsubscribe_invalid.html", context={}, status_code=HTTP_400_BAD_REQUEST
            )
        return Template(
            "notifications/unsubscribe.html", context={"token": token, "kind": KINDS[found[1]], "done": True}
        )


class OutboxController(Controller):
    """Admins: every message, failures to retry, and what each message says."""

    path = "/admin/notifications"
    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/", name="outbox")
    async def index(
        self, request: Req, status: Annotated[str | None, QueryParameter(required=False)] = None
    ) -> Template:
        """Counts by state, and the latest messages (failures first when asked)."""
        if not policies.can_view_outbox(viewer_of(request)):
            raise NotFoundException
        return Template("notifications/outbox.html", context=await outbox_summary(status))

    @get("/{notification_id:int}", name="outbox_message")
    async def message(
        self, request: Req, notification_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Template:
        """One message as its recipient reads it."""
        if not policies.can_view_outbox(viewer_of(request)):
            raise NotFoundException
        return Template(
            "notifications/outbox_message.html", context=await outbox_message(settings, notification_id)
        )

    @post("/{notification_id:int}/retry", status_code=HTTP_200_OK)
    async def retry(self, request: Req, notification_id: FromPath[int]) -> Response[Any]:
        """Queue a failed message again."""
        if not policies.can_retry_delivery(viewer_of(request)):
            raise NotFoundException
        if await retry_failed(notification_id, utcnow()):
            flash(request, _("The message is queued again."), "success")
        return redirect_after_post(request, f"/admin/notifications/{notification_id}")


CONTROLLERS = [NotificationController, MessageSettingsController, UnsubscribeController, OutboxController]
