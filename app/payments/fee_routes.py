"""Entry-fee and sponsorship pages: pay or waive a fee; sponsor an output and see what it raised."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK

from app.accounts.viewer import viewer_of
from app.clock import utcnow
from app.payments import entry_fees, sponsorship
from app.payments.pages import availability, with_errors
from app.payments.stripe_gateway import gateway_from_settings
from app.settings import Settings
from app.validation import InvalidInput
from app.web.flash import flash
from app.web.forms import form_values
from app.web.guards import signed_in
from app.web.htmx import page_or_fragment, redirect_after_post
from app.web.i18n import gettext as _

Req = Request[Any, Any, Any]


class EntryFeeController(Controller):
    """An applicant pays (or waives) their challenge's entry fee."""

    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/payments/entry/{submission_id:int}", name="entry_fee")
    async def show(
        self, request: Req, submission_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Template:
        """The fee, whether it is settled, and the ways to settle it."""
        context = await entry_fees.fee_context(viewer_of(request), submission_id)
        return Template(
            "payments/entry_fee.html", context={**context, "errors": {}, **availability(settings)}
        )

    @post("/payments/entry/{submission_id:int}/pay", status_code=HTTP_200_OK)
    async def pay(
        self, request: Req, submission_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Template | Response[Any]:
        """Start the fee payment and go to the card page."""
        user = viewer_of(request)
        gateway = gateway_from_settings(settings)
        try:
            payment_id = await entry_fees.start_entry_fee_payment(user, submission_id, gateway, now=utcnow())
        except InvalidInput as invalid:
            context = await entry_fees.fee_context(user, submission_id)
            return with_errors(
                "payments/entry_fee.html", {**context, **availability(settings)}, invalid.errors
            )
        finally:
            if gateway is not None:
                await gateway.close()
        return redirect_after_post(request, f"/payments/{payment_id}/pay")

    @post("/payments/entry/{submission_id:int}/waiver", status_code=HTTP_200_OK)
    async def waive(
        self, request: Req, submission_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Template | Response[Any]:
        """Use a waiver code instead of paying."""
        user = viewer_of(request)
        values = await form_values(request)
        try:
            await entry_fees.use_waiver(user, submission_id, values.get("code", ""), now=utcnow())
        except InvalidInput as invalid:
            context = await entry_fees.fee_context(user, submission_id)
            return with_errors(
                "payments/entry_fee.html", {**context, **availability(settings)}, invalid.errors
            )
        flash(request, _("The waiver code is accepted: no entry fee is due."), "success")
        return redirect_after_post(request, f"/payments/entry/{submission_id}")


class SponsorshipController(Controller):
    """Sponsoring a catalogue output, and the total it raised (a fragment the output page loads)."""

    @get("/catalog/{slug:str}/sponsorship", name="output_sponsorship")
    async def show(self, request: Req, slug: FromPath[str], settings: NamedDependency[Settings]) -> Template:
        """Total raised, named sponsors, and the form to sponsor."""
        output = await sponsorship.published_output(slug)
        context = {
            "output": output,
            "total": await sponsorship.total_raised(output["id"]),
            "sponsors": await sponsorship.sponsors(output["id"]),
            "values": {"frequency": "once"},
            "errors": {},
            **availability(settings),
        }
        return page_or_fragment(request, "payments/sponsorship.html", "payments/_sponsorship.html", context)

    @post("/catalog/{slug:str}/sponsorship", guards=[signed_in], status_code=HTTP_200_OK)
    async def sponsor(
        self, request: Req, slug: FromPath[str], settings: NamedDependency[Settings]
    ) -> Template | Response[Any]:
        """Create the sponsorship payment and go to the card page."""
        values = await form_values(request)
        gateway = gateway_from_settings(settings)
        try:
            payment_id = await sponsorship.start_sponsorship(
                viewer_of(request), slug, values, gateway, now=utcnow()
            )
        except InvalidInput as invalid:
            output = await sponsorship.published_output(slug)
            context = {
                "output": output,
                "total": await sponsorship.total_raised(output["id"]),
                "sponsors": await sponsorship.sponsors(output["id"]),
                "values": values,
                **availability(settings),
            }
            return with_errors("payments/sponsorship.html", context, invalid.errors)
        finally:
            if gateway is not None:
                await gateway.close()
        return redirect_after_post(request, f"/payments/{payment_id}/pay")


CONTROLLERS = [EntryFeeController, SponsorshipController]
