"""Payment pages: enter a card (Stripe.js), watch it complete, the receipt (領収書), refunds, cancelling."""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_303_SEE_OTHER, HTTP_422_UNPROCESSABLE_ENTITY

from app.accounts.viewer import viewer_of
from app.clock import utcnow
from app.payments import checkout, policies, refunds, sponsorship
from app.payments.gateway import GatewayUnavailable
from app.payments.pages import availability, payment_page_csp
from app.payments.receipts import amount_paid, receipt_number
from app.payments.records import open_gateway, visible_payment
from app.payments.states import tax_included
from app.payments.tables import Ticket
from app.settings import Settings
from app.validation import InvalidInput
from app.web.flash import flash
from app.web.forms import form_values
from app.web.guards import signed_in
from app.web.htmx import page_or_fragment, redirect_after_post
from app.web.i18n import gettext as _

Req = Request[Any, Any, Any]


def wants_json(request: Req) -> bool:
    """The card script asks for JSON; a plain form post gets a redirect or a page."""
    return "application/json" in request.headers.get("accept", "")


def unavailable() -> InvalidInput:
    """The error shown when Stripe is not configured or unreachable."""
    return InvalidInput({"card": _("Card payments are unavailable at the moment.")})


class CheckoutController(Controller):
    """The payer's pages of one payment."""

    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/payments/{payment_id:int}/pay", name="payment_pay")
    async def pay_page(
        self, request: Req, payment_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Response[Any]:
        """The card form; Stripe.js is allowed by this page's CSP only."""
        user = viewer_of(request)
        row, facts = await visible_payment(user, payment_id)
        if not policies.can_pay(user, facts):
            return redirect_to_status(payment_id)
        context = {"payment": row, "errors": {}, **availability(settings)}
        return Template(
            "payments/pay.html",
            context=context,
            headers={"Content-Security-Policy": payment_page_csp(settings)},
        )

    @post("/payments/{payment_id:int}/card", status_code=HTTP_200_OK)
    async def card(
        self, request: Req, payment_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Response[Any]:
        """Pay with the card token Stripe.js made; JSON for the script, a redirect or the form otherwise."""
        user = viewer_of(request)
        values = await form_values(request)
        row, facts = await visible_payment(user, payment_id)
        if not policies.is_payer(user, facts):
            raise PermissionDeniedException(_("Only the person this payment is for can pay it."))
        try:
            async with open_gateway(settings) as gateway:
                if row["monthly"]:
                    await sponsorship.subscribe_with_card(
                        user, payment_id, values.get("token", ""), gateway, now=utcnow()
                    )
                    status, secret = "processing", ""
                else:
                    intent = await checkout.pay_with_card(
                        user, payment_id, values.get("token", ""), gateway, now=utcnow()
                    )
                    status, secret = intent.status, intent.client_secret
        except GatewayUnavailable:
            return self.refused(request, row, settings, unavailable())
        except InvalidInput as invalid:
            return self.refused(request, row, settings, invalid)
        next_url = f"/payments/{payment_id}"
        if wants_json(request):
            payload = {"status": status, "next": next_url}
            if status == "requires_action":
                payload["client_secret"] = secret
            return Response(payload, media_type=MediaType.JSON)
        return redirect_after_post(request, next_url)

    @staticmethod
    def refused(
        request: Req, row: dict[str, Any], settings: NamedDependency[Settings], invalid: InvalidInput
    ) -> Response[Any]:
        """The reason, as JSON for the script or on the card form again."""
        if wants_json(request):
            message = next(iter(invalid.errors.values()))
            return Response(
                {"error": message}, status_code=HTTP_422_UNPROCESSABLE_ENTITY, media_type=MediaType.JSON
            )
        context = {"payment": row, "errors": invalid.errors, **availability(settings)}
        return Template(
            "payments/pay.html",
            context=context,
            status_code=HTTP_422_UNPROCESSABLE_ENTITY,
            headers={"Content-Security-Policy": payment_page_csp(settings)},
        )

    @get("/payments/{payment_id:int}", name="payment_status")
    async def status(
        self, request: Req, payment_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Template:
        """ "Processing" until the webhook arrives (the fragment polls); never trusts the redirect alone."""
        user = viewer_of(request)
        row, facts = await visible_payment(user, payment_id)
        ticket = await (
            Ticket.select(Ticket.id, Ticket.code, Ticket.status)
            .where(Ticket.payment == payment_id)
            .first()
            .run()
        )
        context = {
            "payment": row,
            "ticket": ticket,
            # Only a payment Stripe is working on can change by itself: the page polls just then.
            "final": row["status"] != "processing",
            "can_retry": policies.can_pay(user, facts) and row["status"] in {"created", "failed"},
            "can_cancel": policies.can_cancel_sponsorship(user, facts),
            **availability(settings),
        }
        return page_or_fragment(request, "payments/status.html", "payments/_status.html", context)

    @get("/payments/{payment_id:int}/receipt", name="payment_receipt")
    async def receipt(
        self, request: Req, payment_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Template:
        """領収書: operator (from settings), amount, tax, date and purpose; printable."""
        user = viewer_of(request)
        row, facts = await visible_payment(user, payment_id)
        if not policies.can_view_receipt(user, facts):
            raise NotFoundException
        paid = amount_paid(row)
        context = {
            "payment": row,
            "receipt_number": receipt_number(payment_id),
            "paid": paid,
            "tax": tax_included(paid),
            "operator": settings.receipt_operator_name,
            "operator_address": settings.receipt_operator_address,
            "registration_number": settings.receipt_registration_number,
        }
        return Template("payments/receipt.html", context=context)

    @post("/payments/{payment_id:int}/refund", status_code=HTTP_200_OK)
    async def refund(
        self, request: Req, payment_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Response[Any]:
        """Refund all or part (officials of the bureau; admins for sponsorships)."""
        values = await form_values(request)
        user = viewer_of(request)
        _row, facts = await visible_payment(user, payment_id)
        # Refused before the gateway is asked for: without Stripe, everyone would be told it is unavailable.
        if not policies.can_refund(user, facts):
            raise NotFoundException
        back = values.get("back", "")
        back = back if back.startswith("/") and not back.startswith("//") else f"/payments/{payment_id}"
        try:
            async with open_gateway(settings) as gateway:
                total = await refunds.refund_payment(user, payment_id, values, gateway, now=utcnow())
        except GatewayUnavailable:
            flash(request, _("Card payments are unavailable at the moment."), "error")
            return redirect_after_post(request, back)
        except InvalidInput as invalid:
            flash(request, next(iter(invalid.errors.values())), "error")
            return redirect_after_post(request, back)
        flash(
            request,
            _("Refunded. Total refunded for this payment: {amount} yen.").format(amount=f"{total:,}"),
            "success",
        )
        return redirect_after_post(request, back)

    @post("/payments/{payment_id:int}/cancel", status_code=HTTP_200_OK)
    async def cancel(
        self, request: Req, payment_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Response[Any]:
        """Stop a monthly sponsorship."""
        user = viewer_of(request)
        _row, facts = await visible_payment(user, payment_id)
        if not policies.can_cancel_sponsorship(user, facts):
            raise NotFoundException
        try:
            async with open_gateway(settings) as gateway:
                await sponsorship.cancel_sponsorship(user, payment_id, gateway)
        except GatewayUnavailable:
            flash(request, _("Card payments are unavailable at the moment."), "error")
            return redirect_after_post(request, f"/payments/{payment_id}")
        except InvalidInput as invalid:
            flash(request, next(iter(invalid.errors.values())), "error")
            return redirect_after_post(request, f"/payments/{payment_id}")
        flash(request, _("The monthly sponsorship is cancelled. Thank you for your support."), "success")
        return redirect_after_post(request, f"/payments/{payment_id}")


def redirect_to_status(payment_id: int) -> Response[Any]:
    """Nothing to pay: show where the payment stands."""
    return Redirect(path=f"/payments/{payment_id}", status_code=HTTP_303_SEE_OTHER)


CONTROLLERS = [CheckoutController]
