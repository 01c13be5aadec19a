"""Loading what catalogue policies need: an entry's facts, and the municipalities a user acts for."""

from __future__ import annotations

from typing import Any

from litestar.exceptions import NotFoundException

from app.accounts.viewer import Viewer
from app.catalog import policies
from app.catalog.policies import OutputFacts
from app.catalog.tables import MunicipalityMember, Output


def facts_of(row: dict[str, Any]) -> OutputFacts:
    """OutputFacts from an Output row (with at least id, status, created_by, maintainer_organization)."""
    return OutputFacts(
        id=row["id"],
        status=row["status"],
        created_by=row["created_by"],
        maintainer_organization_id=row["maintainer_organization"],
    )


async def output_by_slug(user: Viewer | None, slug: str) -> tuple[dict[str, Any], OutputFacts]:
    """Every column of an entry the user may see, and its facts; 404 otherwise (drafts do not leak)."""
    row = await Output.select().where(Output.slug == slug).first().output(load_json=True).run()
    if row is None:
        raise NotFoundException
    facts = facts_of(row)
    if not policies.can_view_output(user, facts):
        raise NotFoundException
    return row, facts


async def member_municipalities(user: Viewer | None) -> frozenset[int]:
    """Ids of the municipalities the user acts for (empty for anonymous visitors)."""
    if user is None:
        return frozenset()
    rows = (
        await MunicipalityMember.select(MunicipalityMember.municipality)
        .where(MunicipalityMember.user == user.id)
        .run()
    )
    return frozenset(row["municipality"] for row in rows)
