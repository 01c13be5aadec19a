"""Pitch-day pages: the public event with its tickets, registration, set-up, attendees and check-in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK

from app.accounts.viewer import viewer_of
from app.clock import utcnow
from app.payments import entry_fees, pitch_days, policies, tickets
from app.payments.attendees import attendee_list
from app.payments.pages import availability, with_errors
from app.payments.stripe_gateway import gateway_from_settings
from app.payments.tables import EntryFee, FeeWaiver
from app.settings import Settings
from app.validation import InvalidInput
from app.web.flash import flash
from app.web.forms import form_values
from app.web.guards import signed_in
from app.web.htmx import redirect_after_post
from app.web.i18n import gettext as _

Req = Request[Any, Any, Any]


async def pitch_day_context(request: Req, slug: str, settings: NamedDependency[Settings]) -> dict[str, Any]:
    """Everything the pitch-day page shows (three or four queries)."""
    user = viewer_of(request)
    challenge = await pitch_days.challenge_for_pitch_day(user, slug)
    event = challenge["event"]
    types = await pitch_days.ticket_types_with_sales(event["id"], utcnow()) if event else []
    manager = policies.can_manage_pitch_day(user, challenge["bureau"])
    context: dict[str, Any] = {
        "challenge": challenge,
        "event": event,
        "ticket_types": types,
        "manager": manager,
        "values": {},
        "errors": {},
        **availability(settings),
    }
    if manager:
        context["entry_fee"] = (
            await EntryFee.select().where(EntryFee.challenge == challenge["id"]).first().run()
        )
        context["values"] = pitch_days.setup_values(event, context["entry_fee"])
        context["waivers"] = (
            await FeeWaiver.select(FeeWaiver.code, FeeWaiver.used_at)
            .where(FeeWaiver.challenge == challenge["id"])
            .order_by(FeeWaiver.id)
            .run()
        )
    return context


def typed(context: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """The page context with what was typed shown over the saved values (a refused form keeps its input)."""
    return {**context, "values": {**context["values"], **values}}


async def ticket_type_context(
    request: Req, slug: str, ticket_type_id: int, values: dict[str, str] | None = None
) -> dict[str, Any]:
    """The edit page of a ticket type: its saved (or typed) values and what was sold of it."""
    challenge, ticket_type = await pitch_days.managed_ticket_type(viewer_of(request), slug, ticket_type_id)
    issued = await pitch_days.issued_count(ticket_type_id)
    taken = (await pitch_days.seats_taken([ticket_type_id], utcnow())).get(ticket_type_id, 0)
    return {
        "challenge": challenge,
        "ticket_type": ticket_type,
        "issued": issued,
        "taken": taken,
        "values": {**pitch_days.ticket_type_values(ticket_type), **(values or {})},
        "errors": {},
    }


async def set_up_form_result(
    request: Req,
    slug: str,
    settings: Settings,
    save: Callable[[dict[str, str]], Awaitable[object]],
    saved_message: str,
) -> Template | Response[Any]:
    """Run one of the bureau's set-up forms: the page again with its errors, or back to it with a message."""
    values = await form_values(request)
    try:
        await save(values)
    except InvalidInput as invalid:
        context = await pitch_day_context(request, slug, settings)
        return with_errors("payments/pitch_day.html", typed(context, values), invalid.errors)
    flash(request, saved_message, "success")
    return redirect_after_post(request, f"/challenges/{slug}/pitch-day")


class PitchDayController(Controller):
    """The public pitch-day page and what the challenge's bureau does with it."""

    @get("/challenges/{slug:str}/pitch-day", name="pitch_day")
    async def show(self, request: Req, slug: FromPath[str], settings: NamedDependency[Settings]) -> Template:
        """The event, its ticket types with seats left, and the set-up forms for the bureau."""
        return Template("payments/pitch_day.html", context=await pitch_day_context(request, slug, settings))

    @post("/challenges/{slug:str}/pitch-day", guards=[signed_in], status_code=HTTP_200_OK)
    async def save(
        self, request: Req, slug: FromPath[str], settings: NamedDependency[Settings]
    ) -> Template | Response[Any]:
        """Create or change the event (the bureau)."""
        return await set_up_form_result(
            request,
            slug,
            settings,
            lambda values: pitch_days.save_pitch_day(viewer_of(request), slug, values, now=utcnow()),
            _("The pitch day is saved."),
        )

    @post("/challenges/{slug:str}/pitch-day/ticket-types", guards=[signed_in], status_code=HTTP_200_OK)
    async def add_type(
        self, request: Req, slug: FromPath[str], settings: NamedDependency[Settings]
    ) -> Template | Response[Any]:
        """Add a ticket type (the bureau)."""
        return await set_up_form_result(
            request,
            slug,
            settings,
            lambda values: pitch_days.add_ticket_type(viewer_of(request), slug, values),
            _("The ticket type is added."),
        )

    @get(
        "/challenges/{slug:str}/pitch-day/ticket-types/{type_id:int}",
        guards=[signed_in],
        name="pitch_day_ticket_type",
    )
    async def edit_type(self, request: Req, slug: FromPath[str], type_id: FromPath[int]) -> Template:
        """The edit form of a ticket type, filled with what is saved (the bureau)."""
        context = await ticket_type_context(request, slug, type_id)
        return Template("payments/ticket_type.html", context=context)

    @post(
        "/challenges/{slug:str}/pitch-day/ticket-types/{type_id:int}",
        guards=[signed_in],
        status_code=HTTP_200_OK,
    )
    async def update_type(
        self, request: Req, slug: FromPath[str], type_id: FromPath[int]
    ) -> Template | Response[Any]:
        """Change a ticket type within what its sales allow (the bureau); nothing saved when refused."""
        values = await form_values(request)
        try:
            await pitch_days.update_ticket_type(viewer_of(request), slug, type_id, values, now=utcnow())
        except InvalidInput as invalid:
            context = await ticket_type_context(request, slug, type_id, values)
            return with_errors("payments/ticket_type.html", context, invalid.errors)
        flash(request, _("The ticket type is saved."), "success")
        return redirect_after_post(request, f"/challenges/{slug}/pitch-day")

    @post(
        "/challenges/{slug:str}/pitch-day/ticket-types/{type_id:int}/delete",
        guards=[signed_in],
        status_code=HTTP_200_OK,
    )
    async def remove_type(
        self, request: Req, slug: FromPath[str], type_id: FromPath[int]
    ) -> Template | Response[Any]:
        """Remove a ticket type nobody holds a ticket of (the bureau)."""
        try:
            await pitch_days.remove_ticket_type(viewer_of(request), slug, type_id)
        except InvalidInput as invalid:
            context = await ticket_type_context(request, slug, type_id)
            return with_errors("payments/ticket_type.html", context, invalid.errors)
        flash(request, _("The ticket type is removed."), "success")
        return redirect_after_post(request, f"/challenges/{slug}/pitch-day")

    @post("/challenges/{slug:str}/pitch-day/register", guards=[signed_in], status_code=HTTP_200_OK)
    async def register(
        self, request: Req, slug: FromPath[str], settings: NamedDependency[Settings]
    ) -> Template | Response[Any]:
        """Take a ticket: a free one is valid at once; a paid one goes to the card page."""
        values = await form_values(request)
        type_id = values.get("ticket_type", "")
        gateway = gateway_from_settings(settings)
        try:
            if not type_id.isdigit():
                raise InvalidInput({"ticket_type": _("Choose a ticket.")})
            ticket = await tickets.register_for_pitch_day(
                viewer_of(request), int(type_id), gateway, now=utcnow()
            )
        except InvalidInput as invalid:
            context = await pitch_day_context(request, slug, settings)
            return with_errors("payments/pitch_day.html", context, invalid.errors)
        finally:
            if gateway is not None:
                await gateway.close()
        if ticket["payment"] is not None:
            return redirect_after_post(request, f"/payments/{ticket['payment']}/pay")
        flash(request, _("You are registered. Show this code at the entrance."), "success")
        return redirect_after_post(request, f"/tickets/{ticket['id']}")

    @post("/challenges/{slug:str}/entry-fee", guards=[signed_in], status_code=HTTP_200_OK)
    async def set_fee(
        self, request: Req, slug: FromPath[str], settings: NamedDependency[Settings]
    ) -> Template | Response[Any]:
        """Set the challenge's entry fee and issue waiver codes (the bureau)."""
        return await set_up_form_result(
            request,
            slug,
            settings,
            lambda values: entry_fees.set_entry_fee(viewer_of(request), slug, values, now=utcnow()),
            _("The entry fee is saved."),
        )


class AttendeeController(Controller):
    """The bureau's attendee list, check-in at the door, and a holder's ticket."""

    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/challenges/{slug:str}/pitch-day/attendees", name="pitch_day_attendees")
    async def attendees(self, request: Req, slug: FromPath[str]) -> Template:
        """Everyone registered, with payment and check-in state (one query)."""
        user = viewer_of(request)
        challenge = await pitch_days.challenge_for_pitch_day(user, slug)
        if challenge["event"] is None or not policies.can_view_attendees(user, challenge["bureau"]):
            raise NotFoundException
        rows = await attendee_list(challenge["event"]["id"])
        return Template(
            "payments/attendees.html",
            context={"challenge": challenge, "attendees": rows, "errors": {}, "checked": None},
        )

    @post("/challenges/{slug:str}/pitch-day/check-in", status_code=HTTP_200_OK)
    async def check_in(self, request: Req, slug: FromPath[str]) -> Template:
        """Check a ticket code in; the list shows the result."""
        user = viewer_of(request)
        challenge = await pitch_days.challenge_for_pitch_day(user, slug)
        if challenge["event"] is None:
            raise NotFoundException
        values = await form_values(request)
        errors: dict[str, str] = {}
        checked = None
        try:
            checked = await tickets.check_in(
                user, challenge["event"]["id"], challenge["bureau"], values.get("code", ""), now=utcnow()
            )
        except InvalidInput as invalid:
            errors = invalid.errors
        rows = await attendee_list(challenge["event"]["id"])
        context = {"challenge": challenge, "attendees": rows, "errors": errors, "checked": checked}
        return Template("payments/attendees.html", context=context, status_code=422 if errors else 200)

    @get("/tickets/{ticket_id:int}", name="ticket")
    async def ticket(self, request: Req, ticket_id: FromPath[int]) -> Template:
        """The holder's ticket with its code (once valid)."""
        row = await tickets.visible_ticket(viewer_of(request), ticket_id)
        return Template("payments/ticket.html", context={"ticket": row})


CONTROLLERS = [PitchDayController, AttendeeController]
