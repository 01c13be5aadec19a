"""The admins' audit page: the latest events and whether the whole chain still holds."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.response import Template

from app.accounts.viewer import viewer_of
from app.judging import policies
from app.judging.audit import verify_chain
from app.judging.tables import AuditEvent
from app.web.guards import signed_in

LISTED = 100


class AuditController(Controller):
    """/admin/audit: verify the chain and read the latest events."""

    path = "/admin/audit"
    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/", name="audit_trail")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        """The verification result and the latest events, newest first."""
        if not policies.can_view_audit_trail(viewer_of(request)):
            raise NotFoundException
        report = await verify_chain()
        events = await (
            AuditEvent.select(
                AuditEvent.sequence,
                AuditEvent.action,
                AuditEvent.subject,
                AuditEvent.happened_at,
                AuditEvent.hash,
                AuditEvent.actor.display_name.as_alias("actor_name"),
                AuditEvent.challenge.slug.as_alias("challenge_slug"),
            )
            .order_by(AuditEvent.sequence, ascending=False)
            .limit(LISTED)
            .run()
        )
        return Template(
            "judging/audit.html",
            context={"report": report, "events": events},
            headers={"Cache-Control": "private, no-store"},
        )


CONTROLLERS = [AuditController]
